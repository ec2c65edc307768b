//! Migrating `product_owner_products` rows into `client_products.ownership_details`
//! (feature `postgres`), and verifying the result.
//!
//! [`migrate`] replaces the seed's row-by-row PL/pgSQL loop with set-based,
//! streaming I/O in one transaction:
//!
//! 1. lock out writers: `SHARE ROW EXCLUSIVE` on the products table (reads go
//!    on, every `INSERT`/`UPDATE`/`DELETE` waits) and `SHARE` on the links;
//! 2. on two more, read-only connections opened after those locks (so they
//!    see exactly what will be updated), `COPY` out the product ids in order
//!    and the links in `(product_id, created_at, product_owner_id)` order;
//!    merge them in Rust (orphan links fall out of the merge) and plan each
//!    product ([`plan::plan_product`]);
//! 3. meanwhile, stream the planned documents through a bounded channel into
//!    a binary `COPY` to a temporary table on the writing connection, so
//!    memory stays bounded whatever the table size;
//! 4. add the `jsonb` column if it is missing, and apply the documents with
//!    one `UPDATE … FROM`, touching only rows whose document changes (so a
//!    re-run writes nothing);
//! 5. commit — or roll back on any error, on `dry_run`, or when the seed
//!    policy breaks for any product. A killed process never commits.
//!
//! [`verify`] reconciles every product's document with the links.

pub mod demo;
pub mod plan;
pub mod report;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::time::{Duration, Instant};

use postgres::GenericClient;
use rust_decimal::Decimal;
use thiserror::Error;

use crate::split::{SplitError, SplitPolicy};
use crate::wire::number::exact_i64;
use crate::wire::parser::Parser;
use crate::{Document, Ownership, Rules, Share};

pub use report::{MigrationReport, Sampled, VerifyReport};

/// The legacy tables (names may be schema-qualified: `legacy.client_products`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    /// The products table; gets the `ownership_details` column. Default `client_products`.
    pub products: String,
    /// The link table `(product_id, product_owner_id, created_at)`. Default `product_owner_products`.
    pub links: String,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            products: "client_products".into(),
            links: "product_owner_products".into(),
        }
    }
}

/// How to migrate.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// How 100 % is split among two or more owners.
    pub policy: SplitPolicy,
    /// Plan and count everything, write nothing.
    pub dry_run: bool,
    /// The tables.
    pub tables: Tables,
    /// How long to wait for the table locks before giving up. Default 60 s.
    pub lock_timeout: Duration,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            policy: SplitPolicy::Balanced,
            dry_run: false,
            tables: Tables::default(),
            lock_timeout: Duration::from_secs(60),
        }
    }
}

/// Why a migration or verification stopped. Nothing was written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The database could not be reached.
    #[error("cannot connect to the database: {0}")]
    Connect(postgres::Error),
    /// A database error (permissions, a missing column, a lock timeout, …).
    #[error("database error: {0}")]
    Database(#[from] postgres::Error),
    /// A table does not exist.
    #[error("table {0} does not exist")]
    MissingTable(String),
    /// A table name that is not a plain (optionally schema-qualified) identifier.
    #[error(
        "invalid table name {0:?}: use letters, digits and underscores, optionally schema.table"
    )]
    InvalidTableName(String),
    /// `verify` needs the `ownership_details` column that `migrate` adds.
    #[error("{0} has no ownership_details column: run migrate first")]
    MissingColumn(String),
    /// The seed policy would give some products a zero or negative share.
    #[error("the seed split breaks for {count} product(s), nothing was written; first: {}", describe_seed_failures(.first))]
    SeedPolicyBreaks {
        /// How many products.
        count: u64,
        /// The first few: `(product_id, owner count, share the seed would write)`.
        first: Vec<(i64, usize, Decimal)>,
    },
    /// The spool file could not be written or read.
    #[error("temporary file: {0}")]
    Io(#[from] std::io::Error),
    /// A row from the database was not in the expected shape.
    #[error("unexpected row from the database: {0}")]
    UnexpectedRow(String),
}

