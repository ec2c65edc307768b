//! Migrating `product_owner_products` rows into `client_products.ownership_details`
//! (feature `postgres`), and verifying the result.
//!
//! [`migrate`] replaces the seed's row-by-row PL/pgSQL loop with set-based,
//! streaming I/O in one transaction:
//!
//! 1. lock out writers: `SHARE ROW EXCLUSIVE` on the products table (reads go
//!    on, every `INSERT`/`UPDATE`/`DELETE` waits) and `SHARE` on the links;
//! 2. add the `jsonb` column if it is missing;
//! 3. `COPY` out one row per product with its owners aggregated in
//!    `(created_at, product_owner_id)` order, plan each product in Rust
//!    ([`plan::plan_product`]) and spool the documents to a temporary file
//!    (memory stays bounded whatever the table size);
//! 4. `COPY` the documents into a temporary table and apply them with one
//!    `UPDATE … FROM`, touching only rows whose document changes (so a re-run
//!    writes nothing);
//! 5. commit — or roll back on any error, on `dry_run`, or when the seed
//!    policy breaks for any product. A killed process never commits.
//!
//! [`verify`] reconciles every product's document with the links.

pub mod demo;
pub mod plan;
pub mod report;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use postgres::{Client, GenericClient, Transaction};
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
    /// A database error (connection, permissions, a missing column, a lock timeout, …).
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

/// One row per product: its id and its owner ids in `(created_at,
/// product_owner_id)` order (`\N` when it has no links).
fn products_with_owners(products: &str, links: &str, with_document: bool) -> String {
    let document = if with_document {
        ", p.ownership_details"
    } else {
        ""
    };
    format!(
        "COPY (SELECT p.id{document}, l.owners FROM {products} p LEFT JOIN \
         (SELECT product_id, array_agg(product_owner_id ORDER BY created_at, product_owner_id) AS owners \
          FROM {links} GROUP BY product_id) l ON l.product_id = p.id) TO STDOUT"
    )
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

/// Parses `{1,2,NULL}` (an `int8[]` in COPY text form).
fn parse_owner_array(field: Option<&str>) -> Result<Vec<Option<i64>>, MigrateError> {
    let Some(text) = field else {
        return Ok(Vec::new());
    };
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| MigrateError::UnexpectedRow(format!("owner array {text:?}")))?;
    if inner.is_empty() {
        return Ok(Vec::new());
    }
    inner
        .split(',')
        .map(|x| {
            if x == "NULL" {
                Ok(None)
            } else {
                x.parse()
                    .map(Some)
                    .map_err(|_| MigrateError::UnexpectedRow(format!("owner id {x:?}")))
            }
        })
        .collect()
}

fn parse_id(field: Option<&str>) -> Result<i64, MigrateError> {
    field
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| MigrateError::UnexpectedRow(format!("product id {field:?}")))
}

/// An anonymous spool file: created in the temporary directory and unlinked
/// at once, so that nothing is left behind however the process ends.
fn spool_file() -> Result<File, MigrateError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let path = std::env::temp_dir().join(format!(
        "ownership-migrate-{}-{nanos}.tsv",
        std::process::id()
    ));
    let file = File::options()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

