//! `coownership drop-backup`: drop a backup table `migrate` kept.

use std::process::ExitCode;

use crate::args::db_config;
use crate::Fatal;

/// The arguments of `coownership drop-backup`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The database, as a URL (postgres://user@host/db) or key=value string.
    #[arg(long, env = "DATABASE_URL")]
    pub(crate) database_url: String,
    /// The backup table (schema.ownership_backup_…).
    #[arg(long)]
    pub(crate) backup: String,
}

/// Runs `drop-backup`.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let config = db_config(&args.database_url)?;
    let rows = coownership_postgres::drop_backup(&config, &args.backup)?;
    outln!(
        "coownership drop-backup: dropped {} ({rows} rows)",
        args.backup
    )?;
    Ok(ExitCode::SUCCESS)
}
