//! A throwaway PostgreSQL server for tests and demos.
//!
//! [`TempServer::start`] runs `initdb` and `pg_ctl` from the machine's server
//! binaries into a fresh temporary directory: unix socket only (no TCP
//! listener), trust authentication, `fsync` off. As root, the server runs as
//! the unprivileged `postgres` user (PostgreSQL refuses to run as root).
//! Start-up takes about a second.
//!
//! The server is torn down when the `TempServer` is dropped, and also when the
//! process that started it ends in any way (a panic, `abort`, a kill): a small
//! watchdog process stops the server and removes the directory then. So a
//! `TempServer` kept in a `static` for a whole test run is still cleaned up.
//!
//! The server binaries are the machine's (see [`TempServer::start`]), or
//! those of the directory named by `COOWNERSHIP_PG_BINDIR`, so the same tests
//! run on any PostgreSQL major (the CI runs them on 13 to 18). If
//! `DATABASE_URL` is set, no server is started and that server is used.
//!
//! ```no_run
//! use coownership_testkit::server::TempServer;
//!
//! let server = TempServer::start()?;
//! let mut client = server.create_database("example")?;
//! let n: i32 = client.query_one("SELECT 1", &[])?.get(0);
//! assert_eq!(n, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;

/// Why a throwaway server could not be had.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// No `initdb`/`pg_ctl` found (via `pg_config --bindir`, `PATH`, or
    /// `/usr/lib/postgresql/*/bin`).
    #[error("no PostgreSQL server binaries found (looked at `pg_config --bindir`, PATH and /usr/lib/postgresql/*/bin); install Debian's `postgresql` package or set DATABASE_URL")]
    NoServerBinaries,
    /// Running as root, but there is no unprivileged `postgres` user to run the server as.
    #[error("running as root and there is no `postgres` user to run the server as (Debian's postgresql package creates one)")]
    NoPostgresUser,
    /// A file-system or process error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `COOWNERSHIP_PG_BINDIR` names a directory without `initdb`, `pg_ctl` and `postgres`.
    #[error(
        "COOWNERSHIP_PG_BINDIR={0} holds no PostgreSQL server binaries (initdb, pg_ctl, postgres)"
    )]
    BadBindir(String),
    /// `initdb` or `pg_ctl` failed.
    #[error("{command} failed ({status}): {output}")]
    Command {
        /// The command.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed, and the server log if any.
        output: String,
    },
    /// Connecting or setting up a database failed.
    #[error("database error: {0}")]
    Database(#[from] postgres::Error),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let context = context.into();
    move |source| HarnessError::Io { context, source }
}

/// A running throwaway server (or the one `DATABASE_URL` names).
pub struct TempServer {
    config: postgres::Config,
    local: Option<Local>,
}

struct Local {
    dir: PathBuf,
    bindir: PathBuf,
    run_as: Option<(u32, u32)>,
    watchdog: Option<Child>,
}

impl TempServer {
    /// Starts a server (or uses `DATABASE_URL` when set), from the binaries in
    /// `COOWNERSHIP_PG_BINDIR` when set, else from the machine's: `pg_config
    /// --bindir`, then `PATH`, then the newest `/usr/lib/postgresql/*/bin`.
    pub fn start() -> Result<Self, HarnessError> {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            if !url.trim().is_empty() {
                let config = url.parse::<postgres::Config>()?;
                return Ok(TempServer {
                    config,
                    local: None,
                });
            }
        }
        let mut local = Local::prepare()?;
        // From here on, dropping `local` cleans up.
        local.start_watchdog()?;
        let data = local.dir.join("data");
        local.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "--no-sync".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
            ],
        )?;
        let options = format!(
            "-k {} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50",
            local.dir.display()
        );
        let log = local.dir.join("server.log");
        local.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-o".as_ref(),
                options.as_ref(),
                "start".as_ref(),
            ],
        )?;
        let mut config = postgres::Config::new();
        config
            .host_path(&local.dir)
            .port(5432)
            .user("postgres")
            .dbname("postgres");
        Ok(TempServer {
            config,
            local: Some(local),
        })
    }

    /// Whether this is a server started here (as opposed to `DATABASE_URL`).
    pub fn is_local(&self) -> bool {
        self.local.is_some()
    }

    /// Connection settings for the server's default database.
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// A libpq-style connection string for `dbname`, for other tools and
    /// child processes (`host=<socket dir> port=5432 user=postgres dbname=…`
    /// for a local server).
    pub fn connection_string(&self, dbname: &str) -> String {
        let mut parts = Vec::new();
        for host in self.config.get_hosts() {
            match host {
                postgres::config::Host::Tcp(h) => parts.push(format!("host={h}")),
                postgres::config::Host::Unix(p) => parts.push(format!("host={}", p.display())),
            }
        }
        if let Some(port) = self.config.get_ports().first() {
            parts.push(format!("port={port}"));
        }
        if let Some(user) = self.config.get_user() {
            parts.push(format!("user={user}"));
        }
        if let Some(pw) = self.config.get_password() {
            parts.push(format!("password={}", String::from_utf8_lossy(pw)));
        }
        parts.push(format!("dbname={dbname}"));
        parts.join(" ")
    }

    /// Connection settings for `dbname`.
    pub fn config_for(&self, dbname: &str) -> postgres::Config {
        let mut config = self.config.clone();
        config.dbname(dbname);
        config
    }

    /// Connects to `dbname`.
    pub fn connect(&self, dbname: &str) -> Result<postgres::Client, HarnessError> {
        Ok(self.config_for(dbname).connect(postgres::NoTls)?)
    }

    /// Creates a fresh, empty database `name` (dropping any old one) and connects to it.
    pub fn create_database(&self, name: &str) -> Result<postgres::Client, HarnessError> {
        let mut admin = self.config.connect(postgres::NoTls)?;
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))?;
        admin.batch_execute(&format!(
            "CREATE DATABASE {quoted} TEMPLATE template0 ENCODING 'UTF8'"
        ))?;
        self.connect(name)
    }
}

