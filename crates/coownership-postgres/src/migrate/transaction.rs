//! The migration proper, in one transaction: lock and look, plan and stage,
//! write, commit.

use std::time::Instant;

use super::planning::{plan_all, Batch};
use super::staging::{load_staging, Staging};
use super::{resolve_tables, MigrateError};
use crate::db::{begin, has_column, lock_tables, quote_table, Step};
use crate::plan::NO_PREVIOUS_OWNERSHIP;
use crate::report::{MigrationReport, Phase, SAMPLES};
use crate::{backup, DbError, MigrateOptions};

/// The migration proper, in one transaction on `client` (which has added
/// the column first when `added`): lock and look, plan and stage, write,
/// commit.
pub(super) fn migrate_in_one_transaction(
    client: &mut postgres::Client,
    config: &postgres::Config,
    options: &MigrateOptions,
    progress: &mut dyn FnMut(u64, u64),
    added: bool,
    start: Instant,
) -> Result<MigrationReport, MigrateError> {
    let mut tx = begin(client, options.lock_timeout)?;
    // Large sorts and hashes stay in memory; the temporary table too.
    tx.batch_execute("SET LOCAL work_mem = '256MB'; SET LOCAL temp_buffers = '512MB'")
        .step("setting work_mem")?;
    let target = lock_and_look(&mut tx, options, added)?;
    progress(0, target.total);
    let staging = Staging {
        products: &target.products,
        products_name: options.tables.products.as_str(),
        changed_column: target.column_exists,
        updated_at: target.has_updated_at,
        dry_run: options.dry_run,
    };
    let read_started = Instant::now();
    let planned = plan_and_stage(&mut tx, config, options, &target, progress)?;
    let read_time = read_started.elapsed();
    let apply_started = Instant::now();
    let (updated, backup) = write(&mut tx, options, &target, &staging)?;
    let mut report = MigrationReport {
        policy: options.policy,
        dry_run: options.dry_run,
        column_added: !target.had_column,
        updated,
        row_triggers: target.row_triggers,
        backup,
        ..planned
    };
    report
        .phases
        .insert(0, (Phase::WaitForLocks, target.waited));
    report.phases.push((Phase::ReadPlanLoad, read_time));
    report.phases.push((
        match (options.dry_run, report.backup.is_some()) {
            (true, _) => Phase::CountChanges,
            (false, true) => Phase::BackupAndWrite,
            (false, false) => Phase::Write,
        },
        apply_started.elapsed(),
    ));
    if added && !options.dry_run {
        // SHARE UPDATE EXCLUSIVE: readers go on; writers wait for us anyway.
        tx.batch_execute(&format!(
            "COMMENT ON COLUMN {}.ownership_details IS NULL",
            target.products
        ))
        .step("unmarking ownership_details")?;
    }
    let commit_started = Instant::now();
    if options.dry_run {
        tx.rollback().step("rolling back the dry run")?;
    } else {
        tx.commit().step("committing")?;
        report
            .phases
            .push((Phase::Commit, commit_started.elapsed()));
    }
    report.unchanged = report.products - report.updated;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// What the migration found once it held its locks.
struct Target {
    /// The products and link tables, schema-qualified and quoted.
    products: String,
    links: String,
    /// How long the locks took.
    waited: std::time::Duration,
    /// `ownership_details` exists (perhaps added just now), and existed
    /// before this run.
    column_exists: bool,
    had_column: bool,
    has_updated_at: bool,
    /// Enabled row-level UPDATE triggers, which fire for every written row.
    row_triggers: Vec<String>,
    /// How many products.
    total: u64,
}

/// Resolves and locks the tables (writers wait until we commit; readers
/// carry on), refuses an empty link table unless allowed, and looks at the
/// products table.
fn lock_and_look(
    tx: &mut postgres::Transaction<'_>,
    options: &MigrateOptions,
    added: bool,
) -> Result<Target, MigrateError> {
    let products_name = options.tables.products.as_str();
    let links_name = options.tables.links.as_str();
    let (products, links) = resolve_tables(tx, options)?;
    let waited = lock_tables(
        tx,
        &[
            (&links, "SHARE", links_name),
            (&products, "SHARE ROW EXCLUSIVE", products_name),
        ],
        options.lock_timeout,
    )?;
    let any_link: bool = tx
        .query_one(&format!("SELECT EXISTS (SELECT 1 FROM {links})"), &[])
        .step(format!("reading {links_name}"))?
        .get(0);
    if !any_link && !options.allow_empty_links {
        return Err(MigrateError::EmptyLinks(links_name.to_owned()));
    }
    let column_exists = has_column(tx, &products, "ownership_details")?;
    let has_updated_at = has_column(tx, &products, "updated_at")?;
    // Row-level UPDATE triggers (tgtype bits: ROW 1, UPDATE 16), enabled.
    let row_triggers: Vec<String> = tx
        .query(
            "SELECT tgname::text FROM pg_trigger WHERE tgrelid = $1::text::regclass \
             AND NOT tgisinternal AND tgenabled <> 'D' AND tgtype & 17 = 17 ORDER BY tgname",
            &[&products],
        )
        .step(format!("reading the triggers on {products_name}"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let total: i64 = tx
        .query_one(&format!("SELECT count(*) FROM {products}"), &[])
        .step(format!("counting {products_name}"))?
        .get(0);
    Ok(Target {
        products,
        links,
        waited,
        column_exists,
        had_column: column_exists && !added,
        has_updated_at,
        row_triggers,
        total: total as u64,
    })
}

/// Plans on two more connections (their snapshots are taken after our
/// locks, so they see exactly what we will update) while this one loads
/// the documents into the staging table.
fn plan_and_stage(
    tx: &mut postgres::Transaction<'_>,
    config: &postgres::Config,
    options: &MigrateOptions,
    target: &Target,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<MigrationReport, MigrateError> {
    let names = (
        options.tables.products.as_str(),
        options.tables.links.as_str(),
    );
    let total = target.total;
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(4);
    std::thread::scope(|scope| -> Result<MigrationReport, MigrateError> {
        // Owned here, so that any early return drops it and unblocks the planner.
        let receiver = receiver;
        let planner = scope.spawn(|| {
            plan_all(
                config,
                options,
                (&target.products, names.0),
                (&target.links, names.1),
                sender,
            )
        });
        let loaded = load_staging(tx, &receiver, &mut |done| progress(done, total));
        // Drain what is left, so that the planner never blocks on a full channel.
        for _ in &receiver {}
        let report = planner.join().unwrap_or_else(|_| {
            Err(DbError::UnexpectedRow("the planning thread panicked".into()).into())
        })?;
        loaded?;
        Ok(report)
    })
}

/// Refuses to remove owners unless allowed, keeps the backup, and applies
/// the staged documents; the rows written (or, in a dry run, that would
/// be) and the backup's name.
fn write(
    tx: &mut postgres::Transaction<'_>,
    options: &MigrateOptions,
    target: &Target,
    staging: &Staging<'_>,
) -> Result<(u64, Option<String>), MigrateError> {
    let products = &target.products;
    if target.had_column && !options.allow_removing_owners {
        refuse_removing_owners(tx, products, options.tables.products.as_str())?;
    }
    let mut kept = None;
    if options.backup && !options.dry_run {
        let meta = backup::Meta::new(
            String::new(),
            !target.had_column,
            target.has_updated_at,
            options.policy.as_str(),
        );
        kept = Some(backup::create(tx, products, &meta, staging)?);
    }
    let updated = staging.apply(tx)?;
    if updated == 0 && target.had_column {
        // Nothing replaced, nothing to roll back: no empty backup table
        // left behind by every re-run.
        if let Some(name) = kept.take() {
            let quoted = quote_table(&name)?;
            tx.batch_execute(&format!("DROP TABLE {quoted}"))
                .step(format!("dropping the empty backup {name}"))?;
        }
    }
    Ok((updated, kept))
}

/// Refuses when a document that names owners would become a no-owner one
/// (NULL, or the seed policy's `no_previous_ownership` document).
fn refuse_removing_owners(
    tx: &mut postgres::Transaction<'_>,
    products: &str,
    products_name: &str,
) -> Result<(), MigrateError> {
    let none = NO_PREVIOUS_OWNERSHIP.replace('\'', "''");
    let source = Staging::SOURCE;
    let row = tx
        .query_one(
            &format!(
                "SELECT count(*), (array_agg(p.id ORDER BY p.id))[1:{SAMPLES}] \
                 FROM {products} p JOIN {source} ON p.id = u.id \
                 WHERE p.ownership_details IS NOT NULL AND p.ownership_details <> '{none}'::jsonb \
                   AND (u.details IS NULL OR u.details = '{none}'::jsonb)"
            ),
            &[],
        )
        .step("looking for documents that would lose their owners")?;
    let count: i64 = row.get(0);
    if count > 0 {
        return Err(MigrateError::WouldRemoveOwners {
            table: products_name.to_owned(),
            count: count as u64,
            first: row.get::<_, Option<Vec<i64>>>(1).unwrap_or_default(),
        });
    }
    Ok(())
}
