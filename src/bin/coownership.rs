//! The `coownership` command-line tool: a thin layer over the library.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use coownership::migrate::{ConstrainOptions, MigrateOptions, RollbackOptions, Tables};
use coownership::split::{equal_split, SplitPolicy};
use coownership::{Document, OwnerId, Rules};
use serde_json::json;

/// Writes to standard output; a closed or full one is an error, never a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        let mut stdout = io::stdout().lock();
        write!(stdout, $($arg)*).and_then(|()| stdout.flush())
    }};
}

/// `out!` with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {{
        let mut stdout = io::stdout().lock();
        writeln!(stdout, $($arg)*).and_then(|()| stdout.flush())
    }};
}

/// Writes a line to standard error, ignoring a closed one (there is nowhere
/// left to say anything).
macro_rules! note {
    ($($arg:tt)*) => {{
        let _ = writeln!(io::stderr(), $($arg)*);
    }};
}

#[derive(Parser)]
#[command(
    name = "coownership",
    version,
    about = "Validate, split and migrate product ownership documents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate JSON Lines documents (one per line; blank lines skipped).
    ///
    /// Prints one JSON line per document: {"line":N,"valid":true} or
    /// {"line":N,"valid":false,"violations":[{"code":…,"key":…,"message":…}]}.
    /// Exit status: 0 when every document is valid, 1 when any is not, 2 on a
    /// usage or I/O error.
    Validate {
        /// The rule set.
        #[arg(long, value_enum, default_value_t = RulesArg::Strict)]
        rules: RulesArg,
        /// Input file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
    /// Split 100 % equally among N owners and print the canonical document.
    ///
    /// Owners default to 1..=N; with --owners, N may be omitted.
    Split {
        /// The number of owners (1..=10000).
        n: Option<usize>,
        /// How the remainder is distributed.
        #[arg(long, value_enum, default_value_t = PolicyArg::Balanced)]
        policy: PolicyArg,
        /// The owner ids, in order (comma-separated).
        #[arg(long, value_delimiter = ',')]
        owners: Option<Vec<String>>,
    },
    /// Print the shipped SQL: the strict CHECK functions, then the ALTER TABLE
    /// that puts them on client_products.ownership_details (commented out).
    Sql {
        /// The schema the functions are installed into (it must exist; a
        /// plain lower-case name). Every name inside them is resolved without
        /// the search_path, so a restore and any caller get the same answers.
        #[arg(long, default_value = coownership::sql::DEFAULT_SCHEMA)]
        schema: String,
    },
    /// Migrate product_owner_products rows into client_products.ownership_details.
    ///
    /// One transaction (writers locked out while it runs); nothing is written
    /// on any error or with --dry-run. Exit status: 0 on success, 2 on any
    /// error (nothing written), 3 when the migration was committed but the
    /// summary or the report could not be written.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
        /// How 100 % is split among two or more owners.
        #[arg(long, value_enum, default_value_t = PolicyArg::Balanced)]
        policy: PolicyArg,
        /// Plan and count everything, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do not keep a backup of what the migration replaces (no rollback).
        #[arg(long)]
        no_backup: bool,
        /// Migrate even an empty link table (every product gets no owner).
        /// Without it, an empty link table is refused: it is usually the
        /// wrong table, or one already emptied after a migration.
        #[arg(long)]
        allow_empty_links: bool,
        /// Replace documents that name owners with no-owner ones (their
        /// products have no links left). Without it, that is refused and
        /// nothing is written.
        #[arg(long)]
        allow_removing_owners: bool,
        /// Also write the summary as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Install the shipped SQL functions and put one CHECK constraint on
    /// ownership_details.
    ///
    /// Counts the rows that break the rules first: if any, lists them and
    /// changes nothing (exit 1). Otherwise adds the constraint NOT VALID
    /// (a moment of ACCESS EXCLUSIVE) and validates it (SHARE UPDATE
    /// EXCLUSIVE: reads and writes go on). Exit status: 0 done, 1 rows break
    /// the rules, 2 on errors.
    Constrain {
        /// The database, as a URL (postgres://user@host/db) or key=value string.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// The products table (may be schema-qualified).
        #[arg(long, default_value = "client_products")]
        products_table: String,
        /// The rules the constraint enforces.
        #[arg(long, value_enum, default_value_t = ConstrainRulesArg::Strict)]
        rules: ConstrainRulesArg,
        /// The schema the shipped functions are installed into and called
        /// from (it must exist).
        #[arg(long, default_value = coownership::sql::DEFAULT_SCHEMA)]
        schema: String,
        /// Check and report, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also drop the seed's own ownership constraints, so that the table
        /// ends with exactly one rule.
        #[arg(long)]
        replace_legacy: bool,
        /// How long to wait for a table lock: seconds (`10`), or with a unit
        /// (`500ms`, `2s`, `1min`).
        #[arg(long, default_value = "10", value_parser = parse_duration)]
        lock_timeout: std::time::Duration,
        /// Also write the summary as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Restore what a migration replaced, from the backup it named.
    ///
    /// One transaction. Refuses, changing nothing, when documents changed
    /// after the migration (they are listed), unless --force. Exit status: 0
    /// restored (or, with --dry-run, restorable), 1 refused, 2 on errors.
    Rollback {
        /// The database, as a URL (postgres://user@host/db) or key=value string.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// The backup table the migration named (schema.ownership_backup_…).
        #[arg(long)]
        backup: String,
        /// Restore even documents that changed since (their changes are lost).
        #[arg(long)]
        force: bool,
        /// How long to keep trying for the table locks (never queueing, never
        /// holding one while waiting for another) before giving up: seconds
        /// (`60`), or with a unit (`500ms`, `2s`, `1min`).
        #[arg(long, default_value = "60", value_parser = parse_duration)]
        lock_timeout: std::time::Duration,
        /// Check and report, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also write the summary as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Reconcile every product's ownership_details with the link table.
    ///
    /// Exit status: 0 when everything reconciles, 1 when anything does not
    /// (the first mismatches are listed), 2 on errors.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// The split policy the migration used.
        #[arg(long, value_enum, default_value_t = PolicyArg::Balanced)]
        policy: PolicyArg,
        /// The rules every document must pass: seed (what the legacy CHECK
        /// accepts) or strict (any strict violation is a mismatch).
        #[arg(long, value_enum, default_value_t = RulesArg::Seed)]
        rules: RulesArg,
        /// Also write the summary as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Remove what constrain installed: the constraint, then the shipped
    /// functions, in one transaction.
    ///
    /// If anything else still uses the functions (another table's
    /// constraint, an index, a view), it refuses and changes nothing, naming
    /// them; --keep-functions drops the constraint only. Exit status: 0
    /// done (or, with --dry-run, possible), 1 refused, 2 on errors.
    Uninstall {
        /// The database, as a URL (postgres://user@host/db) or key=value string.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// The products table (may be schema-qualified).
        #[arg(long, default_value = "client_products")]
        products_table: String,
        /// Where the functions are, when no constraint says.
        #[arg(long, default_value = coownership::sql::DEFAULT_SCHEMA)]
        schema: String,
        /// Drop the constraint only.
        #[arg(long)]
        keep_functions: bool,
        /// Check and report, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// How long to keep trying for the table lock: seconds (`10`), or
        /// with a unit (`500ms`, `2s`, `1min`).
        #[arg(long, default_value = "10", value_parser = parse_duration)]
        lock_timeout: std::time::Duration,
        /// Also write the summary as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Drop a backup table migrate made, by name (status lists them).
    ///
    /// Refuses any table that is not such a backup. Exit status: 0 dropped,
    /// 2 on errors.
    DropBackup {
        /// The database, as a URL (postgres://user@host/db) or key=value string.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// The backup table (schema.ownership_backup_…).
        #[arg(long)]
        backup: String,
    },
    /// Where the database is in the lifecycle: the link table, the column,
    /// how many documents are valid, missing or invalid under each rule set,
    /// the constraints (VALID or NOT VALID), the shipped SQL's revision, the
    /// backups, the indexes. Changes nothing.
    ///
    /// Exit status: 0, or 2 on errors.
    Status {
        #[command(flatten)]
        db: DbArgs,
        /// Print the report as JSON instead of the summary.
        #[arg(long)]
        json: bool,
    },
    /// Start a throwaway PostgreSQL, create the legacy tables with synthetic
    /// products and run the whole lifecycle: migrate, verify, constrain, a
    /// bad write the constraint rejects, status, rollback, and a check that
    /// the original state is back. Tears the server down.
    Demo {
        /// How many products to create.
        #[arg(long, default_value_t = 100_000)]
        products: u64,
        /// The split policy.
        #[arg(long, value_enum, default_value_t = PolicyArg::Balanced)]
        policy: PolicyArg,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Apportion an amount among the owners of one ownership document.
    ///
    /// Prints [{"owner":ID,"amount":"…"},…] in owner order. Exit status: 1 if
    /// the document is invalid (violations on stderr), 2 on a usage error.
    Apportion {
        /// The amount, e.g. 1000.00 or -250 (a liability).
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// Decimal places of the currency's minor unit.
        #[arg(long, default_value_t = 2)]
        decimals: u32,
        /// The document; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct DbArgs {
    /// The database, as a URL (postgres://user@host/db) or key=value string.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The products table (may be schema-qualified).
    #[arg(long, default_value = "client_products")]
    products_table: String,
    /// The link table read by the migration.
    #[arg(long, default_value = "product_owner_products")]
    links_table: String,
    /// How long to keep trying for the table locks (never queueing, never
    /// holding one while waiting for another) before giving up: seconds
    /// (`60`), or with a unit (`500ms`, `2s`, `1min`).
    #[arg(long, default_value = "60", value_parser = parse_duration)]
    lock_timeout: std::time::Duration,
}

impl DbArgs {
    fn options(&self, policy: SplitPolicy) -> MigrateOptions {
        MigrateOptions {
            policy,
            tables: Tables {
                products: self.products_table.clone(),
                links: self.links_table.clone(),
            },
            lock_timeout: self.lock_timeout,
            ..MigrateOptions::default()
        }
    }

    fn config(&self) -> Result<postgres::Config, Fatal> {
        db_config(&self.database_url)
    }
}

/// A duration on the command line: whole seconds (`60`, what earlier
/// versions took), or a whole number with a unit: `ms`, `s` or `min`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: expected seconds (60) or a number with ms, s or min (500ms, 2s, 1min)"))?;
    let d = match unit {
        "" | "s" => std::time::Duration::from_secs(n),
        "ms" => std::time::Duration::from_millis(n),
        "min" => std::time::Duration::from_secs(n.saturating_mul(60)),
        _ => {
            return Err(format!(
                "invalid duration {text:?}: the unit must be ms, s or min (500ms, 2s, 1min)"
            ))
        }
    };
    Ok(d)
}

fn print_sql(schema: &str) -> Result<ExitCode, Fatal> {
    let functions = coownership::sql::functions(schema)?;
    let check = coownership::sql::check_constraint("client_products", schema)?;
    out!("{functions}\n-- To enforce the strict rules on the portal's table (or use coownership constrain):\n-- {check}\n")?;
    Ok(ExitCode::SUCCESS)
}

fn db_config(url: &str) -> Result<postgres::Config, Fatal> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| Fatal(format!("invalid --database-url: {e}")))?;
    config.application_name("coownership");
    Ok(config)
}

#[derive(Clone, Copy, ValueEnum)]
enum ConstrainRulesArg {
    /// ownership_is_valid_strict: the rule for new writes.
    Strict,
    /// ownership_is_valid_seed: the seed's legacy CHECK.
    Seed,
}

#[derive(Clone, Copy, ValueEnum)]
enum PolicyArg {
    Balanced,
    Seed,
}

impl From<PolicyArg> for SplitPolicy {
    fn from(p: PolicyArg) -> SplitPolicy {
        match p {
            PolicyArg::Balanced => SplitPolicy::Balanced,
            PolicyArg::Seed => SplitPolicy::Seed,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesArg {
    /// The rule for new writes.
    Strict,
    /// The seed's CHECK as PostgreSQL 13 to 17 evaluate it.
    Seed,
    /// The seed's CHECK as PostgreSQL 18 and later evaluate it.
    #[value(name = "seed-pg18")]
    SeedPg18,
}

impl From<RulesArg> for Rules {
    fn from(r: RulesArg) -> Rules {
        match r {
            RulesArg::Strict => Rules::Strict,
            RulesArg::Seed => Rules::Seed,
            RulesArg::SeedPg18 => Rules::SeedPg18,
        }
    }
}

/// A failure that ends the command with exit status 2.
struct Fatal(String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { rules, file } => validate(rules.into(), file),
        Command::Split { n, policy, owners } => split(n, policy.into(), owners),
        Command::Sql { schema } => print_sql(&schema),
        Command::Apportion {
            amount,
            decimals,
            file,
        } => apportion(&amount, decimals, file),
        Command::Migrate {
            db,
            policy,
            dry_run,
            no_backup,
            allow_empty_links,
            allow_removing_owners,
            report,
            quiet,
        } => {
            let mut options = db.options(policy.into());
            options.dry_run = dry_run;
            options.allow_empty_links = allow_empty_links;
            options.allow_removing_owners = allow_removing_owners;
            options.backup = !no_backup;
            db.config().and_then(|config| {
                with_results(report, |r| run_migrate(&config, &options, r, quiet))
            })
        }
        Command::Constrain {
            database_url,
            products_table,
            rules,
            schema,
            dry_run,
            replace_legacy,
            lock_timeout,
            report,
        } => {
            let options = ConstrainOptions {
                rules: match rules {
                    ConstrainRulesArg::Strict => Rules::Strict,
                    ConstrainRulesArg::Seed => Rules::Seed,
                },
                products: products_table,
                schema,
                dry_run,
                replace_legacy,
                lock_timeout,
            };
            db_config(&database_url)
                .and_then(|config| with_results(report, |r| run_constrain(&config, &options, r)))
        }
        Command::Rollback {
            database_url,
            backup,
            force,
            lock_timeout,
            dry_run,
            report,
        } => {
            let options = RollbackOptions {
                force,
                dry_run,
                lock_timeout,
                ..RollbackOptions::new(backup)
            };
            db_config(&database_url)
                .and_then(|config| with_results(report, |r| run_rollback(&config, &options, r)))
        }
        Command::Verify {
            db,
            policy,
            rules,
            report,
        } => {
            let mut options = db.options(policy.into());
            options.verify_rules = rules.into();
            db.config()
                .and_then(|config| with_results(report, |r| run_verify(&config, &options, r)))
        }
        Command::Uninstall {
            database_url,
            products_table,
            schema,
            keep_functions,
            dry_run,
            lock_timeout,
            report,
        } => {
            let options = coownership::migrate::UninstallOptions {
                products: products_table,
                schema,
                keep_functions,
                dry_run,
                lock_timeout,
            };
            db_config(&database_url).and_then(|config| {
                with_results(report, |r| {
                    r.report(
                        coownership::migrate::uninstall(&config, &options),
                        |summary| {
                            let code = if summary.refused {
                                ExitCode::from(1)
                            } else {
                                ExitCode::SUCCESS
                            };
                            let committed = !summary.refused && !summary.dry_run;
                            (summary.summary(), summary.to_json(), committed, code)
                        },
                    )
                })
            })
        }
        Command::DropBackup {
            database_url,
            backup,
        } => db_config(&database_url).and_then(|config| {
            let rows = coownership::migrate::drop_backup(&config, &backup)?;
            outln!("coownership drop-backup: dropped {backup} ({rows} rows)")?;
            Ok(ExitCode::SUCCESS)
        }),
        Command::Status { db, json } => {
            let options = db.options(SplitPolicy::Balanced);
            db.config().and_then(|config| {
                let report = coownership::migrate::status(&config, &options)?;
                if json {
                    outln!("{}", report.to_json())?;
                } else {
                    out!("{}", report.summary())?;
                }
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Demo {
            products,
            policy,
            quiet,
        } => demo(products, policy.into(), quiet),
    };
    match result {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            note!("coownership: {msg}");
            ExitCode::from(2)
        }
    }
}

fn open_input(file: Option<PathBuf>) -> Result<Box<dyn BufRead>, Fatal> {
    match file {
        None => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) => {
            let f =
                File::open(&p).map_err(|e| Fatal(format!("cannot open {}: {e}", p.display())))?;
            Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
        }
    }
}

fn validate(rules: Rules, file: Option<PathBuf>) -> Result<ExitCode, Fatal> {
    let mut input = open_input(file)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut any_invalid = false;
    let limit = coownership::Limits::DEFAULT.max_bytes;
    loop {
        line.clear();
        let (n, too_long) = read_line_bounded(&mut input, &mut line, limit)
            .map_err(|e| Fatal(format!("cannot read input: {e}")))?;
        if n == 0 {
            break;
        }
        number += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if !too_long && text.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let violations: Vec<serde_json::Value> = if too_long {
            vec![json!({
                "code": coownership::ViolationCode::DocumentTooLarge.as_str(),
                "key": "",
                "message": format!("the line is longer than {limit} bytes; it was not read further"),
            })]
        } else {
            document_violations(text, rules)
        };
        let result = if violations.is_empty() {
            json!({"line": number, "valid": true})
        } else {
            any_invalid = true;
            json!({"line": number, "valid": false, "violations": violations})
        };
        writeln!(out, "{result}")?;
    }
    out.flush()?;
    Ok(if any_invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads one line (up to and including its newline) into `line`, keeping at
/// most `limit` bytes of it: past that, the rest of the line is read and
/// dropped, so memory stays bounded whatever the input. Returns the bytes
/// consumed (0 at the end) and whether the line was too long.
fn read_line_bounded(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    limit: usize,
) -> io::Result<(usize, bool)> {
    let (mut consumed, mut too_long) = (0, false);
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok((consumed, too_long));
        }
        let (n, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        // The newline and a carriage return do not count against the limit.
        if !too_long && line.len() + n > limit + 2 {
            too_long = true;
            line.clear();
        }
        if !too_long {
            line.extend_from_slice(&buf[..n]);
        }
        input.consume(n);
        consumed += n;
        if done {
            return Ok((consumed, too_long));
        }
    }
}

/// Every violation of one document under `rules`, as the JSON the CLI prints.
fn document_violations(text: &[u8], rules: Rules) -> Vec<serde_json::Value> {
    match Document::from_slice(text) {
        Err(e) => vec![json!({"code": e.code(), "key": "", "message": e.to_string()})],
        Ok(doc) => match doc.validate(rules) {
            Ok(()) => Vec::new(),
            Err(vs) => vs
                .iter()
                .map(|v| json!({"code": v.code().as_str(), "key": v.key(), "message": v.message()}))
                .collect(),
        },
    }
}

fn split(
    n: Option<usize>,
    policy: SplitPolicy,
    owners: Option<Vec<String>>,
) -> Result<ExitCode, Fatal> {
    let owners: Vec<OwnerId> = match (n, owners) {
        (None, None) => return Err(Fatal("give the number of owners N, or --owners".into())),
        (Some(n), None) => {
            if n > coownership::split::MAX_SPLIT_OWNERS {
                return Err(Fatal(format!(
                    "cannot split among {n} owners: at most 10000"
                )));
            }
            (1..=n as i64)
                .map(|i| OwnerId::new(i).expect("positive"))
                .collect()
        }
        (n, Some(list)) => {
            let ids = list
                .iter()
                .map(|s| s.trim().parse::<OwnerId>())
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(n) = n.filter(|&n| n != ids.len()) {
                return Err(Fatal(format!(
                    "N is {n} but --owners lists {} owners",
                    ids.len()
                )));
            }
            ids
        }
    };
    let ownership = equal_split(&owners, policy)?;
    out!("{ownership}\n")?;
    Ok(ExitCode::SUCCESS)
}

fn apportion(amount: &str, decimals: u32, file: Option<PathBuf>) -> Result<ExitCode, Fatal> {
    let amount = coownership::apportion::parse_amount(amount)?;
    let mut text = Vec::new();
    open_input(file)?
        .read_to_end(&mut text)
        .map_err(|e| Fatal(format!("cannot read input: {e}")))?;
    let ownership = match Document::from_slice(&text).map(|d| d.to_ownership()) {
        Ok(Ok(o)) => o,
        Ok(Err(violations)) => {
            for v in &violations {
                note!("coownership: {v}");
            }
            return Ok(ExitCode::from(1));
        }
        Err(e) => {
            note!("coownership: {}: {e}", e.code());
            return Ok(ExitCode::from(1));
        }
    };
    let parts = coownership::apportion::apportion(amount, &ownership, decimals)?;
    // Written by hand: the documented member order is owner, then amount.
    let out: Vec<String> = parts
        .iter()
        .map(|(o, a)| format!(r#"{{"owner":{o},"amount":"{a}"}}"#))
        .collect();
    out!("[{}]\n", out.join(","))?;
    Ok(ExitCode::SUCCESS)
}

/// Exit status when the database was changed but the summary or the report
/// could not be written (a closed or full standard output, an unwritable
/// report file): the change stands, and the message on standard error says so.
const COMMITTED_BUT_UNREPORTED: u8 = 3;

/// Where a database command's results go: the summary to standard output,
/// and with `--report` the JSON to a file that is opened (created) before the
/// command changes anything, so that an unwritable path fails first.
struct Results {
    report: Option<(PathBuf, File, bool)>,
}

impl Results {
    fn open(report: Option<PathBuf>) -> Result<Self, Fatal> {
        let report = match report {
            None => None,
            Some(path) => {
                let existed = path.exists();
                let file = File::create(&path).map_err(|e| {
                    Fatal(format!("cannot write the report {}: {e}", path.display()))
                })?;
                Some((path, file, existed))
            }
        };
        Ok(Results { report })
    }

    /// Writes what a database command gave: on success the summary, JSON,
    /// whether the database was changed and the exit status that `render`
    /// makes of it; on failure, a report of the error, which says whether
    /// the database was changed (only when a first migration could not
    /// remove the column it added: `MigrateError::ColumnLeft`).
    fn report<T>(
        self,
        outcome: Result<T, coownership::migrate::MigrateError>,
        render: impl FnOnce(T) -> (String, serde_json::Value, bool, ExitCode),
    ) -> Result<ExitCode, Fatal> {
        match outcome {
            Ok(value) => {
                let (summary, json, committed, code) = render(value);
                self.finish(&summary, json, committed, code)
            }
            Err(e) => {
                let changed = matches!(e, coownership::migrate::MigrateError::ColumnLeft { .. });
                self.write_error(&e.to_string(), changed);
                Err(e.into())
            }
        }
    }

    /// The command failed: its report says so, and whether anything changed.
    fn write_error(self, message: &str, changed: bool) {
        if let Some((path, mut file, _)) = self.report {
            let json = json!({
                "error": message,
                "exit_status": 2,
                "database_changed": changed,
            });
            let text = serde_json::to_string_pretty(&json).unwrap_or_default() + "\n";
            if let Err(e) = file
                .write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
            {
                eprintln!(
                    "coownership: cannot write the report {}: {e}",
                    path.display()
                );
            }
        }
    }

    /// Writes the summary and the report. When they cannot be written:
    /// exit status 3 if `committed` (the database was changed), else 2.
    fn finish(
        self,
        summary: &str,
        json: serde_json::Value,
        committed: bool,
        code: ExitCode,
    ) -> Result<ExitCode, Fatal> {
        let mut failed = Vec::new();
        if let Err(e) = out!("{summary}") {
            failed.push(format!("the summary (standard output: {e})"));
        }
        if let Some((path, mut file, _)) = self.report {
            let text = serde_json::to_string_pretty(&json).unwrap_or_default() + "\n";
            if let Err(e) = file
                .write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
            {
                failed.push(format!("the report {} ({e})", path.display()));
            }
        }
        if failed.is_empty() {
            Ok(code)
        } else if committed {
            note!(
                "coownership: the changes were committed, but {} could not be written",
                failed.join(" and ")
            );
            Ok(ExitCode::from(COMMITTED_BUT_UNREPORTED))
        } else {
            Err(Fatal(format!("could not write {}", failed.join(" and "))))
        }
    }
}

/// Runs a database command with its results going to `report`.
fn with_results(
    report: Option<PathBuf>,
    run: impl FnOnce(Results) -> Result<ExitCode, Fatal>,
) -> Result<ExitCode, Fatal> {
    run(Results::open(report)?)
}

fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} planning {pos}/{len} products [{bar:40}] {per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

fn run_migrate(
    config: &postgres::Config,
    options: &MigrateOptions,
    results: Results,
    quiet: bool,
) -> Result<ExitCode, Fatal> {
    let bar = progress_bar(quiet);
    let mut writing = false;
    let result = coownership::migrate::migrate(config, options, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if done == total && total > 0 && !writing && !bar.is_hidden() {
            // Planning is done; the single UPDATE has no progress to show.
            writing = true;
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_message(format!(
                "all {total} products planned; writing their documents"
            ));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
    });
    bar.finish_and_clear();
    results.report(result, |summary| {
        let committed = !options.dry_run;
        (
            summary.summary(),
            summary.to_json(),
            committed,
            ExitCode::SUCCESS,
        )
    })
}

fn run_verify(
    config: &postgres::Config,
    options: &MigrateOptions,
    results: Results,
) -> Result<ExitCode, Fatal> {
    results.report(coownership::migrate::verify(config, options), |summary| {
        let code = if summary.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
        let committed = false;
        (summary.summary(), summary.to_json(), committed, code)
    })
}

fn run_constrain(
    config: &postgres::Config,
    options: &ConstrainOptions,
    results: Results,
) -> Result<ExitCode, Fatal> {
    results.report(
        coownership::migrate::constrain(config, options),
        |summary| {
            let code = if summary.violators.count == 0 && summary.not_validated.is_none() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            };
            // A NOT VALID constraint left in place is a change too.
            let committed = summary.constrained || summary.not_validated.is_some();
            (summary.summary(), summary.to_json(), committed, code)
        },
    )
}

fn run_rollback(
    config: &postgres::Config,
    options: &RollbackOptions,
    results: Results,
) -> Result<ExitCode, Fatal> {
    results.report(coownership::migrate::rollback(config, options), |summary| {
        let code = if !summary.refused {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
        let committed = !summary.refused && !summary.dry_run;
        (summary.summary(), summary.to_json(), committed, code)
    })
}

fn demo(products: u64, policy: SplitPolicy, quiet: bool) -> Result<ExitCode, Fatal> {
    use coownership::migrate::demo::{load, Synthetic};
    use coownership::pg::server::TempServer;

    note!("coownership demo: starting a throwaway PostgreSQL server");
    let server = TempServer::start()?;
    let mut client = server.create_database("ownership_demo")?;
    note!("coownership demo: creating the legacy tables with {products} synthetic products");
    let started = std::time::Instant::now();
    load(
        &mut client,
        Synthetic {
            products,
            anomalies: true,
        },
    )?;
    note!(
        "coownership demo: data loaded in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let options = MigrateOptions {
        policy,
        ..MigrateOptions::default()
    };
    let mut config = server.config_for("ownership_demo");
    config.application_name("coownership");
    let before = coownership::migrate::demo::checksum(&mut client, "client_products")?;

    note!("\ncoownership demo: 1. migrate");
    let bar = progress_bar(quiet);
    let migrated = coownership::migrate::migrate(&config, &options, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let migrated = migrated?;
    out!("{}", migrated.summary())?;

    note!("\ncoownership demo: 2. verify");
    let mut ok = run_verify(&config, &options, Results::open(None)?)? == ExitCode::SUCCESS;

    // The balanced policy's no-owner state (NULL) passes the strict rules;
    // the seed's no-owner document only passes the seed's.
    let rules = match policy {
        SplitPolicy::Balanced => Rules::Strict,
        SplitPolicy::Seed => Rules::Seed,
    };
    note!(
        "\ncoownership demo: 3. constrain --rules {}",
        rules.as_str()
    );
    let constrained = coownership::migrate::constrain(
        &config,
        &ConstrainOptions {
            rules,
            ..ConstrainOptions::default()
        },
    )?;
    out!("{}", constrained.summary())?;
    ok &= constrained.constrained;

    note!("\ncoownership demo: 4. a bad write, which the constraint rejects");
    let bad = r#"{"association_type":"tenants_in_common","1":50.00,"2":60.00}"#;
    outln!("UPDATE client_products SET ownership_details = '{bad}' WHERE id = 1")?;
    match client.execute(
        "UPDATE client_products SET ownership_details = $1::text::jsonb WHERE id = 1",
        &[&bad],
    ) {
        Ok(_) => {
            outln!("  accepted: the constraint did not hold")?;
            ok = false;
        }
        Err(e) => {
            let codes: Vec<String> = client
                .query_one(
                    "SELECT ownership_strict_violations($1::text::jsonb)",
                    &[&bad],
                )?
                .get(0);
            let said = e.as_db_error().map_or(e.to_string(), |d| {
                format!("{} {}", d.code().code(), d.message())
            });
            outln!("  rejected: {said}")?;
            outln!("  ownership_strict_violations: {codes:?}")?;
        }
    }

    note!("\ncoownership demo: 5. status");
    let status = coownership::migrate::status(&config, &options)?;
    out!("{}", status.summary())?;
    // Every document passes the rules the demo constrained with.
    let invalid = if constrained.rules == "strict" {
        status.invalid_strict
    } else {
        status.invalid_seed
    };
    ok &= invalid == 0 && status.constraints.iter().all(|c| c.valid);

    note!("\ncoownership demo: 6. rollback");
    let backup = migrated
        .backup
        .ok_or_else(|| Fatal("the migration kept no backup".into()))?;
    let undone = coownership::migrate::rollback(&config, &RollbackOptions::new(backup))?;
    out!("{}", undone.summary())?;
    ok &= !undone.refused;

    let after = coownership::migrate::demo::checksum(&mut client, "client_products")?;
    if before == after {
        outln!("coownership demo: the original state is back (checksum {after} before and after)")?;
    } else {
        outln!("coownership demo: the state differs after the rollback ({before} before, {after} after)")?;
        ok = false;
    }
    drop(client);
    drop(server);
    note!("coownership demo: server stopped and removed");
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
