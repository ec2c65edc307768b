//! Connections and transactions: connecting, the read-only snapshot
//! connections, a transaction with the operation's lock timeout, and what
//! a database error says.

use postgres::GenericClient;

use crate::{DbError, MigrateOptions};

/// A connection in a read-only repeatable-read transaction, its snapshot not
/// yet taken (it is taken by the first query, or imported with `SET
/// TRANSACTION SNAPSHOT`). The migration opens these after its locks, so they
/// see exactly what will be updated.
pub(crate) fn read_connection(
    config: &postgres::Config,
    options: &MigrateOptions,
) -> Result<postgres::Client, DbError> {
    let mut client = connect(config)?;
    client
        .batch_execute(&format!(
            "START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; {}; SET LOCAL work_mem = '256MB'",
            lock_timeout(options.lock_timeout)
        ))
        .step("starting a read-only transaction")?;
    watch_client(&mut client)?;
    Ok(client)
}

/// Names the step a database call belongs to, for its error.
pub(crate) trait Step<T> {
    /// Maps a database error to [`DbError::Database`] with `step`.
    fn step(self, step: impl Into<String>) -> Result<T, DbError>;
}

impl<T> Step<T> for Result<T, postgres::Error> {
    fn step(self, step: impl Into<String>) -> Result<T, DbError> {
        self.map_err(|source| DbError::Database {
            step: Some(step.into()),
            source,
        })
    }
}

/// Connects with `config`.
pub(crate) fn connect(config: &postgres::Config) -> Result<postgres::Client, DbError> {
    config.connect(postgres::NoTls).map_err(DbError::Connect)
}

/// `SET LOCAL lock_timeout` for the current transaction, never 0 (which
/// would mean waiting forever).
pub(crate) fn lock_timeout(lock_timeout: std::time::Duration) -> String {
    format!(
        "SET LOCAL lock_timeout = {}",
        lock_timeout.as_millis().max(1)
    )
}

/// A read-write transaction that waits at most `timeout` for each lock.
pub(crate) fn begin(
    client: &mut postgres::Client,
    timeout: std::time::Duration,
) -> Result<postgres::Transaction<'_>, DbError> {
    let mut tx = client.transaction().step("starting a transaction")?;
    tx.batch_execute(&lock_timeout(timeout))
        .step("setting lock_timeout")?;
    watch_client(&mut tx)?;
    Ok(tx)
}

/// What PostgreSQL said, in full: SQLSTATE, message, detail, hint (the
/// client's own `Display` says only "db error"); for other errors, the
/// error and its causes. Never the connection's password, which no server
/// message contains.
pub(crate) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{} {}", db.code().code(), db.message());
        if let Some(detail) = db.detail() {
            s.push_str(&format!(" (detail: {detail})"));
        }
        if let Some(hint) = db.hint() {
            s.push_str(&format!(" (hint: {hint})"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    s
}

/// On PostgreSQL 14 and later, makes the server check every second that the
/// client is still there, so that a killed tool's statement is cancelled at
/// once instead of running on, holding its locks, until it next writes.
pub(crate) fn watch_client(tx: &mut impl GenericClient) -> Result<(), DbError> {
    let version: String = tx
        .query_one("SHOW server_version_num", &[])
        .step("reading the server version")?
        .get(0);
    if version.parse::<u32>().unwrap_or(0) >= 140_000 {
        tx.batch_execute("SET client_connection_check_interval = '1s'")
            .step("setting client_connection_check_interval")?;
    }
    Ok(())
}
