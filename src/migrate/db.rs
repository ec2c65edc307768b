//! The catalogue and connections: table names checked and quoted, tables and
//! columns looked up, and the read-only snapshot connections.

use postgres::GenericClient;

use super::{MigrateError, MigrateOptions};

/// Quotes a table name, each part of `schema.table` separately.
pub(super) fn quote_table(name: &str) -> Result<String, MigrateError> {
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

pub(super) fn require_table(
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

pub(super) fn has_column(
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

/// A connection in a read-only repeatable-read transaction, its snapshot not
/// yet taken (it is taken by the first query, or imported with `SET
/// TRANSACTION SNAPSHOT`). The migration opens these after its locks, so they
/// see exactly what will be updated.
pub(super) fn read_connection(
    config: &postgres::Config,
    options: &MigrateOptions,
) -> Result<postgres::Client, MigrateError> {
    let mut client = connect(config)?;
    client.batch_execute(&format!(
        "START TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY; {}; SET LOCAL work_mem = '256MB'",
        lock_timeout(options.lock_timeout)
    ))?;
    Ok(client)
}

/// Connects with `config`.
pub(super) fn connect(config: &postgres::Config) -> Result<postgres::Client, MigrateError> {
    config
        .connect(postgres::NoTls)
        .map_err(MigrateError::Connect)
}

/// `SET LOCAL lock_timeout` for the current transaction, never 0 (which
/// would mean waiting forever).
pub(super) fn lock_timeout(lock_timeout: std::time::Duration) -> String {
    format!(
        "SET LOCAL lock_timeout = {}",
        lock_timeout.as_millis().max(1)
    )
}

/// A read-write transaction that waits at most `timeout` for each lock.
pub(super) fn begin(
    client: &mut postgres::Client,
    timeout: std::time::Duration,
) -> Result<postgres::Transaction<'_>, MigrateError> {
    let mut tx = client.transaction()?;
    tx.batch_execute(&lock_timeout(timeout))?;
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

/// The schema and name of a table, as the catalogue has them.
pub(super) fn resolve_table(
    tx: &mut impl GenericClient,
    quoted: &str,
) -> Result<(String, String), MigrateError> {
    let row = tx.query_one(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::text::regclass",
        &[&quoted],
    )?;
    Ok((row.get(0), row.get(1)))
}

/// Quotes one identifier for SQL text.
pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

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
