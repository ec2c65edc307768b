//! `coownership split`: 100 % split equally among N owners.

use std::process::ExitCode;

use coownership::split::{equal_split, SplitPolicy};
use coownership::OwnerId;

use crate::args::PolicyArg;
use crate::Fatal;

/// The arguments of `coownership split`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The number of owners (1..=10000).
    pub(crate) n: Option<usize>,
    /// How the remainder is distributed.
    #[arg(long, value_enum, default_value_t = PolicyArg::Balanced)]
    pub(crate) policy: PolicyArg,
    /// The owner ids, in order (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub(crate) owners: Option<Vec<String>>,
}

/// Prints the canonical document of an equal split.
pub(crate) fn run(args: Args) -> Result<ExitCode, Fatal> {
    let policy: SplitPolicy = args.policy.into();
    let owners: Vec<OwnerId> = match (args.n, args.owners) {
        (None, None) => return Err(Fatal("give the number of owners N, or --owners".into())),
        (Some(n), None) => {
            if n > coownership::split::MAX_SPLIT_OWNERS {
                return Err(Fatal(format!(
                    "cannot split among {n} owners: at most 10000"
                )));
            }
            (1..=n as i64)
                .map(|i| OwnerId::new(i).expect("positive"))
                .collect()
        }
        (n, Some(list)) => {
            let ids = list
                .iter()
                .map(|s| s.trim().parse::<OwnerId>())
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(n) = n.filter(|&n| n != ids.len()) {
                return Err(Fatal(format!(
                    "N is {n} but --owners lists {} owners",
                    ids.len()
                )));
            }
            ids
        }
    };
    let ownership = equal_split(&owners, policy)?;
    out!("{ownership}\n")?;
    Ok(ExitCode::SUCCESS)
}
