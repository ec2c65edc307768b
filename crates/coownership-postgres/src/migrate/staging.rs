//! The staging table: the planned documents in a temporary table on the
//! writing connection, and how they are applied to the products.

use std::io::Write;

use super::planning::Batch;
use crate::copy::{binary_row, BINARY_COPY_HEADER};
use crate::db::Step;
use crate::DbError;

/// The staging table's name, one literal for both constants below.
macro_rules! staging_table {
    () => {
        "pg_temp.ownership_migration"
    };
}

/// The planned documents, staged in a temporary table `(id, details)` on the
/// writing connection (dropped at commit), and how they are applied to the
/// products table. Every statement that reads the table names it through
/// [`Staging::SOURCE`], aliased `u`.
pub(crate) struct Staging<'a> {
    /// The products table, schema-qualified and quoted.
    pub(super) products: &'a str,
    pub(super) products_name: &'a str,
    /// The table has `ownership_details` to compare with (not so in a dry
    /// run of a first migration).
    pub(super) changed_column: bool,
    /// The table has `updated_at`, touched for written rows.
    pub(super) updated_at: bool,
    /// Count what would change; write nothing.
    pub(super) dry_run: bool,
}

impl Staging<'_> {
    /// The temporary table, schema-qualified so that no table of the same
    /// name can stand in for it.
    const TABLE: &'static str = staging_table!();
    /// The table as a `FROM` item, aliased `u`.
    pub(crate) const SOURCE: &'static str = concat!(staging_table!(), " AS u");

    /// Which rows change: all with a document when the column is new (NULL
    /// everywhere, and NULL is the no-owner state), else those whose
    /// document differs, so that a re-run writes nothing.
    pub(crate) fn changed(&self) -> &'static str {
        if self.changed_column {
            "p.ownership_details IS DISTINCT FROM u.details"
        } else {
            "u.details IS NOT NULL"
        }
    }

    /// The statement that applies the temporary table `u(id, details)` to
    /// the products (only rows whose document changes); in a dry run, the
    /// count of the rows that would change.
    fn statement(&self) -> String {
        let products = self.products;
        let (source, changed) = (Self::SOURCE, self.changed());
        if self.dry_run {
            return format!(
                "SELECT count(*) FROM {products} p JOIN {source} ON p.id = u.id WHERE {changed}"
            );
        }
        let touch = if self.updated_at {
            ", updated_at = now()"
        } else {
            ""
        };
        format!(
            "UPDATE {products} p SET ownership_details = u.details{touch} \
             FROM {source} WHERE p.id = u.id AND {changed}"
        )
    }

    /// Applies the temporary table's documents with one join (or, in a dry
    /// run, counts the changes).
    pub(super) fn apply(&self, tx: &mut postgres::Transaction<'_>) -> Result<u64, DbError> {
        // No ANALYZE: without statistics the planner still sizes the
        // temporary table from its pages and picks a hash join.
        let statement = self.statement();
        if self.dry_run {
            let n: i64 = tx
                .query_one(&statement, &[])
                .step("counting the changes")?
                .get(0);
            Ok(n as u64)
        } else {
            tx.execute(&statement, &[])
                .step(format!("writing the documents to {}", self.products_name))
        }
    }
}

/// Creates the temporary table and loads every batch into it with binary
/// `COPY`.
pub(super) fn load_staging(
    tx: &mut postgres::Transaction<'_>,
    batches: &std::sync::mpsc::Receiver<Batch>,
    progress: &mut dyn FnMut(u64),
) -> Result<(), DbError> {
    let table = Staging::TABLE;
    tx.batch_execute(&format!(
        "CREATE TEMP TABLE {} (id bigint NOT NULL, details jsonb) ON COMMIT DROP",
        table.trim_start_matches("pg_temp.")
    ))
    .step("creating the temporary table")?;
    let mut writer = tx
        .copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
        .step("loading the documents")?;
    writer.write_all(BINARY_COPY_HEADER)?;
    let mut rows = Vec::new();
    for batch in batches {
        rows.clear();
        for (id, document) in batch.ids.iter().zip(&batch.documents) {
            binary_row(&mut rows, *id, document.as_deref());
        }
        writer.write_all(&rows)?;
        progress(batch.planned);
    }
    // Only a complete plan is loaded: on any error above, dropping the
    // writer aborts the COPY.
    writer.write_all(&(-1i16).to_be_bytes())?;
    writer.finish().step("loading the documents")?;
    Ok(())
}
