//! Table names: checked and quoted for SQL text, looked up, and qualified
//! with their schema as resolved now.

use postgres::GenericClient;

use super::Step;
use crate::DbError;

/// Quotes a table name, each part of `schema.table` separately.
pub(crate) fn quote_table(name: &str) -> Result<String, DbError> {
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

pub(crate) fn require_table(
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

/// The schema and name of a table, as the catalogue has them.
pub(crate) fn resolve_table(
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
pub(crate) fn qualify(tx: &mut impl GenericClient, quoted: &str) -> Result<String, DbError> {
    let (schema, table) = resolve_table(tx, quoted)?;
    Ok(format!("{}.{}", quote_ident(&schema), quote_ident(&table)))
}

/// Quotes one identifier for SQL text.
pub(crate) fn quote_ident(name: &str) -> String {
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