fn describe_seed_failures(first: &[(i64, usize, Decimal)]) -> String {
    first
        .iter()
        .map(|(p, n, s)| format!("product {p} ({n} owners, share {s})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Quotes a table name, each part of `schema.table` separately.
fn quote_table(name: &str) -> Result<String, MigrateError> {
    let parts: Vec<&str> = name.split('.').collect();
    let ok = parts.len() <= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !p.starts_with(|c: char| c.is_ascii_digit())
        });
    if !ok {
        return Err(MigrateError::InvalidTableName(name.into()));
    }
    Ok(parts
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join("."))
}

fn require_table(
    tx: &mut impl GenericClient,
    quoted: &str,
    name: &str,
) -> Result<(), MigrateError> {
    let exists: Option<String> = tx
        .query_one("SELECT to_regclass($1::text)::text", &[&quoted])?
        .get(0);
    exists
        .map(|_| ())
        .ok_or_else(|| MigrateError::MissingTable(name.into()))
}

fn has_column(
    tx: &mut impl GenericClient,
    quoted: &str,
    column: &str,
) -> Result<bool, MigrateError> {
    Ok(tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::text::regclass AND attname = $2::text AND attnum > 0 AND NOT attisdropped)",
            &[&quoted, &column],
        )?
        .get(0))
}

/// Splits one line of COPY text output into fields (`None` for `\N`), undoing
/// COPY's backslash escapes.
fn copy_fields(line: &str) -> Vec<Option<String>> {
    line.split('\t')
        .map(|f| {
            if f == "\\N" {
                return None;
            }
            if !f.contains('\\') {
                return Some(f.to_owned());
            }
            let mut out = String::with_capacity(f.len());
            let mut chars = f.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('v') => out.push('\u{b}'),
                    Some(other) => out.push(other),
                    None => {}
                }
            }
            Some(out)
        })
        .collect()
}

fn parse_id(field: Option<&str>) -> Result<i64, MigrateError> {
    field
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| MigrateError::UnexpectedRow(format!("product id {field:?}")))
}

/// The binary COPY signature, flags and header extension length.
const BINARY_COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// One `(product_id bigint, details jsonb)` row in binary COPY format: the
/// field count, then each field's length and bytes; a `jsonb` value is a
/// version byte (1) and the JSON text. Binary saves the server parsing the
/// id and un-escaping the text.
fn binary_row(out: &mut Vec<u8>, id: i64, document: &str) {
    out.extend_from_slice(&2i16.to_be_bytes());
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(document.len() as i32 + 1).to_be_bytes());
    out.push(1);
    out.extend_from_slice(document.as_bytes());
}

/// What the planning thread sends to the writing connection.
enum Planned {
    /// Binary COPY rows for the temporary table.
    Rows(Vec<u8>),
    /// Products planned so far.
    Progress(u64),
}

/// Rows sent per message: large enough to amortise the channel, small
/// enough that the few messages in flight keep memory bounded.
const CHUNK_BYTES: usize = 256 * 1024;

/// A connection in a read-only repeatable-read transaction, its snapshot not
/// yet taken (it is taken by the first query, or imported with `SET
/// TRANSACTION SNAPSHOT`). The migration opens these after its locks, so they
/// see exactly what will be updated.
fn read_connection(
    config: &postgres::Config,
    options: &MigrateOptions,
) -> Result<postgres::Client, MigrateError> {
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(MigrateError::Connect)?;
    client.batch_execute(&format!(
        "START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; \
         SET LOCAL lock_timeout = {}; SET LOCAL work_mem = '256MB'",
        options.lock_timeout.as_millis().max(1)
    ))?;
    Ok(client)
}

/// One link row: `(product_id, product_owner_id)`, either of which may be NULL.
type LinkRow = (Option<i64>, Option<i64>);

/// The link rows, sorted by `(product_id, created_at, product_owner_id)`,
/// one `(product_id, product_owner_id)` at a time.
struct Links<R> {
    reader: R,
    line: String,
    peeked: Option<LinkRow>,
    /// The stream ended; a COPY reader must not be read past its end.
    done: bool,
}

impl<R: BufRead> Links<R> {
    fn peek(&mut self) -> Result<Option<LinkRow>, MigrateError> {
        if self.peeked.is_none() && !self.done {
            self.line.clear();
            if self.reader.read_line(&mut self.line)? == 0 {
                self.done = true;
                return Ok(None);
            }
            let fields = copy_fields(self.line.trim_end_matches('\n'));
            let field = |i: usize| -> Result<Option<i64>, MigrateError> {
                match fields.get(i).cloned().flatten() {
                    None => Ok(None),
                    Some(f) => f.parse().map(Some).map_err(|_| {
                        MigrateError::UnexpectedRow(format!("link row {:?}", self.line))
                    }),
                }
            };
            self.peeked = Some((field(0)?, field(1)?));
        }
        Ok(self.peeked)
    }

