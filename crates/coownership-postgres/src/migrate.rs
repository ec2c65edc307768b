//! [`migrate`]: read and plan on two snapshot connections, load the documents
//! into a temporary table on the writing one, and apply them in one `UPDATE`.
//!
//! [`migrate`] replaces the seed's row-by-row PL/pgSQL loop with set-based,
//! streaming I/O in one transaction:
//!
//! 1. lock out writers: `SHARE ROW EXCLUSIVE` on the products table (reads go
//!    on, every `INSERT`/`UPDATE`/`DELETE` waits) and `SHARE` on the links;
//! 2. on two more, read-only connections opened after those locks (so they
//!    see exactly what will be updated), `COPY` out the links in
//!    `(product_id, created_at, product_owner_id)` order and the product ids
//!    as they lie (a sequential scan; sorted in memory, 8 bytes a product);
//!    merge them in Rust (orphan links fall out of the merge) and plan each
//!    product ([`plan::plan_product`]);
//! 3. meanwhile, stream the planned documents through a bounded channel into
//!    a binary `COPY` to a temporary table on the writing connection, so
//!    that apart from the ids nothing grows with the table;
//! 4. add the `jsonb` column if it is missing, and apply the documents with
//!    one `UPDATE … FROM`, touching only rows whose document changes (so a
//!    re-run writes nothing);
//! 5. commit — or roll back on any error, on `dry_run`, or when the seed
//!    policy breaks for any product. A killed process never commits.

use std::io::{BufReader, Write};
use std::time::Instant;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::copy::{binary_row, read_ids, BINARY_COPY_HEADER};
use crate::db::{
    begin, check_columns, claim_table, connect_session, ddl_with_retry, has_column, lock_tables,
    qualify, quote_table, read_connection, require_table, Step,
};
use crate::error::wraps_db_error;
use crate::merge::{link_query, merge_products_and_links, Links};
use crate::plan::NO_PREVIOUS_OWNERSHIP;
use crate::report::SAMPLES;
use crate::report::{MigrationReport, Phase, Sampled};
use crate::{backup, plan, DbError, MigrateOptions};
use coownership::split::SplitError;

/// Why [`migrate`] stopped. Nothing was written, unless the variant says
/// otherwise ([`MigrateError::ColumnLeft`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// Reaching, reading or locking the database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Products that cannot be planned (more owners than an equal split
    /// supports, …), every one counted; nothing was written.
    #[error("{count} product(s) cannot be planned, nothing was written: {}", .first.iter().map(|(p, why)| format!("product {p}: {why}")).collect::<Vec<_>>().join("; "))]
    Unplannable {
        /// How many products.
        count: u64,
        /// The first few, with the reason.
        first: Vec<(i64, String)>,
    },
    /// The link table has no rows: migrating would give every product no
    /// owner (and, over documents already there, wipe them all). Allowed by
    /// [`MigrateOptions::allow_empty_links`].
    #[error("{0} is empty: migrating it would leave every product without an owner; nothing was written")]
    EmptyLinks(String),
    /// Documents that name owners would be replaced with no-owner ones: their
    /// products have no links left. Allowed by
    /// [`MigrateOptions::allow_removing_owners`].
    #[error("{count} document(s) in {table} name owners but their products have no links left, so the migration would remove every owner; nothing was written; first: {first:?}")]
    WouldRemoveOwners {
        /// The products table.
        table: String,
        /// How many documents.
        count: u64,
        /// The first few products.
        first: Vec<i64>,
    },
    /// A first migration failed after adding the `ownership_details`
    /// column, and removing it again failed too: the column is left, NULL
    /// everywhere (nothing else was written). The one failure that leaves a
    /// change behind ([`MigrateError::database_changed`]).
    #[error("{cause}; the ownership_details column this run added to {table} could not be removed again ({reason}): it is empty; drop it with ALTER TABLE {table} DROP COLUMN ownership_details, or run migrate again")]
    ColumnLeft {
        /// The products table.
        table: String,
        /// Why the migration failed.
        cause: Box<MigrateError>,
        /// Why the column could not be removed.
        reason: String,
    },
    /// The seed policy would give some products a zero or negative share.
    #[error("the seed split breaks for {count} product(s), nothing was written; first: {}", describe_seed_failures(.first))]
    SeedPolicyBreaks {
        /// How many products.
        count: u64,
        /// The first few: `(product_id, owner count, share the seed would write)`.
        first: Vec<(i64, usize, Decimal)>,
    },
}

