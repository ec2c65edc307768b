//! The `coownership` command-line tool: a thin shell over the libraries
//! `coownership` (documents, rules, splits, money, the shipped SQL) and
//! `coownership-postgres` (the database lifecycle).
//!
//! - [`args`]: the command line (clap), shared argument types;
//! - [`commands`]: one module per command, each a `run(Args)`;
//! - [`output`]: everything written to standard output, standard error and
//!   `--report` files, and the exit statuses that say what happened.

#[macro_use]
mod output;
mod args;
mod commands;

use std::process::ExitCode;

use clap::Parser;

/// A failure that ends the command with exit status 2.
pub(crate) struct Fatal(pub(crate) String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            note!("coownership: {msg}");
            ExitCode::from(2)
        }
    }
}
