//! `coownership sql`: the shipped SQL functions, for a schema.

use std::process::ExitCode;

use crate::Fatal;

/// The arguments of `coownership sql`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The schema the functions are installed into (it must exist; a
    /// plain lower-case name). Every name inside them is resolved without
    /// the search_path, so a restore and any caller get the same answers.
    #[arg(long, default_value = coownership::sql::DEFAULT_SCHEMA)]
    pub(crate) schema: String,
}

/// Prints the shipped SQL for `--schema`.
pub(crate) fn run(args: &Args) -> Result<ExitCode, Fatal> {
    let schema = &args.schema;
    let functions = coownership::sql::functions(schema)?;
    let check = coownership::sql::check_constraint("client_products", schema)?;
    out!("{functions}\n-- To enforce the strict rules on the portal's table (or use coownership constrain):\n-- {check}\n")?;
    Ok(ExitCode::SUCCESS)
}