    /// Takes every row of the product at the head; returns its id and owners.
    fn take_group(
        &mut self,
        owners: &mut Vec<Option<i64>>,
    ) -> Result<Option<Option<i64>>, MigrateError> {
        owners.clear();
        let Some((product, _)) = self.peek()? else {
            return Ok(None);
        };
        while let Some((p, owner)) = self.peek()? {
            if p != product {
                break;
            }
            owners.push(owner);
            self.peeked = None;
        }
        Ok(Some(product))
    }
}

/// The links of every product, in the order the migration uses.
fn link_query(links: &str) -> String {
    format!(
        "COPY (SELECT product_id, product_owner_id FROM {links} \
         ORDER BY product_id, created_at, product_owner_id) TO STDOUT"
    )
}

impl<R: BufRead> Links<R> {
    fn new(reader: R) -> Self {
        Links {
            reader,
            line: String::new(),
            peeked: None,
            done: false,
        }
    }
}

/// Walks the products (COPY lines ordered by id, the id first) and the links
/// (ordered by product) together, like a merge join: `product` gets each
/// product's fields and its owners in order, `orphan` each group of links
/// whose product does not exist (`None`: a NULL `product_id`).
fn merge_products_and_links(
    mut products: impl BufRead,
    links: &mut Links<impl BufRead>,
    mut product: impl FnMut(i64, &[Option<String>], &[Option<i64>]) -> Result<(), MigrateError>,
    mut orphan: impl FnMut(Option<i64>, usize),
) -> Result<(), MigrateError> {
    let mut line = String::new();
    let mut owners: Vec<Option<i64>> = Vec::new();
    loop {
        line.clear();
        if products.read_line(&mut line)? == 0 {
            break;
        }
        let fields = copy_fields(line.trim_end_matches('\n'));
        let id = parse_id(fields.first().and_then(|f| f.as_deref()))?;
        // Links of products below this one have no product.
        while let Some((Some(p), _)) = links.peek()? {
            if p >= id {
                break;
            }
            let group = links.take_group(&mut owners)?.flatten();
            orphan(group, owners.len());
        }
        owners.clear();
        if let Some((Some(p), _)) = links.peek()? {
            if p == id {
                links.take_group(&mut owners)?;
            }
        }
        product(id, &fields, &owners)?;
    }
    // Whatever links are left point past the last product (or at NULL).
    while let Some(group) = links.take_group(&mut owners)? {
        orphan(group, owners.len());
    }
    Ok(())
}

