//! [`uninstall`]: what `constrain` installed, removed again; and
//! [`drop_backup`], a backup `migrate` made, dropped by name.

use std::time::Duration;

use serde_json::{json, Value};

use crate::backup::is_backup;
use crate::db::{
    begin, claim_table, connect, connect_session, ddl_with_retry, quote_table, require_table, Step,
};
use thiserror::Error;

use crate::error::wraps_db_error;
use crate::DbError;
use coownership::sql::{check_schema, CONSTRAINT_NAME, DEFAULT_SCHEMA, FUNCTIONS};

/// Why [`uninstall`] or [`drop_backup`] stopped. Nothing was changed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum UninstallError {
    /// Reaching, reading or locking the database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The schema for the shipped functions cannot be used.
    #[error(transparent)]
    InvalidSchema(#[from] coownership::sql::SchemaNameError),
    /// The table [`drop_backup`] was given is not a backup `migrate` made.
    #[error("{0} is not a backup made by coownership migrate")]
    NotABackup(String),
}

wraps_db_error!(UninstallError);

/// How to uninstall.
#[derive(Clone, Debug)]
pub struct UninstallOptions {
    /// The products table. Default `client_products`.
    pub products: String,
    /// Where the shipped functions are, when no constraint says (the
    /// constraint's own dependency wins). Default `public`.
    pub schema: String,
    /// Drop the constraint only; leave the functions.
    pub keep_functions: bool,
    /// Check and report, change nothing.
    pub dry_run: bool,
    /// How long to keep trying for the table lock. Default 10 s.
    pub lock_timeout: Duration,
}

impl Default for UninstallOptions {
    fn default() -> Self {
        UninstallOptions {
            products: "client_products".into(),
            schema: DEFAULT_SCHEMA.into(),
            keep_functions: false,
            dry_run: false,
            lock_timeout: Duration::from_secs(10),
        }
    }
}

/// The outcome of [`uninstall`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UninstallReport {
    /// The products table.
    pub products_table: String,
    /// The schema of the functions.
    pub schema: String,
    /// The constraint was on the table (and is dropped, unless refused or a dry run).
    pub constraint: bool,
    /// The shipped functions found (and dropped, unless kept, refused or a dry run).
    pub functions: Vec<String>,
    /// Objects that still use the functions (other tables' constraints,
    /// indexes, views): nothing was changed.
    pub in_use_by: Vec<String>,
    /// Nothing was changed because the functions are in use.
    pub refused: bool,
    /// The functions were left on purpose.
    pub kept_functions: bool,
    /// A dry run: nothing changed.
    pub dry_run: bool,
}

/// Removes what [`constrain`](crate::constrain()) installed: the constraint
/// `ownership_details_valid` on the products table, then the shipped
/// functions, in one transaction. If anything else still uses the functions
/// (a constraint on another table, an index on `ownership_owner_ids`, a
/// view), it refuses and changes nothing, naming them; with
/// `keep_functions` it drops the constraint only. The constraint is dropped
/// under short lock attempts, retried, like `constrain` adds it.
///
/// ```no_run
/// use coownership_postgres::{uninstall, UninstallOptions};
///
/// let config: postgres::Config = "host=/run/postgresql user=portal dbname=portal".parse()?;
/// let report = uninstall(&config, &UninstallOptions::default())?;
/// print!("{}", report.summary());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn uninstall(
    config: &postgres::Config,
    options: &UninstallOptions,
) -> Result<UninstallReport, UninstallError> {
    let products = quote_table(&options.products)?;
    let schema = check_schema(&options.schema)?.to_owned();
    let mut client = connect_session(config)?;
    let mut tx = begin(&mut client, options.lock_timeout)?;
    require_table(&mut tx, &products, &options.products)?;
    claim_table(&mut tx, &products, &options.products)?;
    let mut report = UninstallReport {
        products_table: options.products.clone(),
        dry_run: options.dry_run,
        kept_functions: options.keep_functions,
        ..UninstallReport::default()
    };
    report.schema = drop_constraint(&mut tx, &products, options, &mut report)?.unwrap_or(schema);
    // `schema` is a checked plain identifier; the signatures are ours.
    let installed: Vec<String> = FUNCTIONS
        .iter()
        .map(|f| format!("{}.{f}", report.schema))
        .collect();
    report.functions = tx
        .query(
            "SELECT f FROM unnest($1::text[]) AS f WHERE to_regprocedure(f) IS NOT NULL",
            &[&installed],
        )
        .step("looking for the shipped functions")?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !options.keep_functions && !report.functions.is_empty() {
        report.in_use_by = users_of(&mut tx, &report.functions)?;
        if !report.in_use_by.is_empty() {
            report.refused = true;
            tx.rollback().step("rolling back")?;
            return Ok(report);
        }
        for f in &report.functions {
            tx.batch_execute(&format!("DROP FUNCTION {f}"))
                .step(format!("dropping {f}"))?;
        }
    }
    if options.dry_run {
        tx.rollback().step("rolling back the dry run")?;
    } else {
        tx.commit().step("committing")?;
    }
    Ok(report)
}