/// Migrates every product (see the [module docs](self)). `progress` is called
/// with `(products done, products in all)` as planning advances.
///
/// Returns the report; on any error nothing has been written.
pub fn migrate(
    client: &mut Client,
    options: &MigrateOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<MigrationReport, MigrateError> {
    let start = Instant::now();
    let products = quote_table(&options.tables.products)?;
    let links = quote_table(&options.tables.links)?;
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!(
        "SET LOCAL lock_timeout = {}",
        options.lock_timeout.as_millis().max(1)
    ))?;
    require_table(&mut tx, &products, &options.tables.products)?;
    require_table(&mut tx, &links, &options.tables.links)?;
    // Writers wait until we commit; readers carry on.
    tx.batch_execute(&format!(
        "LOCK TABLE {products} IN SHARE ROW EXCLUSIVE MODE; LOCK TABLE {links} IN SHARE MODE"
    ))?;
    let mut report = MigrationReport {
        policy: options.policy,
        dry_run: options.dry_run,
        ..MigrationReport::default()
    };
    let had_column = has_column(&mut tx, &products, "ownership_details")?;
    report.column_added = !had_column;
    if !had_column && !options.dry_run {
        tx.batch_execute(&format!(
            "ALTER TABLE {products} ADD COLUMN ownership_details jsonb"
        ))?;
    }
    let has_updated_at = has_column(&mut tx, &products, "updated_at")?;
    let total: i64 = tx
        .query_one(&format!("SELECT count(*) FROM {products}"), &[])?
        .get(0);
    let total = total as u64;
    progress(0, total);

    // Plan every product, spooling the documents.
    let mut spool = spool_file()?;
    let mut out = BufWriter::with_capacity(1 << 20, &spool);
    let mut seed_failures: (u64, Vec<(i64, usize, Decimal)>) = (0, Vec::new());
    {
        let reader = tx.copy_out(&products_with_owners(&products, &links, false))?;
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            let fields = copy_fields(line.trim_end_matches('\n'));
            let id = parse_id(fields.first().and_then(|f| f.as_deref()))?;
            let owners = parse_owner_array(fields.get(1).and_then(|f| f.as_deref()))?;
            report.products += 1;
            report.link_rows += owners.len() as u64;
            match plan::plan_product(&owners, options.policy) {
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
                    // Canonical documents hold no tab, newline or backslash,
                    // so they go into COPY text format as they are.
                    writeln!(out, "{id}\t{}", plan.document())?;
                }
                Err(SplitError::SeedShareNotPositive { owners, share }) => {
                    seed_failures.0 += 1;
                    if seed_failures.1.len() < report::SAMPLES {
                        seed_failures.1.push((id, owners, share));
                    }
                }
                Err(e) => return Err(MigrateError::UnexpectedRow(format!("product {id}: {e}"))),
            }
            if report.products % 4096 == 0 {
                progress(report.products, total);
            }
        }
    }
    progress(report.products, total);
    out.flush()?;
    drop(out);
    if seed_failures.0 > 0 {
        return Err(MigrateError::SeedPolicyBreaks {
            count: seed_failures.0,
            first: seed_failures.1,
        });
    }
    orphans(&mut tx, &products, &links, &mut report)?;
    report.link_rows += report.orphan_link_rows;

    // Load the documents and apply them in one statement.
    tx.batch_execute(
        "CREATE TEMP TABLE ownership_migration (product_id bigint NOT NULL, details jsonb NOT NULL) ON COMMIT DROP",
    )?;
    {
        let mut writer = tx.copy_in("COPY ownership_migration FROM STDIN")?;
        spool.seek(SeekFrom::Start(0))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = spool.read(&mut buf)?;
            if n == 0 {
                break;
            }
            writer.write_all(&buf[..n])?;
        }
        writer.finish()?;
    }
    drop(spool);
    tx.batch_execute("ANALYZE ownership_migration")?;
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
    report.unchanged = report.products - report.updated;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Link rows whose product does not exist.
fn orphans(
    tx: &mut Transaction<'_>,
    products: &str,
    links: &str,
    report: &mut MigrationReport,
) -> Result<(), MigrateError> {
    let rows = tx.query(
        &format!(
            "SELECT l.product_id, count(*) FROM {links} l \
             WHERE NOT EXISTS (SELECT 1 FROM {products} p WHERE p.id = l.product_id) \
             GROUP BY l.product_id ORDER BY l.product_id"
        ),
        &[],
    )?;
    for row in rows {
        let id: Option<i64> = row.get(0);
        let n: i64 = row.get(1);
        report.orphan_links.add((id.unwrap_or(0), n as u64));
        report.orphan_link_rows += n as u64;
    }
    Ok(())
}

/// Reconciles every product's `ownership_details` with its links: the owner
/// set equals the distinct owners linked, the shares equal `options.policy`'s
/// split, every document passes the seed rules; documents failing the strict
/// rules are counted by code. Reads in one repeatable-read snapshot.
pub fn verify(client: &mut Client, options: &MigrateOptions) -> Result<VerifyReport, MigrateError> {
    let start = Instant::now();
    let products = quote_table(&options.tables.products)?;
    let links = quote_table(&options.tables.links)?;
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    require_table(&mut tx, &products, &options.tables.products)?;
    require_table(&mut tx, &links, &options.tables.links)?;
    if !has_column(&mut tx, &products, "ownership_details")? {
        return Err(MigrateError::MissingColumn(options.tables.products.clone()));
    }
    let mut report = VerifyReport {
        policy: options.policy,
        ..VerifyReport::default()
    };
    {
        let reader = tx.copy_out(&products_with_owners(&products, &links, true))?;
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                break;
            }
            let fields = copy_fields(line.trim_end_matches('\n'));
            let id = parse_id(fields.first().and_then(|f| f.as_deref()))?;
            let document = fields.get(1).cloned().flatten();
            let owners = parse_owner_array(fields.get(2).and_then(|f| f.as_deref()))?;
            report.products += 1;
            if reconcile(
                id,
                document.as_deref(),
                &owners,
                options.policy,
                &mut report,
            ) {
                report.reconciled += 1;
            }
        }
    }
    let orphan_rows: i64 = tx
        .query_one(
            &format!(
                "SELECT count(*) FROM {links} l WHERE NOT EXISTS (SELECT 1 FROM {products} p WHERE p.id = l.product_id)"
            ),
            &[],
        )?
        .get(0);
    report.orphan_link_rows = orphan_rows as u64;
    tx.commit()?;
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
        assert_eq!(
            parse_owner_array(Some("{3,NULL,-1}")).unwrap(),
            [Some(3), None, Some(-1)]
        );
        assert_eq!(parse_owner_array(None).unwrap(), []);
        assert!(parse_owner_array(Some("3,4")).is_err());
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
