//! `coownership verify`: every document reconciled with the links.

use std::path::PathBuf;
use std::process::ExitCode;

use coownership_postgres::MigrateOptions;

use crate::args::{DbArgs, PolicyArg, RulesArg};
use crate::output::{with_results, Results};
use crate::Fatal;

/// The arguments of `coownership verify`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// The split policy the migration used.
    #[arg(long, value_enum, default_value_t = PolicyArg::Balanced)]
    pub(crate) policy: PolicyArg,
    /// The rules every document must pass: seed (what the legacy CHECK
    /// accepts) or strict (any strict violation is a mismatch).
    #[arg(long, value_enum, default_value_t = RulesArg::Seed)]
    pub(crate) rules: RulesArg,
    /// Also write the summary as JSON to this file.
    #[arg(long)]
    pub(crate) report: Option<PathBuf>,
}

/// Runs `verify`.
pub(crate) fn run(args: Args) -> Result<ExitCode, Fatal> {
    let mut options = args.db.options(args.policy.into());
    options.verify_rules = args.rules.into();
    let config = args.db.config()?;
    with_results(args.report, |r| verify_into(&config, &options, r))
}

/// Verifies; the summary to `results`, exit status 1 on any mismatch.
pub(crate) fn verify_into(
    config: &postgres::Config,
    options: &MigrateOptions,
    results: Results,
) -> Result<ExitCode, Fatal> {
    results.report(coownership_postgres::verify(config, options), |summary| {
        let code = if summary.is_ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        };
        let committed = false;
        (summary.summary(), summary.to_json(), committed, code)
    })
}
