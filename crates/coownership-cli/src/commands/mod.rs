//! One module per command: its arguments (`Args`) and `run`, which calls
//! the libraries and hands what they return to [`crate::output`].

pub(crate) mod apportion;
pub(crate) mod constrain;
pub(crate) mod demo;
pub(crate) mod drop_backup;
mod input;
pub(crate) mod migrate;
pub(crate) mod rollback;
pub(crate) mod split;
pub(crate) mod sql;
pub(crate) mod status;
pub(crate) mod uninstall;
pub(crate) mod validate;
pub(crate) mod verify;

use std::process::ExitCode;

use crate::args::Command;
use crate::Fatal;

/// Runs one command; its exit status, or the failure that makes it 2.
pub(crate) fn run(command: Command) -> Result<ExitCode, Fatal> {
    match command {
        Command::Validate(args) => validate::run(args),
        Command::Split(args) => split::run(args),
        Command::Sql(args) => sql::run(&args),
        Command::Apportion(args) => apportion::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Constrain(args) => constrain::run(args),
        Command::Rollback(args) => rollback::run(args),
        Command::Uninstall(args) => uninstall::run(args),
        Command::DropBackup(args) => drop_backup::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Demo(args) => demo::run(&args),
    }
}
