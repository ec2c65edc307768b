//! `coownership rollback`: restore what a migration replaced.

use std::path::PathBuf;
use std::process::ExitCode;

use coownership_postgres::RollbackOptions;

use crate::args::{parse_duration, Database};
use crate::output::{with_results, Results};
use crate::Fatal;

/// The arguments of `coownership rollback`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) database: Database,
    /// The backup table the migration named (schema.ownership_backup_…).
    #[arg(long)]
    pub(crate) backup: String,
    /// Restore even documents that changed since (their changes are lost).
    #[arg(long)]
    pub(crate) force: bool,
    /// How long to keep trying for the table locks (never queueing, never
    /// holding one while waiting for another) before giving up: seconds
    /// (`60`), or with a unit (`500ms`, `2s`, `1min`).
    #[arg(long, default_value = "60", value_parser = parse_duration)]
    pub(crate) lock_timeout: std::time::Duration,
    /// Check and report, change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Also write the summary as JSON to this file.
    #[arg(long)]
    pub(crate) report: Option<PathBuf>,
}

/// Runs `rollback`; exit status 1 when refused.
pub(crate) fn run(args: Args) -> Result<ExitCode, Fatal> {
    let options = RollbackOptions {
        force: args.force,
        dry_run: args.dry_run,
        lock_timeout: args.lock_timeout,
        ..RollbackOptions::new(args.backup)
    };
    let config = args.database.config()?;
    with_results(args.report, |r| rollback_into(&config, &options, r))
}

fn rollback_into(
    config: &postgres::Config,
    options: &RollbackOptions,
    results: Results,
) -> Result<ExitCode, Fatal> {
    results.report(coownership_postgres::rollback(config, options), |summary| {
        let code = if !summary.refused {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
        let committed = !summary.refused && !summary.dry_run;
        (summary.summary(), summary.to_json(), committed, code)
    })
}
