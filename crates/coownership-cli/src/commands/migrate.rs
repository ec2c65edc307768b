//! `coownership migrate`: the link table into `ownership_details`.

use std::path::PathBuf;
use std::process::ExitCode;

use coownership_postgres::MigrateOptions;

use crate::args::{DbArgs, PolicyArg};
use crate::output::{progress_bar, with_results, Results};
use crate::Fatal;

/// The arguments of `coownership migrate`.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// How 100 % is split among two or more owners.
    #[arg(long, value_enum, default_value_t = PolicyArg::Balanced)]
    pub(crate) policy: PolicyArg,
    /// Plan and count everything, write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Do not keep a backup of what the migration replaces (no rollback).
    #[arg(long)]
    pub(crate) no_backup: bool,
    /// Migrate even an empty link table (every product gets no owner).
    /// Without it, an empty link table is refused: it is usually the
    /// wrong table, or one already emptied after a migration.
    #[arg(long)]
    pub(crate) allow_empty_links: bool,
    /// Replace documents that name owners with no-owner ones (their
    /// products have no links left). Without it, that is refused and
    /// nothing is written.
    #[arg(long)]
    pub(crate) allow_removing_owners: bool,
    /// Also write the summary as JSON to this file.
    #[arg(long)]
    pub(crate) report: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// Runs `migrate`; exit status 0, or 3 when committed but not reported.
pub(crate) fn run(args: Args) -> Result<ExitCode, Fatal> {
    let mut options = args.db.options(args.policy.into());
    options.dry_run = args.dry_run;
    options.allow_empty_links = args.allow_empty_links;
    options.allow_removing_owners = args.allow_removing_owners;
    options.backup = !args.no_backup;
    let config = args.db.config()?;
    with_results(args.report, |r| {
        migrate_with_progress(&config, &options, r, args.quiet)
    })
}

/// Migrates, with the progress bar; the summary to `results`.
pub(crate) fn migrate_with_progress(
    config: &postgres::Config,
    options: &MigrateOptions,
    results: Results,
    quiet: bool,
) -> Result<ExitCode, Fatal> {
    let bar = progress_bar(quiet);
    let mut writing = false;
    let result = coownership_postgres::migrate(config, options, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if done == total && total > 0 && !writing && !bar.is_hidden() {
            // Planning is done; the single UPDATE has no progress to show.
            writing = true;
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.set_message(format!(
                "all {total} products planned; writing their documents"
            ));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
    });
    bar.finish_and_clear();
    results.report(result, |summary| {
        let committed = !options.dry_run;
        (
            summary.summary(),
            summary.to_json(),
            committed,
            ExitCode::SUCCESS,
        )
    })
}
