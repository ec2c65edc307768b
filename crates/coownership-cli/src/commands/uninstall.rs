//! `coownership uninstall`: remove what `constrain` installed.

use std::path::PathBuf;
use std::process::ExitCode;

use coownership_postgres::UninstallOptions;

use crate::args::{parse_duration, Database};
use crate::output::with_results;
use crate::Fatal;

/// The arguments of `coownership uninstall`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) database: Database,
    /// The products table (may be schema-qualified).
    #[arg(long, default_value = "client_products")]
    pub(crate) products_table: String,
    /// Where the functions are, when no constraint says.
    #[arg(long, default_value = coownership::sql::DEFAULT_SCHEMA)]
    pub(crate) schema: String,
    /// Drop the constraint only.
    #[arg(long)]
    pub(crate) keep_functions: bool,
    /// Check and report, change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// How long to keep trying for the table lock: seconds (`10`), or
    /// with a unit (`500ms`, `2s`, `1min`).
    #[arg(long, default_value = "10", value_parser = parse_duration)]
    pub(crate) lock_timeout: std::time::Duration,
    /// Also write the summary as JSON to this file.
    #[arg(long)]
    pub(crate) report: Option<PathBuf>,
}

/// Runs `uninstall`; exit status 1 when refused.
pub(crate) fn run(args: Args) -> Result<ExitCode, Fatal> {
    let options = UninstallOptions {
        products: args.products_table,
        schema: args.schema,
        keep_functions: args.keep_functions,
        dry_run: args.dry_run,
        lock_timeout: args.lock_timeout,
    };
    let config = args.database.config()?;
    with_results(args.report, |r| {
        r.report(
            coownership_postgres::uninstall(&config, &options),
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
}
