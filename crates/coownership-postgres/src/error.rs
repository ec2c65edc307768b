//! What every operation can meet while talking to the database: [`DbError`].
//! Each operation wraps it in its own error type with the failures only it
//! can have ([`MigrateError`](crate::MigrateError),
//! [`ConstrainError`](crate::ConstrainError),
//! [`RollbackError`](crate::RollbackError),
//! [`UninstallError`](crate::UninstallError)); [`verify`](crate::verify)
//! and [`status`](crate::status) can only fail this way.

use std::time::Duration;

use thiserror::Error;

use crate::db;

/// A failure while reaching, reading or locking the database. Nothing was
/// written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DbError {
    /// The database could not be reached.
    #[error("cannot connect to the database: {}", db::describe(.0))]
    Connect(postgres::Error),
    /// A database error (permissions, a trigger or CHECK refusing a
    /// document, a statement timeout, a read-only database, a server that went
    /// away, …): the step the operation was in and what PostgreSQL said
    /// (SQLSTATE, message, detail, hint).
    #[error("database error while {}: {}", .step.as_deref().unwrap_or("talking to the database"), db::describe(.source))]
    Database {
        /// What the operation was doing, e.g. `writing the documents`;
        /// `None` where it did not say.
        step: Option<String>,
        /// The error.
        source: postgres::Error,
    },
    /// The table locks could not all be taken within the lock timeout. No
    /// operation waits for one lock while holding another, so it cannot
    /// deadlock with the application, nor make others queue behind it.
    #[error("could not lock {table} within {}, nothing was written; {}", describe_duration(*.waited), describe_holders(.holders))]
    LockTimeout {
        /// The table that stayed locked.
        table: String,
        /// How long the operation tried.
        waited: Duration,
        /// The sessions holding locks on it: pid, application, state, query.
        holders: Vec<String>,
    },
    /// Another coownership operation (migrate, constrain or rollback) is
    /// working on the same table: nothing was done. It holds a session
    /// advisory lock with key `(0x636f6f77 << 32) | the table's oid` until
    /// it ends.
    #[error("another coownership run is working on {table}, nothing was done: {}", if .holders.is_empty() { "it has just ended; try again".to_owned() } else { .holders.join("; ") })]
    AlreadyRunning {
        /// The table.
        table: String,
        /// The other run's session: pid, application name, start, query.
        holders: Vec<String>,
    },
    /// A table does not exist.
    #[error("table {0} does not exist")]
    MissingTable(String),
    /// A table name that is not a plain (optionally schema-qualified) identifier.
    #[error(
        "invalid table name {0:?}: use letters, digits and underscores, optionally schema.table"
    )]
    InvalidTableName(String),
    /// A column the operation reads or writes is missing.
    #[error("{table} has no column {column}")]
    NoSuchColumn {
        /// The table.
        table: String,
        /// The column.
        column: &'static str,
    },
    /// A column has a type the operation cannot work with.
    #[error("{column} is {found}, expected {expected}")]
    WrongColumnType {
        /// `table.column`.
        column: String,
        /// Its type.
        found: String,
        /// What it must be.
        expected: &'static str,
    },
    /// The `ownership_details` column that `migrate` adds is missing.
    #[error("{0} has no ownership_details column: run migrate first")]
    MissingColumn(String),
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
    /// Reading or writing failed outside the database (a database error
    /// met while streaming is a [`DbError::Database`]).
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

impl DbError {
    /// Names `step` in a database error that the plain conversion from
    /// [`postgres::Error`] left unnamed.
    pub(crate) fn in_step(self, step: &str) -> Self {
        match self {
            DbError::Database { step: None, source } => DbError::Database {
                step: Some(step.into()),
                source,
            },
            other => other,
        }
    }
}

impl From<postgres::Error> for DbError {
    fn from(source: postgres::Error) -> Self {
        DbError::Database { step: None, source }
    }
}

/// The COPY streams report a database error as an I/O error wrapping it:
/// unwrapped here, so that it is explained like any other.
impl From<std::io::Error> for DbError {
    fn from(e: std::io::Error) -> Self {
        if e.get_ref()
            .is_some_and(|inner| inner.is::<postgres::Error>())
        {
            let kind = e.kind();
            return match e
                .into_inner()
                .map(|inner| inner.downcast::<postgres::Error>())
            {
                Some(Ok(source)) => DbError::from(*source),
                Some(Err(inner)) => DbError::Io(std::io::Error::new(kind, inner)),
                None => DbError::Io(kind.into()),
            };
        }
        DbError::Io(e)
    }
}

/// The conversions every operation's error type needs: from [`DbError`]
/// and from what converts into it, so that `?` works on both.
macro_rules! wraps_db_error {
    ($error:ident) => {
        impl From<postgres::Error> for $error {
            fn from(e: postgres::Error) -> Self {
                $error::Db(e.into())
            }
        }

        impl From<std::io::Error> for $error {
            fn from(e: std::io::Error) -> Self {
                $error::Db(e.into())
            }
        }
    };
}
pub(crate) use wraps_db_error;
