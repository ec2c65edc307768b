//! The backup `migrate` keeps of what it replaces, and [`rollback`], which
//! restores it.
//!
//! In the migration's own transaction, before its `UPDATE`, `migrate` copies
//! every row it is about to change into a new table
//! `ownership_backup_<UTC timestamp>` in the products table's schema:
//!
//! | column | what |
//! | --- | --- |
//! | `product_id` | the product |
//! | `previous` | its `ownership_details` before (NULL when the column did not exist) |
//! | `previous_updated_at` | its `updated_at` before (only when the table has one) |
//! | `written_updated_at` | the `updated_at` the migration wrote (likewise; backups made before this column existed lack it) |
//! | `written` | the document the migration wrote |
//!
//! and records, as JSON in the table's comment, the products table and
//! whether the migration added the column. The backup commits or rolls back
//! with the migration itself.

use postgres::GenericClient;
use serde::{Deserialize, Serialize};

use crate::db::{quote_ident, resolve_table, Step};
use crate::migrate::Staging;
use crate::DbError;

/// What a backup records about its migration, as JSON in the table's
/// comment: `{"coownership_backup": 1, "products_table": …, "column_added":
/// …, "updated_at": …, "policy": …}`. The marker tells a backup made here
/// from any other table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meta {
    /// Always [`Marker::V1`]: a comment without it is not ours.
    coownership_backup: Marker,
    /// `schema.table`, as resolved when the migration ran.
    pub(crate) products_table: String,
    /// The migration added the `ownership_details` column.
    pub(crate) column_added: bool,
    /// The products table has `updated_at`, which the migration touched.
    pub(crate) updated_at: bool,
    /// The split policy used.
    pub(crate) policy: String,
}

/// The backup format's version: `1`, the only one so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
enum Marker {
    V1,
}

impl TryFrom<u8> for Marker {
    type Error = String;

    fn try_from(n: u8) -> Result<Self, String> {
        match n {
            1 => Ok(Marker::V1),
            other => Err(format!("unknown backup format {other}")),
        }
    }
}

impl From<Marker> for u8 {
    fn from(_: Marker) -> u8 {
        1
    }
}

impl Meta {
    /// What a migration of `products_table` records.
    pub(crate) fn new(
        products_table: String,
        column_added: bool,
        updated_at: bool,
        policy: &str,
    ) -> Self {
        Meta {
            coownership_backup: Marker::V1,
            products_table,
            column_added,
            updated_at,
            policy: policy.to_owned(),
        }
    }

    fn to_comment(&self) -> String {
        serde_json::to_string(self).expect("a struct of strings and booleans serializes")
    }

    /// The record in a table's comment; `None` when the comment is not one.
    pub(crate) fn from_comment(comment: &str) -> Option<Meta> {
        serde_json::from_str(comment).ok()
    }
}

/// Creates the backup of every row that `staging` changes, before the
/// migration's `UPDATE`, and returns its name,
/// `schema.ownership_backup_<UTC timestamp>`. `meta.products_table` is
/// filled in here.
pub(crate) fn create(
    tx: &mut impl GenericClient,
    products: &str,
    meta: &Meta,
    staging: &Staging,
) -> Result<String, DbError> {
    let (schema, table) = resolve_table(tx, products)?;
    let meta = Meta {
        products_table: format!("{schema}.{table}"),
        ..meta.clone()
    };
    let stamp: String = tx
        .query_one(
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD_HH24MISS')",
            &[],
        )
        .step("naming the backup")?
        .get(0);
    // Two migrations within one second: the second gets a suffix.
    let mut name = format!("ownership_backup_{stamp}");
    for n in 2.. {
        let taken: bool = tx
            .query_one(
                "SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL",
                &[&schema, &name],
            )
            .step("naming the backup")?
            .get(0);
        if !taken {
            break;
        }
        name = format!("ownership_backup_{stamp}_{n}");
    }
    let target = format!("{}.{}", quote_ident(&schema), quote_ident(&name));
    // The `updated_at` the migration is about to write (its transaction's
    // `now()`), so that a rollback can tell a row the application edited
    // since from one it did not.
    let updated_at = if meta.updated_at {
        "p.updated_at AS previous_updated_at, now() AS written_updated_at, "
    } else {
        ""
    };
    let (source, changed) = (Staging::SOURCE, staging.changed());
    // The columns take the products table's own types. (The column exists
    // by now: a first migration adds it, NULL, before its backup.)
    tx.batch_execute(&format!(
        "CREATE TABLE {target} AS SELECT p.id AS product_id, p.ownership_details AS previous, \
         {updated_at}u.details AS written \
         FROM {products} p JOIN {source} ON p.id = u.id WHERE {changed}; \
         COMMENT ON TABLE {target} IS {}",
        quote_literal(&meta.to_comment())
    ))
    .step(format!("creating the backup {schema}.{name}"))?;
    Ok(format!("{schema}.{name}"))
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Whether the table `quoted` is a backup `migrate` made (its comment says so).
pub(crate) fn is_backup(tx: &mut impl GenericClient, quoted: &str) -> Result<bool, DbError> {
    let comment: Option<String> = tx
        .query_one(
            "SELECT obj_description($1::text::regclass, 'pg_class')",
            &[&quoted],
        )
        .step("reading the table's comment")?
        .get(0);
    Ok(comment.as_deref().and_then(Meta::from_comment).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips_through_the_comment() {
        let meta = Meta::new("public.client_products".into(), true, false, "balanced");
        assert_eq!(Meta::from_comment(&meta.to_comment()), Some(meta));
        // What backups made before this struct existed say.
        let earlier = r#"{"coownership_backup":1,"column_added":true,"policy":"balanced","products_table":"public.client_products","updated_at":false}"#;
        assert_eq!(
            Meta::from_comment(earlier),
            Some(Meta::new(
                "public.client_products".into(),
                true,
                false,
                "balanced"
            ))
        );
        assert_eq!(Meta::from_comment(&earlier.replace(":1,", ":2,")), None);
        assert_eq!(Meta::from_comment("{}"), None);
        assert_eq!(Meta::from_comment("a table of my own"), None);
    }
}
