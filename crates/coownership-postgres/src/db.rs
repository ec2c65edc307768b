//! The catalogue and connections: table names checked and quoted, tables and
//! columns looked up, and the read-only snapshot connections.

use postgres::GenericClient;

use crate::{DbError, MigrateOptions};

/// Quotes a table name, each part of `schema.table` separately.
pub(super) fn quote_table(name: &str) -> Result<String, DbError> {
    let parts: Vec<&str> = name.split('.').collect();
    let ok = parts.len() <= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !p.starts_with(|c: char| c.is_ascii_digit())
        });
    if !ok {
        return Err(DbError::InvalidTableName(name.into()));
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
) -> Result<(), DbError> {
    let exists: Option<String> = tx
        .query_one("SELECT to_regclass($1::text)::text", &[&quoted])
        .step(format!("looking up {name}"))?
        .get(0);
    exists
        .map(|_| ())
        .ok_or_else(|| DbError::MissingTable(name.into()))
}

pub(super) fn has_column(
    tx: &mut impl GenericClient,
    quoted: &str,
    column: &str,
) -> Result<bool, DbError> {
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
pub(super) fn connect(config: &postgres::Config) -> Result<postgres::Client, DbError> {
    config.connect(postgres::NoTls).map_err(DbError::Connect)
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

/// The schema and name of a table, as the catalogue has them.
pub(super) fn resolve_table(
    tx: &mut impl GenericClient,
    quoted: &str,
) -> Result<(String, String), DbError> {
    let row = tx.query_one(
        "SELECT n.nspname::text, c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::text::regclass",
        &[&quoted],
    )?;
    Ok((row.get(0), row.get(1)))
}

/// The table as resolved now, schema-qualified and quoted
/// (`"public"."client_products"`): later statements name exactly this table,
/// even after the tool creates a temporary table of the same name.
pub(super) fn qualify(tx: &mut impl GenericClient, quoted: &str) -> Result<String, DbError> {
    let (schema, table) = resolve_table(tx, quoted)?;
    Ok(format!("{}.{}", quote_ident(&schema), quote_ident(&table)))
}

/// The integer types an id column may have.
const INTEGER_TYPES: [&str; 3] = ["smallint", "integer", "bigint"];

/// The type of each column of a table (`format_type` names).
pub(super) fn column_types(
    tx: &mut impl GenericClient,
    quoted: &str,
) -> Result<std::collections::HashMap<String, String>, DbError> {
    Ok(tx
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped",
            &[&quoted],
        )
        .step("reading the column types")?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Checks, before anything is done, every column the tool reads or writes:
/// `products.id`, `links.product_id` and `links.product_owner_id` integers,
/// `links.created_at` present, `products.ownership_details` (if present)
/// `jsonb`. The merge of the two streams relies on numeric order; a `text`
/// id would silently lose owners.
pub(super) fn check_columns(
    tx: &mut impl GenericClient,
    (products, products_name): (&str, &str),
    (links, links_name): (&str, &str),
) -> Result<(), DbError> {
    let product_columns = column_types(tx, products)?;
    let link_columns = column_types(tx, links)?;
    let integer = |columns: &std::collections::HashMap<String, String>,
                   table: &str,
                   column: &'static str|
     -> Result<(), DbError> {
        match columns.get(column) {
            None => Err(DbError::NoSuchColumn {
                table: table.into(),
                column,
            }),
            Some(t) if INTEGER_TYPES.contains(&t.as_str()) => Ok(()),
            Some(t) => Err(DbError::WrongColumnType {
                column: format!("{table}.{column}"),
                found: t.clone(),
                expected: "an integer type (smallint, integer or bigint)",
            }),
        }
    };
    integer(&product_columns, products_name, "id")?;
    integer(&link_columns, links_name, "product_id")?;
    integer(&link_columns, links_name, "product_owner_id")?;
    if !link_columns.contains_key("created_at") {
        return Err(DbError::NoSuchColumn {
            table: links_name.into(),
            column: "created_at",
        });
    }
    match product_columns.get("ownership_details") {
        Some(t) if t != "jsonb" => Err(DbError::WrongColumnType {
            column: format!("{products_name}.ownership_details"),
            found: t.clone(),
            expected: "jsonb",
        }),
        _ => Ok(()),
    }
}

/// Takes every lock in `locks` (`(quoted table, mode, name)`), in order,
/// each with `NOWAIT`, inside a savepoint; if one is not free, releases all
/// of them, waits a moment and tries again, until `timeout`. So the tool
/// never holds one lock while waiting for another (no deadlock with an
/// application that takes them the other way round) and never queues (no
/// session waits behind a waiting migration). Returns how long it took.
pub(super) fn lock_tables(
    tx: &mut postgres::Transaction<'_>,
    locks: &[(&str, &str, &str)],
    timeout: std::time::Duration,
) -> Result<std::time::Duration, DbError> {
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(10);
    loop {
        let mut attempt = tx
            .savepoint("coownership_locks")
            .step("locking the tables")?;
        let mut busy = None;
        for &(quoted, mode, name) in locks {
            match attempt.batch_execute(&format!("LOCK TABLE {quoted} IN {mode} MODE NOWAIT")) {
                Ok(()) => {}
                Err(e) if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
                    busy = Some((quoted, name));
                    break;
                }
                Err(e) => return Err(e).step(format!("locking {name}")),
            }
        }
        let Some((quoted, name)) = busy else {
            attempt.commit().step("locking the tables")?;
            return Ok(started.elapsed());
        };
        attempt.rollback().step("locking the tables")?;
        if started.elapsed() >= timeout {
            return Err(DbError::LockTimeout {
                table: name.into(),
                waited: timeout,
                holders: lock_holders(tx, quoted)?,
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(200));
    }
}

/// The connection of a command that claims tables ([`claim_table`]): when
/// it goes, it releases its claims itself, so that the next command can
/// claim the table at once (not only when the server has noticed the
/// connection close).
pub(super) struct Session(postgres::Client);

impl std::ops::Deref for Session {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        &self.0
    }
}

impl std::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        &mut self.0
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Any transaction is over by now (it borrowed this connection).
        let _ = self.0.batch_execute("SELECT pg_advisory_unlock_all()");
    }
}

/// Connects a command that will claim tables.
pub(super) fn connect_session(config: &postgres::Config) -> Result<Session, DbError> {
    connect(config).map(Session)
}

/// The advisory lock class of a coownership run on a table: `coow`, so that
/// a run's key is `(0x636f6f77 << 32) | table oid`.
const RUN_LOCK_CLASS: i64 = 0x636f_6f77;

/// Claims the table for this run, with a session advisory lock held until
/// the connection closes: a second run on the same table (any of migrate,
/// constrain, rollback) fails at once, naming the first, instead of
/// colliding with it.
pub(super) fn claim_table(
    client: &mut impl GenericClient,
    quoted: &str,
    name: &str,
) -> Result<(), DbError> {
    // A run that has just ended may hold the lock for a moment more, until
    // the server has seen its connection close: while no session shows as
    // holding it, try again briefly.
    let mut tries = 0;
    loop {
        let claimed: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock(($1::bigint << 32) | $2::text::regclass::oid::bigint)",
                &[&RUN_LOCK_CLASS, &quoted],
            )
            .step(format!("claiming {name} for this run"))?
            .get(0);
        if claimed {
            return Ok(());
        }
        let holders = run_holders(client, quoted, name)?;
        tries += 1;
        if !holders.is_empty() || tries >= 40 {
            return Err(DbError::AlreadyRunning {
                table: name.to_owned(),
                holders,
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The sessions holding a run's claim on a table.
fn run_holders(
    client: &mut impl GenericClient,
    quoted: &str,
    name: &str,
) -> Result<Vec<String>, DbError> {
    let holders: Vec<String> = client
        .query(
            "SELECT a.pid, coalesce(nullif(a.application_name, ''), 'no application name'), \
                    coalesce(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), 'unknown'), \
                    left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 100) \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
               AND l.classid = $1::bigint::oid AND l.objid = $2::text::regclass::oid \
             ORDER BY a.pid",
            &[&RUN_LOCK_CLASS, &quoted],
        )
        .step(format!("finding the run that holds {name}"))?
        .iter()
        .map(|r| {
            let (pid, app, started, query): (i32, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            format!("pid {pid} ({app}, started {started}, last query: {query})")
        })
        .collect();
    Ok(holders)
}

/// Runs one DDL statement that needs a strong lock on `quoted` (`name` in
/// messages) the way pgroll does: each attempt waits at most 100 ms for the
/// lock (`lock_timeout`, inside a savepoint), and a failed attempt lets go,
/// pauses with exponential backoff and jitter, and tries again, until
/// `budget`; then [`DbError::LockTimeout`] names who holds the table.
/// So the statement never queues for long (readers and writers queue behind
/// a waiting `ALTER TABLE` for at most one attempt) and an application
/// transaction that holds a lock on the table is never its victim. Returns
/// how long it took.
pub(super) fn ddl_with_retry(
    tx: &mut postgres::Transaction<'_>,
    sql: &str,
    (quoted, name): (&str, &str),
    step: &str,
    budget: std::time::Duration,
) -> Result<std::time::Duration, DbError> {
    let started = std::time::Instant::now();
    let attempt =
        std::time::Duration::from_millis(100).min(budget.max(std::time::Duration::from_millis(1)));
    let mut pause = std::time::Duration::from_millis(10);
    // Jitter from the clock: no two runs retry in step.
    let mut seed = started.elapsed().subsec_nanos() as u64
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64)
        | 1;
    loop {
        let mut savepoint = tx.savepoint("coownership_ddl").step(step)?;
        let result = savepoint.batch_execute(&format!("{}; {sql}", lock_timeout(attempt)));
        match result {
            Ok(()) => {
                savepoint.commit().step(step)?;
                // The attempt's lock_timeout outlives the savepoint: back to the budget.
                tx.batch_execute(&lock_timeout(budget)).step(step)?;
                return Ok(started.elapsed());
            }
            Err(e) if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
                savepoint.rollback().step(step)?;
            }
            Err(e) => return Err(e).step(step),
        }
        if started.elapsed() >= budget {
            return Err(DbError::LockTimeout {
                table: name.into(),
                waited: budget,
                holders: lock_holders(tx, quoted)?,
            });
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let jitter = std::time::Duration::from_micros(seed % (pause.as_micros() as u64 + 1));
        std::thread::sleep(pause + jitter);
        pause = (pause * 2).min(std::time::Duration::from_millis(500));
    }
}

/// The other sessions holding a lock on a table, for an operator to act on.
fn lock_holders(tx: &mut impl GenericClient, quoted: &str) -> Result<Vec<String>, DbError> {
    Ok(tx
        .query(
            "SELECT DISTINCT a.pid, coalesce(nullif(a.application_name, ''), 'no application name'), \
                    coalesce(a.state, 'unknown state'), \
                    coalesce(extract(epoch FROM now() - a.xact_start)::bigint, 0), \
                    left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 100), l.mode \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.relation = $1::text::regclass AND l.granted AND l.pid <> pg_backend_pid() \
             ORDER BY a.pid",
            &[&quoted],
        )
        .step("finding who holds the lock")?
        .iter()
        .map(|r| {
            let (pid, app, state, secs, query, mode): (i32, String, String, i64, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
            format!("pid {pid} ({app}, {mode}, {state}, in a transaction for {secs} s, last query: {query})")
        })
        .collect())
}

/// On PostgreSQL 14 and later, makes the server check every second that the
/// client is still there, so that a killed tool's statement is cancelled at
/// once instead of running on, holding its locks, until it next writes.
pub(super) fn watch_client(tx: &mut impl GenericClient) -> Result<(), DbError> {
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
