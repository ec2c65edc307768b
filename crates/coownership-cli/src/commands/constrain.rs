//! `coownership constrain`: the shipped functions and one CHECK constraint.

use std::path::PathBuf;
use std::process::ExitCode;

use coownership_postgres::ConstrainOptions;

use crate::args::{parse_duration, ConstrainRulesArg, Database};
use crate::output::{with_results, Results};
use crate::Fatal;

/// The arguments of `coownership constrain`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) database: Database,
    /// The products table (may be schema-qualified).
    #[arg(long, default_value = "client_products")]
    pub(crate) products_table: String,
    /// The rules the constraint enforces.
    #[arg(long, value_enum, default_value_t = ConstrainRulesArg::Strict)]
    pub(crate) rules: ConstrainRulesArg,
    /// The schema the shipped functions are installed into and called
    /// from (it must exist).
    #[arg(long, default_value = coownership::sql::DEFAULT_SCHEMA)]
    pub(crate) schema: String,
    /// Check and report, change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Also drop the seed's own ownership constraints, so that the table
    /// ends with exactly one rule.
    #[arg(long)]
    pub(crate) replace_legacy: bool,
    /// How long to wait for a table lock: seconds (`10`), or with a unit
    /// (`500ms`, `2s`, `1min`).
    #[arg(long, default_value = "10", value_parser = parse_duration)]
    pub(crate) lock_timeout: std::time::Duration,
    /// Also write the summary as JSON to this file.
    #[arg(long)]
    pub(crate) report: Option<PathBuf>,
}

/// Runs `constrain`; exit status 1 when rows break the rules or the
/// constraint is left NOT VALID.
pub(crate) fn run(args: Args) -> Result<ExitCode, Fatal> {
    let options = ConstrainOptions {
        rules: args.rules.into(),
        products: args.products_table,
        schema: args.schema,
        dry_run: args.dry_run,
        replace_legacy: args.replace_legacy,
        lock_timeout: args.lock_timeout,
    };
    let config = args.database.config()?;
    with_results(args.report, |r| constrain_into(&config, &options, r))
}

fn constrain_into(
    config: &postgres::Config,
    options: &ConstrainOptions,
    results: Results,
) -> Result<ExitCode, Fatal> {
    results.report(
        coownership_postgres::constrain(config, options),
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