/// Drops our constraint if the table has it (under short, retried lock
/// attempts); the schema of the function it called, when it names one.
fn drop_constraint(
    tx: &mut postgres::Transaction<'_>,
    products: &str,
    options: &UninstallOptions,
    report: &mut UninstallReport,
) -> Result<Option<String>, DbError> {
    let found = tx
        .query_opt(
            "SELECT (SELECT p.pronamespace::regnamespace::text FROM pg_depend d \
                       JOIN pg_proc p ON p.oid = d.refobjid \
                      WHERE d.classid = 'pg_constraint'::regclass AND d.objid = c.oid \
                        AND d.refclassid = 'pg_proc'::regclass AND p.proname LIKE 'ownership\\_is\\_valid\\_%' \
                      LIMIT 1) \
             FROM pg_constraint c WHERE c.conrelid = $1::text::regclass AND c.conname = $2",
            &[&products, &CONSTRAINT_NAME],
        )
        .step("looking for the constraint")?;
    let Some(row) = found else {
        return Ok(None);
    };
    report.constraint = true;
    let schema = row
        .get::<_, Option<String>>(0)
        .filter(|s| check_schema(s).is_ok());
    ddl_with_retry(
        tx,
        &format!("ALTER TABLE {products} DROP CONSTRAINT {CONSTRAINT_NAME}"),
        (products, &options.products),
        "dropping the constraint",
        options.lock_timeout,
    )?;
    Ok(schema)
}

/// Whatever else depends on the shipped `functions` (another table's
/// constraint, an index, a view), described.
fn users_of(
    tx: &mut postgres::Transaction<'_>,
    functions: &[String],
) -> Result<Vec<String>, DbError> {
    Ok(tx
        .query(
            "SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid) \
             FROM pg_depend d \
             WHERE d.refclassid = 'pg_proc'::regclass AND d.deptype = 'n' \
               AND d.refobjid = ANY (SELECT to_regprocedure(f)::oid FROM unnest($1::text[]) AS f) \
             ORDER BY 1",
            &[&functions],
        )
        .step("looking for what uses the shipped functions")?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

impl UninstallReport {
    /// The report as JSON (what `--report FILE` writes).
    pub fn to_json(&self) -> Value {
        json!({
            "command": "uninstall",
            "products_table": self.products_table,
            "schema": self.schema,
            "constraint": self.constraint,
            "functions": self.functions,
            "in_use_by": self.in_use_by,
            "refused": self.refused,
            "kept_functions": self.kept_functions,
            "dry_run": self.dry_run,
        })
    }

    /// A short human summary (what the CLI prints).
    pub fn summary(&self) -> String {
        let verb = |done: &str, would: &str| {
            if self.dry_run || self.refused {
                would.to_owned()
            } else {
                done.to_owned()
            }
        };
        let mut s = format!("coownership uninstall on {}\n", self.products_table);
        s.push_str(&if self.constraint {
            format!(
                "  constraint {CONSTRAINT_NAME}: {}\n",
                verb("dropped", "would be dropped")
            )
        } else {
            format!("  constraint {CONSTRAINT_NAME}: not there\n")
        });
        if self.functions.is_empty() {
            s.push_str(&format!("  shipped functions in {}: none\n", self.schema));
        } else if self.kept_functions {
            s.push_str(&format!(
                "  {} shipped function(s) in {}: kept\n",
                self.functions.len(),
                self.schema
            ));
        } else {
            s.push_str(&format!(
                "  {} shipped function(s) in {}: {}\n",
                self.functions.len(),
                self.schema,
                verb("dropped", "would be dropped")
            ));
        }
        if self.refused {
            s.push_str(&format!(
                "  refused, nothing changed: the functions are still used by {}; drop those first, or pass --keep-functions to drop the constraint only\n",
                self.in_use_by.join(", ")
            ));
        } else if self.dry_run {
            s.push_str("  dry run, nothing changed\n");
        }
        s
    }
}

/// Drops a backup table `migrate` made (checked by its comment), by name:
/// `schema.ownership_backup_…`. Returns how many rows it held. Anything
/// else is refused ([`UninstallError::NotABackup`]).
pub fn drop_backup(config: &postgres::Config, backup: &str) -> Result<u64, UninstallError> {
    let quoted = quote_table(backup)?;
    let mut client = connect(config)?;
    let mut tx = begin(&mut client, Duration::from_secs(10))?;
    require_table(&mut tx, &quoted, backup)?;
    if !is_backup(&mut tx, &quoted)? {
        return Err(UninstallError::NotABackup(backup.to_owned()));
    }
    let rows: i64 = tx
        .query_one(&format!("SELECT count(*) FROM {quoted}"), &[])
        .step(format!("counting {backup}"))?
        .get(0);
    tx.batch_execute(&format!("DROP TABLE {quoted}"))
        .step(format!("dropping {backup}"))?;
    tx.commit().step("committing")?;
    Ok(rows as u64)
}