/// Reads the products and the links (two sorted streams on two connections,
/// merged here, so orphans fall out for free) and plans every product,
/// sending the documents down `tx` as COPY text. Returns the statistics, or
/// the seed-policy failures, once the input is exhausted.
fn plan_all(
    config: &postgres::Config,
    options: &MigrateOptions,
    products: &str,
    links: &str,
    tx: std::sync::mpsc::SyncSender<Planned>,
) -> Result<MigrationReport, MigrateError> {
    let mut product_client = read_connection(config, options)?;
    let mut link_client = read_connection(config, options)?;
    let product_query = format!("COPY (SELECT id FROM {products} ORDER BY id) TO STDOUT");
    let product_ids = BufReader::with_capacity(1 << 20, product_client.copy_out(&product_query)?);
    let mut links = Links::new(BufReader::with_capacity(
        1 << 20,
        link_client.copy_out(&link_query(links))?,
    ));
    let mut report = MigrationReport::default();
    let mut seed_failures: (u64, Vec<(i64, usize, Decimal)>) = (0, Vec::new());
    let mut chunk = Vec::with_capacity(CHUNK_BYTES + 4096);
    let send = |msg: Planned| {
        tx.send(msg)
            .map_err(|_| MigrateError::UnexpectedRow("the writer stopped".into()))
    };
    let (mut orphan_links, mut orphan_rows) = (Sampled::default(), 0u64);
    merge_products_and_links(
        product_ids,
        &mut links,
        |id, _, owners| {
            report.products += 1;
            report.link_rows += owners.len() as u64;
            match plan::plan_product(owners, options.policy) {
                Ok(plan) => {
                    for &d in &plan.duplicates {
                        report.duplicate_links.add((id, d.get()));
                    }
                    for &bad in &plan.invalid_owner_ids {
                        report.invalid_owner_links.add((id, bad));
                    }
                    *report
                        .by_association_type
                        .entry(plan.association_type().as_str())
                        .or_default() += 1;
                    *report.by_owner_count.entry(plan.owners.len()).or_default() += 1;
                    binary_row(&mut chunk, id, &plan.document());
                }
                Err(SplitError::SeedShareNotPositive { owners, share }) => {
                    seed_failures.0 += 1;
                    if seed_failures.1.len() < report::SAMPLES {
                        seed_failures.1.push((id, owners, share));
                    }
                }
                Err(e) => return Err(MigrateError::UnexpectedRow(format!("product {id}: {e}"))),
            }
            if chunk.len() >= CHUNK_BYTES {
                send(Planned::Rows(std::mem::replace(
                    &mut chunk,
                    Vec::with_capacity(CHUNK_BYTES + 4096),
                )))?;
                send(Planned::Progress(report.products))?;
            }
            Ok(())
        },
        |product, rows| {
            orphan_links.add((product.unwrap_or(0), rows as u64));
            orphan_rows += rows as u64;
        },
    )?;
    report.orphan_links = orphan_links;
    report.orphan_link_rows = orphan_rows;
    report.link_rows += orphan_rows;
    drop(links);
    product_client.batch_execute("COMMIT")?;
    link_client.batch_execute("COMMIT")?;
    if seed_failures.0 > 0 {
        return Err(MigrateError::SeedPolicyBreaks {
            count: seed_failures.0,
            first: seed_failures.1,
        });
    }
    send(Planned::Rows(chunk))?;
    send(Planned::Progress(report.products))?;
    Ok(report)
}

/// Migrates every product (see the [module docs](self)), connecting with
/// `config` (twice: one connection reads while the other writes). `progress`
/// is called with `(products planned, products in all)`.
///
/// Returns the report; on any error nothing has been written.
///
/// ```no_run
/// use coownership::migrate::{migrate, verify, MigrateOptions};
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
    let products = quote_table(&options.tables.products)?;
    let links = quote_table(&options.tables.links)?;
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(MigrateError::Connect)?;
    let mut tx = client.transaction()?;
    // Large sorts and hashes stay in memory; the temporary table too.
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = {}; SET LOCAL work_mem = '256MB'; SET LOCAL temp_buffers = '512MB'",
        options.lock_timeout.as_millis().max(1)
    ))?;
    require_table(&mut tx, &products, &options.tables.products)?;
    require_table(&mut tx, &links, &options.tables.links)?;
    // Writers wait until we commit; readers carry on.
    tx.batch_execute(&format!(
        "LOCK TABLE {products} IN SHARE ROW EXCLUSIVE MODE; LOCK TABLE {links} IN SHARE MODE"
    ))?;
    let had_column = has_column(&mut tx, &products, "ownership_details")?;
    let has_updated_at = has_column(&mut tx, &products, "updated_at")?;
    let total: i64 = tx
        .query_one(&format!("SELECT count(*) FROM {products}"), &[])?
        .get(0);
    let total = total as u64;
    progress(0, total);
    tx.batch_execute(
        "CREATE TEMP TABLE ownership_migration (product_id bigint NOT NULL, details jsonb NOT NULL) ON COMMIT DROP",
    )?;

    // Plan on a second connection (its snapshot is taken after our locks, so
    // it sees exactly what we will update) while this one loads the documents.
    let read_started = Instant::now();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Planned>(8);
    let planned = std::thread::scope(|scope| -> Result<MigrationReport, MigrateError> {
        // Owned here, so that any early return drops it and unblocks the planner.
        let receiver = receiver;
        let mut writer = tx.copy_in("COPY ownership_migration FROM STDIN (FORMAT binary)")?;
        writer.write_all(BINARY_COPY_HEADER)?;
        let planner = scope.spawn(|| plan_all(config, options, &products, &links, sender));
        let mut write_error = None;
        // Drain everything, even after a write error, so the planner never blocks.
        for msg in &receiver {
            match msg {
                Planned::Rows(rows) if write_error.is_none() => {
                    write_error = writer.write_all(&rows).err();
                }
                Planned::Rows(_) => {}
                Planned::Progress(done) => progress(done, total),
            }
        }
        let report = planner.join().unwrap_or_else(|_| {
            Err(MigrateError::UnexpectedRow(
                "the planning thread panicked".into(),
            ))
        })?;
        if let Some(e) = write_error {
            return Err(e.into());
        }
        // Only a complete plan is committed to the temporary table; on any
        // error above, dropping the writer aborts the COPY.
        writer.write_all(&(-1i16).to_be_bytes())?;
        writer.finish()?;
        Ok(report)
    })?;
    let mut report = MigrationReport {
        policy: options.policy,
        dry_run: options.dry_run,
        column_added: !had_column,
        ..planned
    };
    report
        .phases
        .push(("read, plan and load", read_started.elapsed()));
    // No ANALYZE: without statistics the planner still sizes the temporary
    // table from its pages and picks the same hash join, 0.1-0.2 s sooner.

    let update_started = Instant::now();
    if !had_column && !options.dry_run {
        tx.batch_execute(&format!(
            "ALTER TABLE {products} ADD COLUMN ownership_details jsonb"
        ))?;
    }
    let changed = if had_column {
        "p.ownership_details IS DISTINCT FROM m.details"
    } else {
        "true"
    };
    if options.dry_run {
        let n: i64 = tx
            .query_one(
                &format!("SELECT count(*) FROM {products} p JOIN ownership_migration m ON p.id = m.product_id WHERE {changed}"),
                &[],
            )?
            .get(0);
        report.updated = n as u64;
        tx.rollback()?;
    } else {
        let touch = if has_updated_at {
            ", updated_at = now()"
        } else {
            ""
        };
        report.updated = tx.execute(
            &format!(
                "UPDATE {products} p SET ownership_details = m.details{touch} \
                 FROM ownership_migration m WHERE p.id = m.product_id AND {changed}"
            ),
            &[],
        )?;
        tx.commit()?;
    }
    report.phases.push((
        if options.dry_run {
            "count changes"
        } else {
            "update and commit"
        },
        update_started.elapsed(),
    ));
    report.unchanged = report.products - report.updated;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Reconciles every product's `ownership_details` with its links: the owner
