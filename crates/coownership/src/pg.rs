//! PostgreSQL integration (feature `postgres`).
//!
//! | Rust | PostgreSQL |
//! | --- | --- |
//! | [`Document`](crate::Document) | `jsonb`, `json` (any object; exact text sent and received) |
//! | [`Ownership`](crate::Ownership) | `jsonb`, `json` (canonical form; decoding applies the strict rules) |
//! | [`Share`](crate::Share) | `numeric` (exact; decoding refuses more than two decimals or a value outside 0..=100) |
//!
//! The codecs themselves are in the crate's `codec` module (shared byte
//! layouts with the `sqlx` integration). The shipped CHECK functions are in
//! [`crate::sql`]; [`install`] and [`install_in`] run them.

//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use coownership::{Document, Ownership, OwnerId};
//!
//! let mut client = postgres::Client::connect("host=/run/postgresql user=postgres", postgres::NoTls)?;
//! coownership::pg::install(&mut client)?;
//! let o = Ownership::individual(OwnerId::new(123)?);
//! client.execute("UPDATE client_products SET ownership_details = $1 WHERE id = 1", &[&o])?;
//! let row = client.query_one("SELECT ownership_details FROM client_products WHERE id = 1", &[])?;
//! let back: Ownership = row.get(0); // errors if the stored row breaks the strict rules
//! let raw: Document = row.get(0); // always works for an object, metadata kept
//! # Ok(()) }
//! ```

/// Why [`install`] or [`install_in`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// The schema name cannot be used.
    #[error(transparent)]
    Schema(#[from] crate::sql::SchemaNameError),
    /// The session has no current schema (its `search_path` names none that exists).
    #[error("no current schema to install into: the search_path names no existing schema; use install_in")]
    NoCurrentSchema,
    /// The server refused the script (the schema does not exist, no `CREATE` on it, …).
    #[error("installing the shipped functions: {0}")]
    Database(#[from] postgres::Error),
}

/// Installs (or replaces) the shipped functions in the session's current
/// schema (the first existing schema on its `search_path`, usually
/// `public`). See [`install_in`].
pub fn install(client: &mut impl postgres::GenericClient) -> Result<(), InstallError> {
    let schema: Option<String> = client
        .query_one("SELECT current_schema()::text", &[])?
        .get(0);
    install_in(client, &schema.ok_or(InstallError::NoCurrentSchema)?)
}

/// Installs (or replaces) the shipped functions in `schema`, which must
/// exist; the functions then work whatever the caller's `search_path`
/// (see [`crate::sql`]).
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut client = postgres::Client::connect("host=/run/postgresql user=postgres", postgres::NoTls)?;
/// client.batch_execute("CREATE SCHEMA IF NOT EXISTS ownership")?;
/// coownership::pg::install_in(&mut client, "ownership")?;
/// let ok: bool = client
///     .query_one(r#"SELECT ownership.ownership_is_valid_strict('{"association_type":"individual","7":100}')"#, &[])?
///     .get(0);
/// assert!(ok);
/// # Ok(()) }
/// ```
pub fn install_in(
    client: &mut impl postgres::GenericClient,
    schema: &str,
) -> Result<(), InstallError> {
    client.batch_execute(&crate::sql::functions(schema)?)?;
    Ok(())
}
