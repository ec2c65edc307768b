//! PostgreSQL integration (feature `postgres`).
//!
//! | Rust | PostgreSQL |
//! | --- | --- |
//! | [`Document`] | `jsonb`, `json` (any object; exact text sent and received) |
//! | [`Ownership`] | `jsonb`, `json` (canonical form; decoding applies the strict rules) |
//! | [`Share`] | `numeric` (exact; decoding refuses more than two decimals or a value outside 0..=100) |
//!
//! The shipped CHECK functions are in [`crate::sql`]; [`install`] and
//! [`install_in`] run them.

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

use std::error::Error;

use bytes::BytesMut;
use postgres_types::{accepts, to_sql_checked, FromSql, IsNull, ToSql, Type};

use crate::{pgwire, Document, Ownership, Share};

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

type BoxError = Box<dyn Error + Sync + Send>;

// The byte layouts live in `crate::pgwire`, shared with the sqlx integration.

impl<'a> FromSql<'a> for Document {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(pgwire::document(pgwire::json_text(
            *ty == Type::JSONB,
            raw,
        )?)?)
    }

    accepts!(JSON, JSONB);
}

impl ToSql for Document {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        pgwire::write_json(*ty == Type::JSONB, self.as_str(), out);
        Ok(IsNull::No)
    }

    accepts!(JSON, JSONB);
    to_sql_checked!();
}

/// Decoding applies the strict rules: a stored row that breaks them is an
/// error carrying the [`Violations`](crate::Violations). Read such rows as
/// [`Document`] instead.
impl<'a> FromSql<'a> for Ownership {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        pgwire::ownership(pgwire::json_text(*ty == Type::JSONB, raw)?)
    }

    accepts!(JSON, JSONB);
}

impl ToSql for Ownership {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        pgwire::write_json(*ty == Type::JSONB, &self.to_json(), out);
        Ok(IsNull::No)
    }

    accepts!(JSON, JSONB);
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Share {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        pgwire::read_share(raw)
    }

    accepts!(NUMERIC);
}

/// Always with scale 2 (`0.00`, `100.00`).
impl ToSql for Share {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        pgwire::write_share(*self, out);
        Ok(IsNull::No)
    }

    accepts!(NUMERIC);
    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn jsonb_wire_layout() {
        let doc = Document::parse(r#"{"association_type":"individual","1":100.00}"#).unwrap();
        let mut out = BytesMut::new();
        doc.to_sql(&Type::JSONB, &mut out).unwrap();
        assert_eq!(out[0], 1);
        assert_eq!(&out[1..], doc.as_str().as_bytes());
        let mut out = BytesMut::new();
        doc.to_sql(&Type::JSON, &mut out).unwrap();
        assert_eq!(&out[..], doc.as_str().as_bytes());

        let back = Document::from_sql(&Type::JSONB, b"\x01{\"a\": 1}").unwrap();
        assert_eq!(back.as_str(), "{\"a\": 1}");
        let err = Document::from_sql(&Type::JSONB, b"\x02{}").unwrap_err();
        assert!(err.to_string().contains("version 2"), "{err}");
        assert!(Document::from_sql(&Type::JSONB, b"").is_err());
        assert!(<Document as FromSql>::accepts(&Type::JSONB));
        assert!(<Document as FromSql>::accepts(&Type::JSON));
        assert!(!<Document as FromSql>::accepts(&Type::TEXT));
        assert!(!<Share as ToSql>::accepts(&Type::FLOAT8));
    }

    #[test]
    fn share_numeric_layout() {
        // 33.30: ndigits 2, weight 0, positive, dscale 2, digits 33 and 3000.
        let mut out = BytesMut::new();
        Share::from_basis_points(3330)
            .unwrap()
            .to_sql(&Type::NUMERIC, &mut out)
            .unwrap();
        assert_eq!(&out[..], [0, 2, 0, 0, 0, 0, 0, 2, 0, 33, 0x0b, 0xb8]);
        for bp in [0u16, 1, 50, 99, 100, 101, 3333, 9999, 10_000] {
            let mut out = BytesMut::new();
            let share = Share::from_basis_points(bp).unwrap();
            share.to_sql(&Type::NUMERIC, &mut out).unwrap();
            let back = Decimal::from_sql(&Type::NUMERIC, &out).unwrap();
            assert_eq!(back, share.to_decimal(), "{bp}");
            assert_eq!(back.scale(), 2, "{bp}");
        }
    }
}
