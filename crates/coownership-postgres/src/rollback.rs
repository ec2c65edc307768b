//! [`rollback`]: restore what a migration replaced, from the backup it
//! kept (see [`crate::backup`]).

use std::time::{Duration, Instant};

use postgres::GenericClient;
use serde_json::{json, Value};
use thiserror::Error;

use crate::backup::Meta;
use crate::db::{
    begin, claim_table, connect_session, has_column, lock_tables, quote_table, require_table,
};
use crate::error::wraps_db_error;
use crate::report::{Sampled, SAMPLES};
use crate::DbError;

/// Why [`rollback`] stopped. Nothing was changed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RollbackError {
    /// Reaching, reading or locking the database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The named table is not a backup `migrate` made.
    #[error("{0} is not a backup made by coownership migrate")]
    NotABackup(String),
}

wraps_db_error!(RollbackError);

/// How to roll back.
#[derive(Clone, Debug)]
pub struct RollbackOptions {
    /// The backup table that `migrate` named (`schema.ownership_backup_…`).
    pub backup: String,
    /// Restore even documents that changed after the migration (their
    /// changes are lost).
    pub force: bool,
    /// Check and report, change nothing.
    pub dry_run: bool,
    /// How long to keep trying for the table locks (never queueing). Default 60 s.
    pub lock_timeout: Duration,
}

impl RollbackOptions {
    /// Options for rolling back `backup`, not forced.
    pub fn new(backup: impl Into<String>) -> Self {
        RollbackOptions {
            backup: backup.into(),
            force: false,
            dry_run: false,
            lock_timeout: Duration::from_secs(60),
        }
    }
}

/// The outcome of [`rollback`].
#[derive(Clone, Debug, Default)]
pub struct RollbackReport {
    /// The backup restored.
    pub backup: String,
    /// The products table.
    pub products_table: String,
    /// Products whose document changed after the migration (or that have a
    /// document although the migration added the column and wrote them none).
    pub changed_since: Sampled<i64>,
    /// Products in the backup that no longer exist.
    pub missing_products: Sampled<i64>,
    /// Nothing was changed: refused (documents changed since, not forced) or
    /// a dry run.
    pub refused: bool,
    /// A dry run.
    pub dry_run: bool,
    /// Rows restored (or that would be).
    pub restored: u64,
    /// Of those, rows the application edited after the migration (another
    /// column, so their `updated_at` is no longer the migration's): their
    /// document is restored and their newer `updated_at` kept. Zero for a
    /// backup from before `written_updated_at` was kept (every row then
    /// gets its previous `updated_at` back).
    pub edited_since: u64,
    /// The `ownership_details` column was dropped (the migration had added it).
    pub column_dropped: bool,
    /// Wall-clock time.
    pub elapsed: Duration,
}

impl RollbackReport {
    /// The report as JSON (what `--report FILE` writes).
    pub fn to_json(&self) -> Value {
        json!({
            "command": "rollback",
            "backup": self.backup,
            "products_table": self.products_table,
            "dry_run": self.dry_run,
            "refused": self.refused,
            "changed_since": {"count": self.changed_since.count, "samples": self.changed_since.samples},
            "missing_products": {"count": self.missing_products.count, "samples": self.missing_products.samples},
            "restored": self.restored,
            "edited_since": self.edited_since,
            "column_dropped": self.column_dropped,
            "seconds": self.elapsed.as_secs_f64(),
        })
    }

    /// A short human summary (what the CLI prints).
    pub fn summary(&self) -> String {
        let mut s = String::new();
        if self.changed_since.count > 0 {
            s.push_str(&format!(
                "{} product(s) changed after the migration, e.g. {:?}\n",
                self.changed_since.count, self.changed_since.samples
            ));
        }
        if self.missing_products.count > 0 {
            s.push_str(&format!(
                "{} product(s) in the backup no longer exist, e.g. {:?}\n",
                self.missing_products.count, self.missing_products.samples
            ));
        }
        let column = if self.column_dropped {
            ", ownership_details column dropped"
        } else {
            ""
        };
        if self.refused && !self.dry_run {
            s.push_str(&format!(
                "coownership rollback: refused, nothing changed: documents changed after the migration (use --force to restore {} anyway)\n",
                self.backup
            ));
        } else if self.dry_run {
            s.push_str(&format!(
                "coownership rollback: dry run, nothing changed: would restore {} product(s) of {} from {}{}\n",
                self.restored,
                self.products_table,
                self.backup,
                if self.column_dropped { " and drop the ownership_details column" } else { "" }
            ));
        } else {
            s.push_str(&format!(
                "coownership rollback: restored {} product(s) of {} from {}{column}; backup table dropped ({:.2} s)\n",
                self.restored,
                self.products_table,
                self.backup,
                self.elapsed.as_secs_f64()
            ));
            if self.edited_since > 0 {
                s.push_str(&format!(
                    "  {} of them edited since the migration keep their newer updated_at\n",
                    self.edited_since
                ));
            }
        }
        s
    }
}

