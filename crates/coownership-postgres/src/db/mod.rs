//! Talking to the database, for every operation: names, columns,
//! connections and locks.

mod columns;
mod connect;
mod locks;
mod names;

pub(crate) use columns::{check_columns, has_column};
pub(crate) use connect::{begin, connect, describe, lock_timeout, read_connection, Step};
pub(crate) use locks::{claim_table, connect_session, ddl_with_retry, lock_tables};
pub(crate) use names::{qualify, quote_ident, quote_table, require_table, resolve_table};