impl Drop for TempServer {
    fn drop(&mut self) {
        if let Some(mut local) = self.local.take() {
            local.stop();
        }
    }
}

impl Local {
    /// The server binaries to use, whom to run them as, and a fresh
    /// directory for the server (readable by that user).
    fn prepare() -> Result<Self, HarnessError> {
        let bindir = match std::env::var_os("COOWNERSHIP_PG_BINDIR") {
            Some(dir) if !dir.is_empty() => {
                let dir = PathBuf::from(dir);
                if !has_server(&dir) {
                    return Err(HarnessError::BadBindir(dir.display().to_string()));
                }
                dir
            }
            _ => find_bindir().ok_or(HarnessError::NoServerBinaries)?,
        };
        let run_as = if effective_uid() == Some(0) {
            Some(postgres_user().ok_or(HarnessError::NoPostgresUser)?)
        } else {
            None
        };
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        // The server user must be able to reach the directory: as root, use
        // /tmp rather than a TMPDIR that may sit under a private home.
        let base = if run_as.is_some() {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("coownership-pg-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).map_err(io(format!("creating {}", dir.display())))?;
        let local = Local {
            dir,
            bindir,
            run_as,
            watchdog: None,
        };
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&local.dir, Some(uid), Some(gid))
                .map_err(io(format!("chown {}", local.dir.display())))?;
        }
        Ok(local)
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bindir.join(program));
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        cmd.current_dir(&self.dir).stdin(Stdio::null());
        cmd
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<(), HarnessError> {
        let out = self
            .command(program)
            .args(args)
            .output()
            .map_err(io(format!(
                "running {}",
                self.bindir.join(program).display()
            )))?;
        if out.status.success() {
            return Ok(());
        }
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        Err(HarnessError::Command {
            command: program.to_owned(),
            status: out.status.to_string(),
            output: format!(
                "{}{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                log
            ),
        })
    }

    /// A process that outlives us just long enough to stop the server and
    /// remove the directory once this process is gone, however it ended.
    fn start_watchdog(&mut self) -> Result<(), HarnessError> {
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 0.2; done; \
             \"{pg_ctl}\" -D \"{dir}/data\" -m immediate stop >/dev/null 2>&1; rm -rf \"{dir}\"",
            pid = std::process::id(),
            pg_ctl = self.bindir.join("pg_ctl").display(),
            dir = self.dir.display(),
        );
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid);
        }
        self.watchdog = Some(cmd.spawn().map_err(io("starting the server watchdog"))?);
        Ok(())
    }

    fn stop(&mut self) {
        let data = self.dir.join("data");
        if data.join("postmaster.pid").exists() {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.stop();
    }
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file() && dir.join("postgres").is_file()
}

/// `pg_config --bindir`, then `PATH`, then the newest `/usr/lib/postgresql/*/bin`.
fn find_bindir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_server(d)) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            has_server(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

/// The effective uid, from `/proc/self/status` (no libc needed).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The uid and gid of the `postgres` user, from `/etc/passwd`.
fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&"postgres") && f.len() > 3)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}
