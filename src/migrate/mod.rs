//! Migrating `product_owner_products` rows into `client_products.ownership_details`
//! (feature `postgres`), and verifying the result.
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
//!
//! [`verify`] reconciles every product's document with the links.

pub mod backup;
pub mod constrain;
mod copy;
mod db;
pub mod demo;
mod merge;
pub mod plan;
pub mod report;
mod run;
pub mod status;
pub mod uninstall;
mod verify;

use std::time::Duration;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::split::SplitPolicy;

pub use backup::{rollback, RollbackOptions, RollbackReport};
pub use constrain::{constrain, ConstrainOptions, ConstrainReport};
pub use report::{MigrationReport, Sampled, VerifyReport};
pub use run::migrate;
pub use status::{status, StatusReport};
pub use uninstall::{drop_backup, uninstall, UninstallOptions, UninstallReport};
pub use verify::verify;

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
    /// How long to try for the table locks before giving up. Default 60 s.
    /// The locks are tried together without waiting (`NOWAIT`) and retried,
    /// so the tool never holds one while waiting for the other.
    pub lock_timeout: Duration,
    /// Keep what the migration replaces in a backup table, in the same
    /// transaction, for [`rollback`]. Default `true`.
    pub backup: bool,
    /// Migrate even when the link table is empty, which gives every product
    /// no owner. Default `false`: an empty link table is refused
    /// ([`MigrateError::EmptyLinks`]), since it usually means the wrong
    /// table, or one already emptied after a migration.
    pub allow_empty_links: bool,
    /// Replace documents that name owners with no-owner ones (products
    /// with no links left). Default `false`: refused
    /// ([`MigrateError::WouldRemoveOwners`]), nothing written.
    pub allow_removing_owners: bool,
    /// [`verify`] only: the rules every document must pass. Default
    /// [`Rules::Seed`](crate::Rules::Seed) (what the legacy CHECK accepts);
    /// with [`Rules::Strict`](crate::Rules::Strict), any strict violation is
    /// a mismatch, so a document that reconciles by value but is not what
    /// `migrate` writes (a key `"010"`, stray `joint_owners`) is reported.
    pub verify_rules: crate::Rules,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        MigrateOptions {
            policy: SplitPolicy::Balanced,
            dry_run: false,
            tables: Tables::default(),
            lock_timeout: Duration::from_secs(60),
            backup: true,
            allow_empty_links: false,
            allow_removing_owners: false,
            verify_rules: crate::Rules::Seed,
        }
    }
}

