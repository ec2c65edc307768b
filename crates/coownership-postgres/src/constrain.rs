//! [`constrain`]: the shipped functions installed, and one CHECK constraint
//! with the chosen rules on `ownership_details`, added without blocking the
//! application for longer than a catalogue update.

use std::time::{Duration, Instant};

use postgres::GenericClient;
use serde_json::{json, Value};

use crate::db::{
    begin, claim_table, connect_session, ddl_with_retry, describe, has_column, quote_table,
    require_table,
};
use crate::report::{Phase, Sampled, SAMPLES};
use thiserror::Error;

use crate::error::wraps_db_error;
use crate::DbError;
use coownership::sql::{check_schema, functions, CONSTRAINT_NAME, DEFAULT_SCHEMA, VERSION};
use coownership::{Document, Rules};

/// The seed's own constraints on `ownership_details` (its Phase 3 and Phase
/// 5), which `--replace-legacy` drops.
pub(crate) const LEGACY_CONSTRAINTS: [&str; 3] = [
    "valid_product_ownership_details",
    "valid_product_ownership_details_precise",
    "valid_ownership_percentages_precise",
];

/// Earlier names of our own constraint (the README once told operators to
/// add it by hand under this name): replaced like a previous version.
const EARLIER_NAMES: [&str; 1] = ["ownership_details_strict"];

/// Why [`constrain`] stopped. Nothing was changed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConstrainError {
    /// Reaching, reading or locking the database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The schema for the shipped functions cannot be used.
    #[error(transparent)]
    InvalidSchema(#[from] coownership::sql::SchemaNameError),
    /// The schema for the shipped functions does not exist.
    #[error("schema {0} does not exist: create it first (CREATE SCHEMA {0})")]
    MissingSchema(String),
}

wraps_db_error!(ConstrainError);

/// How to constrain.
#[derive(Clone, Debug)]
pub struct ConstrainOptions {
    /// The rules the constraint enforces: [`Rules::Strict`] (for new writes)
    /// or the seed's ([`Rules::Seed`]; [`Rules::SeedPg18`] is the same SQL).
    pub rules: Rules,
    /// The products table. Default `client_products`.
    pub products: String,
    /// The schema the shipped functions are installed into, and the
    /// constraint calls them in. It must exist. Default `public`
    /// ([`DEFAULT_SCHEMA`]).
    pub schema: String,
    /// Check and report, change nothing (the functions are not installed either).
    pub dry_run: bool,
    /// Also drop the seed's own ownership constraints (`valid_product_ownership_details_precise` and its kin, whichever exist).
    pub replace_legacy: bool,
    /// How long to wait for each table lock. Default 10 s: the `ALTER TABLE`
    /// needs a moment of `ACCESS EXCLUSIVE`, and while it waits, other
    /// sessions queue behind it.
    pub lock_timeout: Duration,
}

impl Default for ConstrainOptions {
    fn default() -> Self {
        ConstrainOptions {
            rules: Rules::Strict,
            products: "client_products".into(),
            schema: DEFAULT_SCHEMA.into(),
            dry_run: false,
            replace_legacy: false,
            lock_timeout: Duration::from_secs(10),
        }
    }
}