/// set equals the distinct owners linked, the shares equal `options.policy`'s
/// split, every document passes the seed rules; documents failing the strict
/// rules are counted by code. Reads in one repeatable-read snapshot.
pub fn verify(
    config: &postgres::Config,
    options: &MigrateOptions,
) -> Result<VerifyReport, MigrateError> {
    let start = Instant::now();
    let products = quote_table(&options.tables.products)?;
    let links = quote_table(&options.tables.links)?;
    // Two connections reading one snapshot: the second imports the first's.
    let mut main = read_connection(config, options)?;
    require_table(&mut main, &products, &options.tables.products)?;
    require_table(&mut main, &links, &options.tables.links)?;
    if !has_column(&mut main, &products, "ownership_details")? {
        return Err(MigrateError::MissingColumn(options.tables.products.clone()));
    }
    let snapshot: String = main.query_one("SELECT pg_export_snapshot()", &[])?.get(0);
    if !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(MigrateError::UnexpectedRow(format!(
            "snapshot id {snapshot:?}"
        )));
    }
    // SET commands are not queries: the snapshot can still be imported.
    let mut second = read_connection(config, options)?;
    second.batch_execute(&format!("SET TRANSACTION SNAPSHOT '{snapshot}'"))?;
    let mut report = VerifyReport {
        policy: options.policy,
        ..VerifyReport::default()
    };
    let mut orphan_rows = 0u64;
    {
        let product_query =
            format!("COPY (SELECT id, ownership_details FROM {products} ORDER BY id) TO STDOUT");
        let documents = BufReader::with_capacity(1 << 20, main.copy_out(&product_query)?);
        let mut links = Links::new(BufReader::with_capacity(
            1 << 20,
            second.copy_out(&link_query(&links))?,
        ));
        merge_products_and_links(
            documents,
            &mut links,
            |id, fields, owners| {
                report.products += 1;
                let document = fields.get(1).and_then(|f| f.as_deref());
                if reconcile(id, document, owners, options.policy, &mut report) {
                    report.reconciled += 1;
                }
                Ok(())
            },
            |_, rows| orphan_rows += rows as u64,
        )?;
    }
    report.orphan_link_rows = orphan_rows;
    second.batch_execute("COMMIT")?;
    main.batch_execute("COMMIT")?;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Checks one product; records mismatches and strict failures; true when it reconciles.
