//! `coownership status`: where the database is in the lifecycle.

use std::process::ExitCode;

use coownership::split::SplitPolicy;

use crate::args::DbArgs;
use crate::Fatal;

/// The arguments of `coownership status`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// Print the report as JSON instead of the summary.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Runs `status`: the summary, or the report as JSON.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let options = args.db.options(SplitPolicy::Balanced);
    let config = args.db.config()?;
    let report = coownership_postgres::status(&config, &options)?;
    if args.json {
        outln!("{}", report.to_json())?;
    } else {
        out!("{}", report.summary())?;
    }
    Ok(ExitCode::SUCCESS)
}