wraps_db_error!(MigrateError);

impl MigrateError {
    /// Whether the failed migration left the database changed: only
    /// [`MigrateError::ColumnLeft`], whose empty column stays.
    pub fn database_changed(&self) -> bool {
        matches!(self, MigrateError::ColumnLeft { .. })
    }
}

fn describe_seed_failures(first: &[(i64, usize, Decimal)]) -> String {
    first
        .iter()
        .map(|(p, n, s)| format!("product {p} ({n} owners, share {s})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the planning thread sends to the writing connection: planned
/// documents (`None`: NULL) by product id, and how many products are planned.
struct Batch {
    ids: Vec<i64>,
    documents: Vec<Option<String>>,
    planned: u64,
}

impl Batch {
    fn new() -> Self {
        Batch {
            ids: Vec::with_capacity(BATCH_ROWS),
            documents: Vec::with_capacity(BATCH_ROWS),
            planned: 0,
        }
    }
}

/// Products per batch: large enough that a statement's cost is spread, small
/// enough that the few batches in flight keep memory bounded (a few MB).
const BATCH_ROWS: usize = 5_000;

/// Reads the product ids (sorted here) and the links (sorted by the server)
/// on two connections, merges them, so orphans fall out for free, and plans
/// every product, sending the documents down `tx` in batches. Returns the
/// statistics once the input is exhausted, or every product that cannot be
/// planned, or every repeated product id.
// `tx` by value: dropping it on return is what tells the writer that the
// input is exhausted.
#[allow(clippy::needless_pass_by_value)]
fn plan_all(
    config: &postgres::Config,
    options: &MigrateOptions,
    (products, products_name): (&str, &str),
    (links, links_name): (&str, &str),
    tx: std::sync::mpsc::SyncSender<Batch>,
) -> Result<MigrationReport, MigrateError> {
    let mut product_client = read_connection(config, options)?;
    let mut link_client = read_connection(config, options)?;
    let reading_products = format!("reading {products_name}");
    let reading_links = format!("reading {links_name}");
    // The links first, so that the server sorts them while the ids arrive.
    let mut links = Links::new(BufReader::with_capacity(
        1 << 20,
        link_client
            .copy_out(&link_query(links))
            .step(reading_links.as_str())?,
    ));
    // The ids unordered and sorted here: a sequential scan instead of an
    // index scan, a quarter of the server's time, for 8 bytes per product.
    let mut product_ids = read_ids(BufReader::with_capacity(
        1 << 20,
        product_client
            .copy_out(&format!("COPY (SELECT id FROM {products}) TO STDOUT"))
            .step(reading_products.as_str())?,
    ))
    .map_err(|e| e.in_step(&reading_products))?;
    product_ids.sort_unstable();
    let mut planning = Planning::new(options, &tx);
    let (mut orphan_links, mut orphan_rows) = (Sampled::default(), 0u64);
    let repeated = merge_products_and_links(
        product_ids.iter().map(|&id| Ok((id, ()))),
        &mut links,
        |id, (), owners| planning.product(id, owners),
        |product, rows| {
            orphan_links.add((product, rows as u64));
            orphan_rows += rows as u64;
        },
    )
    .map_err(|e| e.in_step(&format!("reading {products_name} and {links_name}")))?;
    planning.report.orphan_links = orphan_links;
    planning.report.orphan_link_rows = orphan_rows;
    planning.report.link_rows += orphan_rows;
    drop(links);
    product_client
        .batch_execute("COMMIT")
        .step(reading_products.as_str())?;
    link_client
        .batch_execute("COMMIT")
        .step(reading_links.as_str())?;
    if repeated.count > 0 {
        return Err(DbError::DuplicateProducts {
            table: products_name.into(),
            count: repeated.count,
            first: repeated.samples,
        }
        .into());
    }
    planning.finish()
}

/// Planning in progress: the statistics, the products that cannot be
/// planned, and the batch being filled for the writer.
struct Planning<'a> {
    options: &'a MigrateOptions,
    tx: &'a std::sync::mpsc::SyncSender<Batch>,
    report: MigrationReport,
    seed_failures: Sampled<(i64, usize, Decimal)>,
    unplannable: Sampled<(i64, String)>,
    batch: Batch,
}

impl<'a> Planning<'a> {
    fn new(options: &'a MigrateOptions, tx: &'a std::sync::mpsc::SyncSender<Batch>) -> Self {
        Planning {
            options,
            tx,
            report: MigrationReport::default(),
            seed_failures: Sampled::default(),
            unplannable: Sampled::default(),
            batch: Batch::new(),
        }
    }

    /// Plans one product from its owners' links (in link order), counting
    /// it; a full batch goes to the writer.
    fn product(&mut self, id: i64, owners: &[Option<i64>]) -> Result<(), DbError> {
        let report = &mut self.report;
        report.products += 1;
        report.link_rows += owners.len() as u64;
        match plan::plan_product(owners, self.options.policy) {
            Ok(plan) => {
                for &d in &plan.duplicates {
                    report.duplicate_links.add((id, d.get()));
                }
                for &bad in &plan.invalid_owner_ids {
                    report.invalid_owner_links.add((id, bad));
                }
                *report
                    .by_association_type
                    .entry(plan.association_type().map_or("none", |t| t.as_str()))
                    .or_default() += 1;
                *report.by_owner_count.entry(plan.owners.len()).or_default() += 1;
                self.batch.ids.push(id);
                self.batch.documents.push(plan.document());
            }
            Err(SplitError::SeedShareNotPositive { owners, share }) => {
                self.seed_failures.add((id, owners, share));
            }
            // Not planned, but counted, and every one reported.
            Err(e) => self.unplannable.add((id, e.to_string())),
        }
        if self.batch.ids.len() >= BATCH_ROWS {
            self.batch.planned = self.report.products;
            let full = std::mem::replace(&mut self.batch, Batch::new());
            self.send(full)?;
        }
        Ok(())
    }

    fn send(&self, batch: Batch) -> Result<(), DbError> {
        self.tx
            .send(batch)
            .map_err(|_| DbError::UnexpectedRow("the writer stopped".into()))
    }

    /// Every product planned: the last batch goes to the writer and the
    /// statistics are the report; or every product that could not be.
    fn finish(mut self) -> Result<MigrationReport, MigrateError> {
        if self.unplannable.count > 0 {
            // Seed-policy failures are listed with the rest.
            let mut first = self.unplannable.samples;
            for (id, owners, share) in self.seed_failures.samples {
                if first.len() < SAMPLES {
                    first.push((
                        id,
                        format!("the seed split gives {owners} owners a share of {share}"),
                    ));
                }
            }
            return Err(MigrateError::Unplannable {
                count: self.unplannable.count + self.seed_failures.count,
                first,
            });
        }
        if self.seed_failures.count > 0 {
            return Err(MigrateError::SeedPolicyBreaks {
                count: self.seed_failures.count,
                first: self.seed_failures.samples,
            });
        }
        self.batch.planned = self.report.products;
        let last = std::mem::replace(&mut self.batch, Batch::new());
        self.send(last)?;
        Ok(self.report)
    }
}

/// Migrates every product (see the [module docs](super)), connecting with
/// `config` (twice: one connection reads while the other writes). `progress`
/// is called with `(products planned, products in all)`.
///
/// Returns the report; on any error nothing has been written.
///
/// ```no_run
/// use coownership_postgres::{migrate, verify, MigrateOptions};
///
/// let config: postgres::Config = "host=/run/postgresql user=portal dbname=portal".parse()?;
/// let options = MigrateOptions::default(); // balanced split, the seed's table names
/// let report = migrate(&config, &options, &mut |done, total| eprintln!("{done}/{total}"))?;
/// print!("{}", report.summary());
/// let check = verify(&config, &options)?;
/// assert!(check.is_ok(), "{}", check.summary());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn migrate(
    config: &postgres::Config,
    options: &MigrateOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<MigrationReport, MigrateError> {
    let start = Instant::now();
    let products_name = options.tables.products.as_str();
    let products = quote_table(products_name)?;
    let mut client = connect_session(config)?;
    // A first run adds the column in a transaction of its own, before the
    // migration takes any lock: adding it later, while holding the lock that
    // keeps writers out, would wait for an application that read a product
    // and now waits for us to write it. If the migration then fails, the
    // column is removed again.
    let added = if options.dry_run {
        false
    } else {
        add_column_first(&mut client, options)?
    };
    match migrate_in_one_transaction(&mut client, config, options, progress, added, start) {
        Err(e) if added => Err(remove_added_column(&mut client, &products, options, e)),
        result => result,
    }
}

/// Adds `ownership_details` (NULL everywhere: a catalogue change, no
/// rewrite) when the products table lacks it, after the checks the
/// migration would make first; true when it did. The session keeps its
/// claim on the table for the migration that follows.
fn add_column_first(
    client: &mut postgres::Client,
    options: &MigrateOptions,
) -> Result<bool, MigrateError> {
    let products_name = options.tables.products.as_str();
    let mut tx = begin(client, options.lock_timeout)?;
    let (products, _) = resolve_tables(&mut tx, options)?;
    if has_column(&mut tx, &products, "ownership_details")? {
        // A column an interrupted first run added, still empty, is this
        // run's to fill (and to remove should this run fail too).
        let leftover: bool = tx
            .query_one(
                &format!(
                    "SELECT col_description($1::text::regclass, \
                        (SELECT attnum FROM pg_attribute WHERE attrelid = $1::text::regclass \
                           AND attname = 'ownership_details')::integer) = $2 \
                     AND NOT EXISTS (SELECT 1 FROM {products} WHERE ownership_details IS NOT NULL)"
                ),
                &[&products, &ADDED_COLUMN_MARK],
            )
            .step("looking at ownership_details")?
            .get::<_, Option<bool>>(0)
            .unwrap_or(false);
        tx.rollback().step("ending the check")?;
        return Ok(leftover);
    }
    ddl_with_retry(
        &mut tx,
        &format!(
            "ALTER TABLE {products} ADD COLUMN ownership_details jsonb; \
             COMMENT ON COLUMN {products}.ownership_details IS '{ADDED_COLUMN_MARK}'"
        ),
        (&products, products_name),
        &format!("adding {products_name}.ownership_details"),
        options.lock_timeout,
    )?;
    tx.commit()
        .step(format!("adding {products_name}.ownership_details"))?;
    Ok(true)
}

/// The comment a first run puts on the column it adds, until its migration
/// commits: a column so marked and still empty was left by an interrupted
/// run (`status` says so), and the next run treats it as its own.
pub(super) const ADDED_COLUMN_MARK: &str =
    "coownership: added by a migration that has not committed yet";

/// The products and link tables, checked (they exist, with the columns the
/// migration reads and writes), the products table claimed for this run,
/// and both named as resolved now, schema-qualified, so that nothing (not
/// even the temporary table the migration creates) can stand in for them.
fn resolve_tables(
    tx: &mut postgres::Transaction<'_>,
    options: &MigrateOptions,
) -> Result<(String, String), MigrateError> {
    let (products_name, links_name) = (
        options.tables.products.as_str(),
        options.tables.links.as_str(),
    );
    let products = quote_table(products_name)?;
    let links = quote_table(links_name)?;
    require_table(tx, &products, products_name)?;
    require_table(tx, &links, links_name)?;
    claim_table(tx, &products, products_name)?;
    let products = qualify(tx, &products)?;
    let links = qualify(tx, &links)?;
    check_columns(tx, (&products, products_name), (&links, links_name))?;
    Ok((products, links))
}

/// After a failed first run: the column it added, dropped again, so that
/// nothing is left; `error` is what made the run fail.
fn remove_added_column(
    client: &mut postgres::Client,
    products: &str,
    options: &MigrateOptions,
    error: MigrateError,
) -> MigrateError {
    let name = options.tables.products.as_str();
    let undone = begin(client, options.lock_timeout).and_then(|mut tx| {
        ddl_with_retry(
            &mut tx,
            &format!("ALTER TABLE {products} DROP COLUMN ownership_details"),
            (products, name),
            &format!("removing {name}.ownership_details again"),
            options.lock_timeout,
        )?;
        tx.commit()
            .step(format!("removing {name}.ownership_details again"))
    });
    match undone {
        Ok(()) => error,
        Err(e) => MigrateError::ColumnLeft {
            table: name.to_owned(),
            cause: Box::new(error),
            reason: e.to_string(),
        },
    }
}

/// The migration proper, in one transaction on `client` (which has added
/// the column first when `added`): lock and look, plan and stage, write,
/// commit.
fn migrate_in_one_transaction(
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

/// The planned documents, staged in a temporary table `(id, details)` on the
/// writing connection (dropped at commit), and how they are applied to the
/// products table. Every statement that reads the table names it through
/// [`Staging::SOURCE`], aliased `u`.
pub(crate) struct Staging<'a> {
    /// The products table, schema-qualified and quoted.
    products: &'a str,
    products_name: &'a str,
    /// The table has `ownership_details` to compare with (not so in a dry
    /// run of a first migration).
    changed_column: bool,
    /// The table has `updated_at`, touched for written rows.
    updated_at: bool,
    /// Count what would change; write nothing.
    dry_run: bool,
}

impl Staging<'_> {
    /// The temporary table, schema-qualified so that no table of the same
    /// name can stand in for it.
    const TABLE: &'static str = "pg_temp.ownership_migration";
    /// The table as a `FROM` item, aliased `u`.
    pub(crate) const SOURCE: &'static str = "pg_temp.ownership_migration AS u";

    /// Which rows change: all with a document when the column is new (NULL
    /// everywhere, and NULL is the no-owner state), else those whose
    /// document differs, so that a re-run writes nothing.
    pub(crate) fn changed(&self) -> &'static str {
        if self.changed_column {
            "p.ownership_details IS DISTINCT FROM u.details"
        } else {
            "u.details IS NOT NULL"
        }
    }

    /// The statement that applies the temporary table `u(id, details)` to
    /// the products (only rows whose document changes); in a dry run, the
    /// count of the rows that would change.
    fn statement(&self) -> String {
        let products = self.products;
        let (source, changed) = (Self::SOURCE, self.changed());
        if self.dry_run {
            return format!(
                "SELECT count(*) FROM {products} p JOIN {source} ON p.id = u.id WHERE {changed}"
            );
        }
        let touch = if self.updated_at {
            ", updated_at = now()"
        } else {
            ""
        };
        format!(
            "UPDATE {products} p SET ownership_details = u.details{touch} \
             FROM {source} WHERE p.id = u.id AND {changed}"
        )
    }

    /// Applies the temporary table's documents with one join (or, in a dry
    /// run, counts the changes).
    fn apply(&self, tx: &mut postgres::Transaction<'_>) -> Result<u64, DbError> {
        // No ANALYZE: without statistics the planner still sizes the
        // temporary table from its pages and picks a hash join.
        let statement = self.statement();
        if self.dry_run {
            let n: i64 = tx
                .query_one(&statement, &[])
                .step("counting the changes")?
                .get(0);
            Ok(n as u64)
        } else {
            tx.execute(&statement, &[])
                .step(format!("writing the documents to {}", self.products_name))
        }
    }
}

/// Creates the temporary table and loads every batch into it with binary
/// `COPY`.
fn load_staging(
    tx: &mut postgres::Transaction<'_>,
    batches: &std::sync::mpsc::Receiver<Batch>,
    progress: &mut dyn FnMut(u64),
) -> Result<(), DbError> {
    let table = Staging::TABLE;
    tx.batch_execute(&format!(
        "CREATE TEMP TABLE {} (id bigint NOT NULL, details jsonb) ON COMMIT DROP",
        table.trim_start_matches("pg_temp.")
    ))
    .step("creating the temporary table")?;
    let mut writer = tx
        .copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
        .step("loading the documents")?;
    writer.write_all(BINARY_COPY_HEADER)?;
    let mut rows = Vec::new();
    for batch in batches {
        rows.clear();
        for (id, document) in batch.ids.iter().zip(&batch.documents) {
            binary_row(&mut rows, *id, document.as_deref());
        }
        writer.write_all(&rows)?;
        progress(batch.planned);
    }
    // Only a complete plan is loaded: on any error above, dropping the
    // writer aborts the COPY.
    writer.write_all(&(-1i16).to_be_bytes())?;
    writer.finish().step("loading the documents")?;
    Ok(())
}