/// The outcome of [`constrain`].
#[derive(Clone, Debug, Default)]
pub struct ConstrainReport {
    /// `strict` or `seed`.
    pub rules: &'static str,
    /// The products table.
    pub products_table: String,
    /// The schema of the shipped functions.
    pub schema: String,
    /// The revision of the shipped functions found: `None` when none were
    /// installed, `Some(1)` for an install from before they had a version.
    pub sql_version_before: Option<i32>,
    /// The revision installed now ([`VERSION`]; unchanged in a dry run).
    pub sql_version: i32,
    /// Rows checked.
    pub products: u64,
    /// Rows that break the rules, with their codes (from the Rust rules,
    /// which agree with the SQL).
    pub violators: Sampled<(i64, Vec<&'static str>)>,
    /// Constraints dropped (or that would be): an earlier version of ours,
    /// and with `replace_legacy` the seed's.
    pub replaced: Vec<String>,
    /// The seed's constraints left in place (without `replace_legacy`).
    pub legacy_kept: Vec<String>,
    /// The constraint is on the table and validated.
    pub constrained: bool,
    /// The constraint was added `NOT VALID` and stays (every new write is
    /// checked), but validating the existing rows failed: what PostgreSQL
    /// said. [`violators`](Self::violators) lists the rows that slipped in
    /// between the check and the constraint.
    pub not_validated: Option<String>,
    /// A dry run: nothing changed.
    pub dry_run: bool,
    /// Wall-clock time of each phase, in order.
    pub phases: Vec<(Phase, Duration)>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

impl ConstrainReport {
    /// The report as JSON (what `--report FILE` writes).
    pub fn to_json(&self) -> Value {
        json!({
            "command": "constrain",
            "rules": self.rules,
            "products_table": self.products_table,
            "schema": self.schema,
            "constraint": CONSTRAINT_NAME,
            "sql_version_before": self.sql_version_before,
            "sql_version": self.sql_version,
            "products": self.products,
            "violators": {
                "count": self.violators.count,
                "samples": self.violators.samples.iter().map(|(id, codes)| json!({"product_id": id, "codes": codes})).collect::<Vec<_>>(),
            },
            "replaced": self.replaced,
            "legacy_kept": self.legacy_kept,
            "constrained": self.constrained,
            "left_not_valid": self.not_validated.is_some(),
            "validation_error": self.not_validated,
            "dry_run": self.dry_run,
            "phases": self.phases.iter().map(|(k, d)| (k.to_string(), json!(d.as_secs_f64()))).collect::<serde_json::Map<_, _>>(),
            "seconds": self.elapsed.as_secs_f64(),
        })
    }

    /// A short human summary (what the CLI prints).
    pub fn summary(&self) -> String {
        let before = match self.sql_version_before {
            None => "none installed".to_owned(),
            Some(v) => format!("revision {v}"),
        };
        let mut s = format!(
            "coownership constrain: {} rules on {}.ownership_details; shipped functions in {}: {before} -> revision {}\n",
            self.rules, self.products_table, self.schema, self.sql_version
        );
        s.push_str(&format!(
            "  {} products checked, {} break the {} rules\n",
            self.products, self.violators.count, self.rules
        ));
        for (id, codes) in &self.violators.samples {
            s.push_str(&format!("    product {id}: {}\n", codes.join(", ")));
        }
        if !self.replaced.is_empty() {
            s.push_str(&format!(
                "  {} constraint(s) {}: {}\n",
                self.replaced.len(),
                if self.dry_run {
                    "would be replaced"
                } else {
                    "replaced"
                },
                self.replaced.join(", ")
            ));
        }
        if !self.legacy_kept.is_empty() {
            s.push_str(&format!(
                "  the seed's constraint(s) {} stay (--replace-legacy drops them)\n",
                self.legacy_kept.join(", ")
            ));
        }
        let outcome = if let Some(reason) = &self.not_validated {
            format!(
                "{CONSTRAINT_NAME} was added NOT VALID and stays, so every new write is checked, but validating the existing rows failed ({reason}): \
                 the rows above were written between the check and the constraint. To finish, fix them and run constrain again; \
                 to undo, ALTER TABLE {} DROP CONSTRAINT {CONSTRAINT_NAME}",
                self.products_table
            )
        } else if self.violators.count > 0 {
            "nothing changed: fix or migrate these rows first".to_owned()
        } else if self.dry_run {
            format!("dry run, nothing changed: {CONSTRAINT_NAME} can be added")
        } else {
            format!(
                "{CONSTRAINT_NAME} added and validated in {:.2} s",
                self.elapsed.as_secs_f64()
            )
        };
        s.push_str(&format!("  {outcome}\n"));
        s
    }
}

/// The SQL function a rule set's constraint calls.
fn check_function(rules: Rules) -> &'static str {
    match rules {
        Rules::Strict => "ownership_is_valid_strict",
        Rules::Seed | Rules::SeedPg18 => "ownership_is_valid_seed",
    }
}

/// Installs the shipped functions and puts one CHECK constraint,
/// [`CONSTRAINT_NAME`], with `options.rules` on the products table's
/// `ownership_details`.
///
/// 1. In one transaction: install (or upgrade in place) the shipped
///    functions, then count the rows that break the rules. If there are any,
///    or in a dry run, roll back: nothing changes, and the report lists them.
/// 2. Still in that transaction: drop an earlier version of the constraint
///    (and, with `replace_legacy`, the seed's own), add the new one `NOT
///    VALID`, commit. `ADD CONSTRAINT` takes `ACCESS EXCLUSIVE` on the table,
///    held only until this commit, right after: a catalogue update, not a
///    scan. From then on every write is checked.
/// 3. `VALIDATE CONSTRAINT` in a second transaction scans the existing rows
///    under `SHARE UPDATE EXCLUSIVE`, which lets readers and writers go on.
///
/// ```no_run
/// use coownership_postgres::{constrain, ConstrainOptions};
///
/// let config: postgres::Config = "host=/run/postgresql user=portal dbname=portal".parse()?;
/// let report = constrain(&config, &ConstrainOptions::default())?; // strict rules
/// print!("{}", report.summary());
/// assert!(report.constrained || report.violators.count > 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn constrain(
    config: &postgres::Config,
    options: &ConstrainOptions,
) -> Result<ConstrainReport, ConstrainError> {
    let start = Instant::now();
    let products = quote_table(&options.products)?;
    let schema = check_schema(&options.schema)?;
    let function = format!("{schema}.{}", check_function(options.rules));
    let mut client = connect_session(config)?;
    let mut tx = begin(&mut client, options.lock_timeout)?;
    check_target(&mut tx, &products, schema, options)?;
    let mut report = ConstrainReport {
        rules: match options.rules {
            Rules::Strict => "strict",
            Rules::Seed | Rules::SeedPg18 => "seed",
        },
        products_table: options.products.clone(),
        schema: schema.to_owned(),
        dry_run: options.dry_run,
        sql_version_before: installed_version(&mut tx, schema)?,
        ..ConstrainReport::default()
    };
    install_and_check(
        &mut tx,
        (&products, &function, schema),
        options,
        &mut report,
    )?;
    if report.violators.count > 0 || options.dry_run {
        // The install is rolled back with the rest.
        tx.rollback()?;
        report.sql_version = report.sql_version_before.unwrap_or(0);
        report.elapsed = start.elapsed();
        return Ok(report);
    }
    add_not_valid(tx, &products, &function, options, &mut report)?;
    validate(&mut client, (&products, &function), options, &mut report)?;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// The table is claimed for this run; the schema exists; the column is
/// there, and `jsonb`.
fn check_target(
    tx: &mut postgres::Transaction<'_>,
    products: &str,
    schema: &str,
    options: &ConstrainOptions,
) -> Result<(), ConstrainError> {
    require_table(tx, products, &options.products)?;
    claim_table(tx, products, &options.products)?;
    let schema_exists: bool = tx
        .query_one("SELECT to_regnamespace($1) IS NOT NULL", &[&schema])?
        .get(0);
    if !schema_exists {
        return Err(ConstrainError::MissingSchema(schema.to_owned()));
    }
    if !has_column(tx, products, "ownership_details")? {
        return Err(DbError::MissingColumn(options.products.clone()).into());
    }
    let column_type: String = tx
        .query_one(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute \
             WHERE attrelid = $1::text::regclass AND attname = 'ownership_details'",
            &[&products],
        )?
        .get(0);
    if column_type != "jsonb" {
        return Err(DbError::WrongColumnType {
            column: format!("{}.ownership_details", options.products),
            found: column_type,
            expected: "jsonb",
        }
        .into());
    }
    Ok(())
}

/// Installs the functions (in the transaction), counts the rows that break
/// the rules (sampling them), and sorts the constraints already there into
/// those to replace and the seed's to keep.
fn install_and_check(
    tx: &mut postgres::Transaction<'_>,
    (products, function, schema): (&str, &str, &str),
    options: &ConstrainOptions,
    report: &mut ConstrainReport,
) -> Result<(), ConstrainError> {
    let phase = Instant::now();
    tx.batch_execute(&functions(schema)?)?;
    report.sql_version = VERSION;
    let counts = tx.query_one(
        &format!(
            "SELECT count(*), count(*) FILTER (WHERE NOT coalesce({function}(ownership_details), true)) FROM {products}"
        ),
        &[],
    )?;
    report.products = counts.get::<_, i64>(0) as u64;
    report.violators.count = counts.get::<_, i64>(1) as u64;
    if report.violators.count > 0 {
        sample_violators(tx, products, function, options.rules, report)?;
    }
    report
        .phases
        .push((Phase::InstallAndCheck, phase.elapsed()));
    let mut names: Vec<&str> = vec![CONSTRAINT_NAME];
    names.extend(EARLIER_NAMES);
    names.extend(LEGACY_CONSTRAINTS);
    let present: Vec<String> = tx
        .query(
            "SELECT conname::text FROM pg_constraint WHERE conrelid = $1::text::regclass \
             AND conname = ANY($2) ORDER BY conname",
            &[&products, &names],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for name in present {
        if LEGACY_CONSTRAINTS.contains(&name.as_str()) && !options.replace_legacy {
            report.legacy_kept.push(name);
        } else {
            report.replaced.push(name);
        }
    }
    Ok(())
}

/// Replaces the old constraints with ours, `NOT VALID` (a moment of ACCESS
/// EXCLUSIVE, asked for in short retried attempts), and commits.
fn add_not_valid(
    mut tx: postgres::Transaction<'_>,
    products: &str,
    function: &str,
    options: &ConstrainOptions,
    report: &mut ConstrainReport,
) -> Result<(), DbError> {
    let phase = Instant::now();
    let mut alter: Vec<String> = report
        .replaced
        .iter()
        .map(|name| format!("DROP CONSTRAINT \"{name}\""))
        .collect();
    alter.push(format!(
        "ADD CONSTRAINT {CONSTRAINT_NAME} CHECK ({function}(ownership_details)) NOT VALID"
    ));
    ddl_with_retry(
        &mut tx,
        &format!("ALTER TABLE {products} {}", alter.join(", ")),
        (products, &options.products),
        "adding the constraint",
        options.lock_timeout,
    )?;
    tx.commit()?;
    report.phases.push((Phase::AddConstraint, phase.elapsed()));
    Ok(())
}

/// Validates the constraint (SHARE UPDATE EXCLUSIVE: reads and writes go
/// on). Should rows have slipped in between the check and the constraint,
/// the constraint stays `NOT VALID` (every new write is checked) and the
/// report lists them and says how to finish or undo.
fn validate(
    client: &mut postgres::Client,
    (products, function): (&str, &str),
    options: &ConstrainOptions,
    report: &mut ConstrainReport,
) -> Result<(), DbError> {
    let phase = Instant::now();
    let validated = {
        let mut tx = begin(client, options.lock_timeout)?;
        match tx.batch_execute(&format!(
            "ALTER TABLE {products} VALIDATE CONSTRAINT {CONSTRAINT_NAME}"
        )) {
            Ok(()) => tx.commit(),
            Err(e) => Err(e), // rolled back as `tx` drops
        }
    };
    let Err(e) = validated else {
        report.phases.push((Phase::Validate, phase.elapsed()));
        report.constrained = true;
        return Ok(());
    };
    report.not_validated = Some(describe(&e));
    report.phases.push((Phase::ValidateFailed, phase.elapsed()));
    let mut tx = begin(client, options.lock_timeout)?;
    let n: i64 = tx
        .query_one(
            &format!(
                "SELECT count(*) FILTER (WHERE NOT coalesce({function}(ownership_details), true)) FROM {products}"
            ),
            &[],
        )?
        .get(0);
    report.violators.count = n as u64;
    sample_violators(&mut tx, products, function, options.rules, report)?;
    tx.rollback()?;
    Ok(())
}

/// The first rows that break the rules, with their codes from the Rust
/// rules (proven to agree with the SQL), for the server's major: 18 casts a
/// jsonb null differently.
fn sample_violators(
    tx: &mut impl GenericClient,
    products: &str,
    function: &str,
    rules: Rules,
    report: &mut ConstrainReport,
) -> Result<(), DbError> {
    let rules = match rules {
        Rules::Strict => Rules::Strict,
        _ if server_major(tx)? >= 18 => Rules::SeedPg18,
        _ => Rules::Seed,
    };
    report.violators.samples.clear();
    for row in tx.query(
        &format!(
            "SELECT id::bigint, ownership_details::text FROM {products} \
             WHERE NOT coalesce({function}(ownership_details), true) ORDER BY id LIMIT {SAMPLES}"
        ),
        &[],
    )? {
        let text: String = row.get(1);
        let codes = match Document::parse(&text) {
            Ok(doc) => doc
                .validate(rules)
                .err()
                .map(|v| v.codes().collect())
                .unwrap_or_default(),
            Err(e) => vec![e.code()],
        };
        report.violators.samples.push((row.get(0), codes));
    }
    Ok(())
}

/// The revision of the shipped functions in `schema`: `None` when none
/// are, `Some(1)` for those from before `ownership_sql_version()`.
fn installed_version(tx: &mut impl GenericClient, schema: &str) -> Result<Option<i32>, DbError> {
    // `schema` is a checked plain identifier.
    let row = tx.query_one(
        &format!(
            "SELECT to_regprocedure('{schema}.ownership_sql_version()') IS NOT NULL, \
                    to_regprocedure('{schema}.ownership_strict_violations(jsonb)') IS NOT NULL"
        ),
        &[],
    )?;
    let (versioned, any): (bool, bool) = (row.get(0), row.get(1));
    if versioned {
        Ok(Some(
            tx.query_one(&format!("SELECT {schema}.ownership_sql_version()"), &[])?
                .get(0),
        ))
    } else {
        Ok(any.then_some(1))
    }
}

fn server_major(tx: &mut impl GenericClient) -> Result<u32, DbError> {
    let num: String = tx.query_one("SHOW server_version_num", &[])?.get(0);
    Ok(num.parse::<u32>().unwrap_or(0) / 10_000)
}
