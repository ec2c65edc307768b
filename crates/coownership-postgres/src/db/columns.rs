//! The columns an operation reads or writes: present, and of a type it can
//! work with.

use postgres::GenericClient;

use super::Step;
use crate::DbError;

pub(crate) fn has_column(
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

/// The integer types an id column may have.
const INTEGER_TYPES: [&str; 3] = ["smallint", "integer", "bigint"];

/// The type of each column of a table (`format_type` names).
pub(crate) fn column_types(
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
pub(crate) fn check_columns(
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
