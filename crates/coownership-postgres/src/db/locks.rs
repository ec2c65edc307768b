//! Locks taken without queueing behind the application: table locks tried
//! together with `NOWAIT` and retried, DDL in short retried attempts, and
//! the advisory lock that keeps two operations off one table; who holds a
//! lock, for the errors that say so.

use postgres::GenericClient;

use super::{connect, lock_timeout, Step};
use crate::DbError;

/// Takes every lock in `locks` (`(quoted table, mode, name)`), in order,
/// each with `NOWAIT`, inside a savepoint; if one is not free, releases all
/// of them, waits a moment and tries again, until `timeout`. So the tool
/// never holds one lock while waiting for another (no deadlock with an
/// application that takes them the other way round) and never queues (no
/// session waits behind a waiting migration). Returns how long it took.
pub(crate) fn lock_tables(
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
                    busy = Some((quoted, mode, name));
                    break;
                }
                Err(e) => return Err(e).step(format!("locking {name}")),
            }
        }
        let Some((quoted, mode, name)) = busy else {
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
        if only_autovacuum_holds(tx, quoted, mode == "ACCESS EXCLUSIVE")? {
            outwait_autovacuum(tx, quoted, mode, timeout.saturating_sub(started.elapsed()))?;
            continue;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(200));
    }
}

/// The connection of a command that claims tables ([`claim_table`]): when
/// it goes, it releases its claims itself, so that the next command can
/// claim the table at once (not only when the server has noticed the
/// connection close).
pub(crate) struct Session(postgres::Client);

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
pub(crate) fn connect_session(config: &postgres::Config) -> Result<Session, DbError> {
    connect(config).map(Session)
}

/// The advisory lock class of a coownership run on a table: `coow`, so that
/// a run's key is `(0x636f6f77 << 32) | table oid`.
const RUN_LOCK_CLASS: i64 = 0x636f_6f77;

/// Claims the table for this run, with a session advisory lock held until
/// the connection closes: a second run on the same table (any of migrate,
/// constrain, rollback) fails at once, naming the first, instead of
/// colliding with it.
pub(crate) fn claim_table(
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
pub(crate) fn ddl_with_retry(
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
        if only_autovacuum_holds(tx, quoted, true)? {
            let left = budget.saturating_sub(started.elapsed());
            outwait_autovacuum(tx, quoted, "ACCESS EXCLUSIVE", left)?;
            continue;
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

/// Whether autovacuum alone stands in the way on the table `quoted`: every
/// other session holding a lock on it is an autovacuum worker (there is at
/// least one). Sessions holding only `ACCESS SHARE` (readers) are left out
/// unless `readers_block` (the caller wants `ACCESS EXCLUSIVE`).
fn only_autovacuum_holds(
    tx: &mut impl GenericClient,
    quoted: &str,
    readers_block: bool,
) -> Result<bool, DbError> {
    Ok(tx
        .query_one(
            "SELECT count(*) > 0 AND bool_and(a.backend_type = 'autovacuum worker') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.relation = $1::text::regclass AND l.granted \
               AND l.pid <> pg_backend_pid() AND ($2 OR l.mode <> 'AccessShareLock')",
            &[&quoted, &readers_block],
        )
        .step("finding who holds the lock")?
        .get::<_, Option<bool>>(0)
        .unwrap_or(false))
}

/// Autovacuum gives way to a session that *waits* for a lock it holds: the
/// server cancels it once the wait passes `deadlock_timeout` (unless it is
/// preventing transaction-id wraparound). Asking with `NOWAIT`, or waiting
/// less, never makes it yield; so when it alone holds the table, wait once
/// for `deadlock_timeout` and a margin (at most `left`), then let the lock
/// go at once: the caller's next attempt takes it as usual. Meanwhile the
/// application's conflicting statements queue behind this one, for that
/// second or so.
fn outwait_autovacuum(
    tx: &mut postgres::Transaction<'_>,
    quoted: &str,
    mode: &str,
    left: std::time::Duration,
) -> Result<(), DbError> {
    let deadlock_ms: f64 = tx
        .query_one(
            "SELECT extract(epoch FROM current_setting('deadlock_timeout')::interval)::float8 * 1000",
            &[],
        )
        .step("reading deadlock_timeout")?
        .get(0);
    let wait = std::time::Duration::from_millis(deadlock_ms.max(0.0) as u64 + 500).min(left);
    if wait.is_zero() {
        return Ok(());
    }
    let mut savepoint = tx
        .savepoint("coownership_autovacuum")
        .step("waiting for autovacuum to give way")?;
    let waited = savepoint.batch_execute(&format!(
        "{}; LOCK TABLE {quoted} IN {mode} MODE",
        lock_timeout(wait)
    ));
    // Rolling back lets the lock go and restores the lock timeout.
    savepoint
        .rollback()
        .step("waiting for autovacuum to give way")?;
    match waited {
        Err(e) if e.code() != Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
            Err(e).step("waiting for autovacuum to give way")
        }
        _ => Ok(()),
    }
}
