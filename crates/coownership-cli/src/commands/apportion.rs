//! `coownership apportion`: an amount apportioned among a document's owners.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use coownership::Document;

use super::input::open_input;
use crate::Fatal;

/// The arguments of `coownership apportion`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The amount, e.g. 1000.00 or -250 (a liability).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) amount: String,
    /// Decimal places of the currency's minor unit.
    #[arg(long, default_value_t = 2)]
    pub(crate) decimals: u32,
    /// The document; `-` or nothing reads standard input.
    pub(crate) file: Option<PathBuf>,
}

/// Prints each owner's part; exit status 1 for an invalid document.
pub(crate) fn run(args: Args) -> Result<ExitCode, Fatal> {
    let amount = coownership::apportion::parse_amount(&args.amount)?;
    let decimals = args.decimals;
    let file = args.file;
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
