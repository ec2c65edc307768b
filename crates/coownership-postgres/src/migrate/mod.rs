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

mod planning;
mod staging;
mod transaction;

use std::time::Instant;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::db::{
    begin, check_columns, claim_table, connect_session, ddl_with_retry, has_column, qualify,
    quote_table, require_table, Step,
};
use crate::error::wraps_db_error;
use crate::report::MigrationReport;
use crate::{DbError, MigrateOptions};
pub(crate) use staging::Staging;
use transaction::migrate_in_one_transaction;

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