fn reconcile(
    id: i64,
    document: Option<&str>,
    owner_rows: &[Option<i64>],
    policy: SplitPolicy,
    report: &mut VerifyReport,
) -> bool {
    let Some(text) = document else {
        report.mismatch(id, "missing_document", "ownership_details is NULL".into());
        return false;
    };
    let doc = match Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            report.mismatch(id, "unparseable_document", e.to_string());
            return false;
        }
    };
    if let Err(v) = doc.validate(Rules::Strict) {
        let mut seen = Vec::new();
        for code in v.codes() {
            if !seen.contains(&code) {
                seen.push(code);
                report.strict_failures.entry(code).or_default().add(id);
            }
        }
    }
    let mut ok = true;
    if let Err(v) = doc.validate(Rules::Seed) {
        report.mismatch(id, "fails_seed", v.to_string());
        ok = false;
    }
    let plan = match plan::plan_product(owner_rows, policy) {
        Ok(p) => p,
        Err(e) => {
            report.mismatch(id, "seed_formula_breaks", e.to_string());
            return false;
        }
    };
    let expected_type = plan.association_type().as_str();
    let stored_type = doc
        .get("association_type")
        .and_then(|raw| serde_json::from_str::<String>(raw).ok());
    if stored_type.as_deref() != Some(expected_type) {
        report.mismatch(
            id,
            "association_type_mismatch",
            format!(
                "stored {:?}, expected {expected_type}",
                stored_type.as_deref().unwrap_or("none")
            ),
        );
        ok = false;
    }
    // The owners the document names, with their shares where it has them.
    let mut stored: BTreeMap<i64, Option<&str>> = BTreeMap::new();
    for (key, raw) in doc.entries() {
        if crate::document::is_owner_key(key) {
            if let Ok(owner) = key.parse::<i64>() {
                stored.insert(owner, Some(raw));
            }
        }
    }
    if let Some(raw) = doc.get("joint_owners") {
        for (_, span) in Parser::array_elements(raw) {
            if let Some(owner) = exact_i64(raw[span].as_bytes()) {
                stored.insert(owner, None);
            }
        }
    }
    let expected: BTreeMap<i64, Option<Share>> = match &plan.ownership {
        None => BTreeMap::new(),
        Some(Ownership::Individual(o)) => [(o.get(), Some(Share::FULL))].into(),
        Some(Ownership::TenantsInCommon(t)) => t
            .shares()
            .iter()
            .map(|&(o, s)| (o.get(), Some(s)))
            .collect(),
        Some(Ownership::JointOwnership(j)) => j.owners().iter().map(|o| (o.get(), None)).collect(),
    };
    let missing: Vec<i64> = expected
        .keys()
        .filter(|o| !stored.contains_key(o))
        .copied()
        .collect();
    let extra: Vec<i64> = stored
        .keys()
        .filter(|o| !expected.contains_key(o))
        .copied()
        .collect();
    if !missing.is_empty() {
        report.mismatch(
            id,
            "missing_owner",
            format!("linked owners {missing:?} are not in the document"),
        );
        ok = false;
    }
    if !extra.is_empty() {
        report.mismatch(
            id,
            "extra_owner",
            format!("owners {extra:?} are in the document but not linked"),
        );
        ok = false;
    }
    for (owner, want) in &expected {
        let (Some(want), Some(Some(raw))) = (want, stored.get(owner)) else {
            continue;
        };
        if raw.parse::<Share>().ok() != Some(*want) {
            report.mismatch(
                id,
                "share_mismatch",
                format!("owner {owner} holds {raw}, expected {want}"),
            );
            ok = false;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_is_unescaped() {
        assert_eq!(
            copy_fields("1\t{\"a\": \"x\\\\y\\tz\"}\t\\N"),
            [Some("1".into()), Some("{\"a\": \"x\\y\tz\"}".into()), None]
        );
    }

    #[test]
    fn table_names_are_checked_and_quoted() {
        assert_eq!(
            quote_table("client_products").unwrap(),
            "\"client_products\""
        );
        assert_eq!(
            quote_table("legacy.links_2").unwrap(),
            "\"legacy\".\"links_2\""
        );
        for bad in ["", "a;drop", "a.b.c", "1abc", "a b", "\"x\""] {
            assert!(quote_table(bad).is_err(), "{bad}");
        }
    }
}