/// Why a database command stopped. Nothing was written, unless the variant
/// says otherwise.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The database could not be reached.
    #[error("cannot connect to the database: {}", db::describe(.0))]
    Connect(postgres::Error),
    /// A database error (permissions, a trigger or CHECK refusing a
    /// document, a statement timeout, a read-only database, a server that went
    /// away, …): the step the tool was in and what PostgreSQL said (SQLSTATE,
    /// message, detail, hint).
    #[error("database error while {step}: {}", db::describe(.source))]
    Database {
        /// What the tool was doing, e.g. `writing the documents`.
        step: String,
        /// The error.
        source: postgres::Error,
    },
    /// The table locks could not all be taken within the lock timeout. The
    /// tool never waits for one lock while holding another, so it cannot
    /// deadlock with the application, nor make others queue behind it.
    #[error("could not lock {table} within {}, nothing was written; {}", describe_duration(*.waited), describe_holders(.holders))]
    LockTimeout {
        /// The table that stayed locked.
        table: String,
        /// How long the tool tried.
        waited: Duration,
        /// The sessions holding locks on it: pid, application, state, query.
        holders: Vec<String>,
    },
    /// A column the tool reads or writes is missing.
    #[error("{table} has no column {column}")]
    NoSuchColumn {
        /// The table.
        table: String,
        /// The column.
        column: &'static str,
    },
    /// Products that cannot be planned (more owners than an equal split
    /// supports, …), every one counted; nothing was written.
    #[error("{count} product(s) cannot be planned, nothing was written: {}", .first.iter().map(|(p, why)| format!("product {p}: {why}")).collect::<Vec<_>>().join("; "))]
    Unplannable {
        /// How many products.
        count: u64,
        /// The first few, with the reason.
        first: Vec<(i64, String)>,
    },
    /// The products table lists the same id more than once (it has no unique
    /// key), so which row a document belongs to is not defined.
    #[error("{count} product id(s) appear more than once in {table}, nothing was written; first: {first:?}")]
    DuplicateProducts {
        /// The table.
        table: String,
        /// How many ids.
        count: u64,
        /// The first few.
        first: Vec<i64>,
    },
    /// A column has a type the tool cannot work with.
    #[error("{column} is {found}, expected {expected}")]
    WrongColumnType {
        /// `table.column`.
        column: String,
        /// Its type.
        found: String,
        /// What it must be.
        expected: &'static str,
    },
    /// The named backup table is not one `migrate` made.
    #[error("{0} is not a backup made by coownership migrate")]
    NotABackup(String),
    /// The link table has no rows: migrating would give every product no
    /// owner (and, over documents already there, wipe them all).
    #[error("{0} is empty: migrating it would leave every product without an owner; nothing was written (allow it with allow_empty_links, --allow-empty-links, if that is intended)")]
    EmptyLinks(String),
    /// Documents that name owners would be replaced with no-owner ones: their
    /// products have no links left.
    #[error("{count} document(s) in {table} name owners but their products have no links left, so the migration would remove every owner; nothing was written (allow it with allow_removing_owners, --allow-removing-owners, if that is intended); first: {first:?}")]
    WouldRemoveOwners {
        /// The products table.
        table: String,
        /// How many documents.
        count: u64,
        /// The first few products.
        first: Vec<i64>,
    },
    /// Another coownership run (migrate, constrain or rollback) is working
    /// on the same table: nothing was done. It holds a session advisory lock
    /// with key `(0x636f6f77 << 32) | the table's oid` until it ends.
    #[error("another coownership run is working on {table}, nothing was done: {}", if .holders.is_empty() { "it has just ended; try again".to_owned() } else { .holders.join("; ") })]
    AlreadyRunning {
        /// The table.
        table: String,
        /// The other run's session: pid, application name, start, query.
        holders: Vec<String>,
    },
    /// A first migration failed after adding the `ownership_details`
    /// column, and removing it again failed too: the column is left, NULL
    /// everywhere (nothing else was written).
    #[error("{cause}; the ownership_details column this run added to {table} could not be removed again ({reason}): it is empty; drop it with ALTER TABLE {table} DROP COLUMN ownership_details, or run migrate again")]
    ColumnLeft {
        /// The products table.
        table: String,
        /// Why the migration failed.
        cause: Box<MigrateError>,
        /// Why the column could not be removed.
        reason: String,
    },
    /// A table does not exist.
    #[error("table {0} does not exist")]
    MissingTable(String),
    /// The schema for the shipped functions cannot be used.
    #[error(transparent)]
    InvalidSchema(#[from] crate::sql::SchemaNameError),
    /// The schema for the shipped functions does not exist.
    #[error("schema {0} does not exist: create it first (CREATE SCHEMA {0}), or name another with --schema")]
    MissingSchema(String),
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
    /// Reading or writing failed outside the database (a database error
    /// met while streaming is a [`MigrateError::Database`]).
    #[error("input/output error: {0}")]
    Io(#[source] std::io::Error),
    /// A row from the database was not in the expected shape.
    #[error("unexpected row from the database: {0}")]
    UnexpectedRow(String),
}

/// `60 s`, `2 s`, `500 ms`: whole seconds when whole.
fn describe_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

fn describe_holders(holders: &[String]) -> String {
    if holders.is_empty() {
        "no session holds a lock on it any more".into()
    } else {
        format!("held by {}", holders.join("; "))
    }
}

impl MigrateError {
    /// Names `step` in a database error that the plain conversion from
    /// [`postgres::Error`] left unnamed.
    pub(crate) fn in_step(self, step: &str) -> Self {
        match self {
            MigrateError::Database {
                step: unnamed,
                source,
            } if unnamed == UNNAMED_STEP => MigrateError::Database {
                step: step.into(),
                source,
            },
            other => other,
        }
    }
}

const UNNAMED_STEP: &str = "talking to the database";

impl From<postgres::Error> for MigrateError {
    fn from(source: postgres::Error) -> Self {
        MigrateError::Database {
            step: UNNAMED_STEP.into(),
            source,
        }
    }
}

/// The COPY streams report a database error as an I/O error wrapping it:
/// unwrapped here, so that it is explained like any other.
impl From<std::io::Error> for MigrateError {
    fn from(e: std::io::Error) -> Self {
        if e.get_ref()
            .is_some_and(|inner| inner.is::<postgres::Error>())
        {
            let kind = e.kind();
            return match e
                .into_inner()
                .map(|inner| inner.downcast::<postgres::Error>())
            {
                Some(Ok(source)) => MigrateError::from(*source),
                Some(Err(inner)) => MigrateError::Io(std::io::Error::new(kind, inner)),
                None => MigrateError::Io(kind.into()),
            };
        }
        MigrateError::Io(e)
    }
}

fn describe_seed_failures(first: &[(i64, usize, Decimal)]) -> String {
    first
        .iter()
        .map(|(p, n, s)| format!("product {p} ({n} owners, share {s})"))
        .collect::<Vec<_>>()
        .join(", ")
}
