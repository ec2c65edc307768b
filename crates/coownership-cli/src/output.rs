//! Everything the tool writes: standard output (a closed or full one is an
//! error, never a panic), standard error, `--report` files, and the exit
//! statuses that say whether the database was changed.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use coownership_postgres::{ConstrainError, DbError, MigrateError, RollbackError, UninstallError};
use serde_json::json;

use crate::Fatal;

/// Writes to standard output; a closed or full one is an error, never a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        write!(stdout, $($arg)*).and_then(|()| stdout.flush())
    }};
}

/// `out!` with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, $($arg)*).and_then(|()| stdout.flush())
    }};
}

/// Writes a line to standard error, ignoring a closed one (there is nowhere
/// left to say anything).
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// What a failed database command says, and whether it changed the
/// database anyway (the error report's `database_changed`).
pub(crate) trait CommandError: std::fmt::Display {
    /// The message, with the command line's way out where there is one.
    fn message(&self) -> String {
        self.to_string()
    }

    /// Whether the database was changed although the command failed.
    fn database_changed(&self) -> bool {
        false
    }
}

impl CommandError for DbError {}
impl CommandError for RollbackError {}
impl CommandError for UninstallError {}

impl CommandError for MigrateError {
    fn message(&self) -> String {
        match self {
            MigrateError::EmptyLinks(_) => {
                format!("{self} (allow it with --allow-empty-links, if that is intended)")
            }
            MigrateError::WouldRemoveOwners { .. } => {
                format!("{self} (allow it with --allow-removing-owners, if that is intended)")
            }
            _ => self.to_string(),
        }
    }

    fn database_changed(&self) -> bool {
        MigrateError::database_changed(self)
    }
}

impl CommandError for ConstrainError {
    fn message(&self) -> String {
        match self {
            ConstrainError::MissingSchema(_) => format!("{self}, or name another with --schema"),
            _ => self.to_string(),
        }
    }
}

/// Exit status when the database was changed but the summary or the report
/// could not be written (a closed or full standard output, an unwritable
/// report file): the change stands, and the message on standard error says so.
pub(crate) const COMMITTED_BUT_UNREPORTED: u8 = 3;

/// Where a database command's results go: the summary to standard output,
/// and with `--report` the JSON to a file that is opened (created) before the
/// command changes anything, so that an unwritable path fails first.
pub(crate) struct Results {
    report: Option<(PathBuf, File, bool)>,
}

impl Results {
    /// Opens (creates) the report file, if any, before anything changes.
    pub(crate) fn open(report: Option<PathBuf>) -> Result<Self, Fatal> {
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
    pub(crate) fn report<T, E: CommandError>(
        self,
        outcome: Result<T, E>,
        render: impl FnOnce(T) -> (String, serde_json::Value, bool, ExitCode),
    ) -> Result<ExitCode, Fatal> {
        match outcome {
            Ok(value) => {
                let (summary, json, committed, code) = render(value);
                self.finish(&summary, &json, committed, code)
            }
            Err(e) => {
                let message = e.message();
                self.write_error(&message, e.database_changed());
                Err(Fatal(message))
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
                note!(
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
        json: &serde_json::Value,
        committed: bool,
        code: ExitCode,
    ) -> Result<ExitCode, Fatal> {
        let mut failed = Vec::new();
        if let Err(e) = out!("{summary}") {
            failed.push(format!("the summary (standard output: {e})"));
        }
        if let Some((path, mut file, _)) = self.report {
            let text = serde_json::to_string_pretty(json).unwrap_or_default() + "\n";
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
pub(crate) fn with_results(
    report: Option<PathBuf>,
    run: impl FnOnce(Results) -> Result<ExitCode, Fatal>,
) -> Result<ExitCode, Fatal> {
    run(Results::open(report)?)
}

/// The migration's progress bar on standard error: hidden with `--quiet`
/// or when standard error is not a terminal.
pub(crate) fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
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
