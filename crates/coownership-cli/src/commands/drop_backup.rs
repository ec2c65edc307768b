//! `coownership drop-backup`: drop a backup table `migrate` kept.

use std::process::ExitCode;

use crate::args::Database;
use crate::Fatal;

/// The arguments of `coownership drop-backup`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) database: Database,
    /// The backup table (schema.ownership_backup_…).
    #[arg(long)]
    pub(crate) backup: String,
}

/// Runs `drop-backup`.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let config = args.database.config()?;
    let rows = coownership_postgres::drop_backup(&config, &args.backup)?;
    outln!(
        "coownership drop-backup: dropped {} ({rows} rows)",
        args.backup
    )?;
    Ok(ExitCode::SUCCESS)
}