/// Restores what a migration replaced, from its backup table, in one
/// transaction: every backed-up row gets its previous document back, and its
/// previous `updated_at` unless the application edited the row after the
/// migration (its `updated_at` is no longer the one the migration wrote: it
/// keeps the newer one; [`RollbackReport::edited_since`] counts them); if
/// the migration added the `ownership_details` column, it is dropped again
/// (with any constraint on it). Then the backup table is dropped.
///
/// It refuses, changing nothing, when documents changed after the migration
/// (a backed-up row whose document is no longer what the migration wrote, or,
/// when the migration added the column, a row with a document it did not
/// write), unless `force`. Writers wait while it runs (`SHARE ROW EXCLUSIVE`
/// on the products table; `ACCESS EXCLUSIVE`, readers too, when it drops the
/// column). It takes that lock before anything else, without queueing: if
/// the table is busy it lets go and tries again (10 to 200 ms apart) until
/// [`RollbackOptions::lock_timeout`], so it neither deadlocks with an
/// application transaction nor makes readers queue behind it.
///
/// ```no_run
/// use coownership_postgres::{migrate, rollback, MigrateOptions, RollbackOptions};
///
/// let config: postgres::Config = "host=/run/postgresql user=portal dbname=portal".parse()?;
/// let report = migrate(&config, &MigrateOptions::default(), &mut |_, _| {})?;
/// let backup = report.backup.expect("migrate keeps a backup by default");
/// let undone = rollback(&config, &RollbackOptions::new(backup))?;
/// assert!(!undone.refused, "{}", undone.summary());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn rollback(
    config: &postgres::Config,
    options: &RollbackOptions,
) -> Result<RollbackReport, RollbackError> {
    let start = Instant::now();
    let backup = quote_table(&options.backup)?;
    let mut client = connect_session(config)?;
    let mut tx = begin(&mut client, options.lock_timeout)?;
    let meta = open_backup(&mut tx, &backup, options)?;
    let products = quote_table(&meta.products_table)?;
    let mut report = RollbackReport {
        backup: options.backup.clone(),
        products_table: meta.products_table.clone(),
        dry_run: options.dry_run,
        column_dropped: meta.column_added,
        ..RollbackReport::default()
    };
    let knows_written = count_changes(&mut tx, (&backup, &products), &meta, &mut report)?;
    if options.dry_run || (report.changed_since.count > 0 && !options.force) {
        report.refused = report.changed_since.count > 0 && !options.force;
        tx.rollback()?;
        report.elapsed = start.elapsed();
        return Ok(report);
    }
    restore(&mut tx, (&backup, &products), &meta, knows_written)?;
    tx.commit()?;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Reads the backup's record of its migration, then claims and locks the
/// products table (and the backup) for the whole rollback.
fn open_backup(
    tx: &mut postgres::Transaction<'_>,
    backup: &str,
    options: &RollbackOptions,
) -> Result<Meta, RollbackError> {
    let comment: Option<String> = tx
        .query_one(
            "SELECT CASE WHEN to_regclass($1::text) IS NULL THEN NULL \
             ELSE coalesce(obj_description(to_regclass($1::text), 'pg_class'), '') END",
            &[&backup],
        )?
        .get(0);
    let comment = comment.ok_or_else(|| DbError::MissingTable(options.backup.clone()))?;
    let meta = Meta::from_comment(&comment)
        .ok_or_else(|| RollbackError::NotABackup(options.backup.clone()))?;
    let products = quote_table(&meta.products_table)?;
    require_table(tx, &products, &meta.products_table)?;
    claim_table(tx, &products, &meta.products_table)?;
    // Every lock it will need, up front: dropping the column needs ACCESS
    // EXCLUSIVE, and upgrading to it later, while an application that read
    // a product waits to write it, is a deadlock. Taken without queueing
    // (NOWAIT, retried with backoff until the lock timeout), so no reader
    // waits behind a rollback that is itself waiting.
    let mode = if meta.column_added {
        "ACCESS EXCLUSIVE"
    } else {
        "SHARE ROW EXCLUSIVE"
    };
    lock_tables(
        tx,
        &[
            (&products, mode, &meta.products_table),
            (backup, "SHARE", &options.backup),
        ],
        options.lock_timeout,
    )?;
    if !has_column(tx, &products, "ownership_details")? {
        return Err(DbError::MissingColumn(meta.products_table).into());
    }
    Ok(meta)
}

/// Counts into `report` the documents changed since the migration, the
/// backed-up products that are gone, the rows to restore, and those the
/// application edited since; true when the backup knows the `updated_at`
/// the migration wrote.
fn count_changes(
    tx: &mut postgres::Transaction<'_>,
    (backup, products): (&str, &str),
    meta: &Meta,
    report: &mut RollbackReport,
) -> Result<bool, DbError> {
    let mut changed = format!(
        "SELECT b.product_id FROM {backup} b JOIN {products} p ON p.id = b.product_id \
         WHERE p.ownership_details IS DISTINCT FROM b.written"
    );
    if meta.column_added {
        changed.push_str(&format!(
            " UNION ALL SELECT p.id FROM {products} p WHERE p.ownership_details IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM {backup} b WHERE b.product_id = p.id)"
        ));
    }
    sample(tx, &changed, &mut report.changed_since)?;
    sample(
        tx,
        &format!(
            "SELECT b.product_id FROM {backup} b \
             WHERE NOT EXISTS (SELECT 1 FROM {products} p WHERE p.id = b.product_id)"
        ),
        &mut report.missing_products,
    )?;
    let restored: i64 = tx
        .query_one(
            &format!("SELECT count(*) FROM {backup} b JOIN {products} p ON p.id = b.product_id"),
            &[],
        )?
        .get(0);
    report.restored = restored as u64;
    // A row the application wrote after the migration has a newer
    // updated_at than the one the migration wrote: it keeps it.
    let knows_written = meta.updated_at && has_column(tx, backup, "written_updated_at")?;
    if knows_written {
        let edited: i64 = tx
            .query_one(
                &format!(
                    "SELECT count(*) FROM {backup} b JOIN {products} p ON p.id = b.product_id \
                     WHERE p.updated_at IS DISTINCT FROM b.written_updated_at"
                ),
                &[],
            )?
            .get(0);
        report.edited_since = edited as u64;
    }
    Ok(knows_written)
}

/// Puts the previous documents (and `updated_at`s) back, drops the column
/// if the migration added it, then the backup.
fn restore(
    tx: &mut postgres::Transaction<'_>,
    (backup, products): (&str, &str),
    meta: &Meta,
    knows_written: bool,
) -> Result<(), DbError> {
    let mut set = Vec::new();
    if !meta.column_added {
        set.push("ownership_details = b.previous");
    }
    if knows_written {
        set.push(
            "updated_at = CASE WHEN p.updated_at IS NOT DISTINCT FROM b.written_updated_at \
             THEN b.previous_updated_at ELSE p.updated_at END",
        );
    } else if meta.updated_at {
        set.push("updated_at = b.previous_updated_at");
    }
    if !set.is_empty() {
        tx.execute(
            &format!(
                "UPDATE {products} p SET {} FROM {backup} b WHERE p.id = b.product_id",
                set.join(", ")
            ),
            &[],
        )?;
    }
    if meta.column_added {
        tx.batch_execute(&format!(
            "ALTER TABLE {products} DROP COLUMN ownership_details"
        ))?;
    }
    tx.batch_execute(&format!("DROP TABLE {backup}"))?;
    Ok(())
}

/// Counts the ids `query` returns, keeping the first few in order.
fn sample(
    tx: &mut impl GenericClient,
    query: &str,
    into: &mut Sampled<i64>,
) -> Result<(), DbError> {
    let row = tx.query_one(
        &format!(
            "SELECT count(*), (array_agg(id ORDER BY id))[1:{SAMPLES}] FROM ({query}) AS q(id)"
        ),
        &[],
    )?;
    let count: i64 = row.get(0);
    into.count = count as u64;
    into.samples = row.get::<_, Option<Vec<i64>>>(1).unwrap_or_default();
    Ok(())
}
