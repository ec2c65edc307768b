//! [`status`]: where a database is in the lifecycle, read in one snapshot,
//! changing nothing.

use std::io::BufReader;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::constrain::LEGACY_CONSTRAINTS;
use crate::db::{has_column, qualify, quote_table, read_connection, Step};
use crate::merge::copy_products;
use crate::{DbError, MigrateOptions};
use coownership::sql::{CONSTRAINT_NAME, VERSION};
use coownership::{Document, Rules};

/// A CHECK constraint on `ownership_details`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintStatus {
    /// Its name (`ownership_details_valid`, or one of the seed's).
    pub name: String,
    /// Validated: every row was checked; `false` is `NOT VALID` (new writes
    /// are checked, existing rows were not).
    pub valid: bool,
    /// Its expression, as PostgreSQL prints it.
    pub definition: String,
}

/// A backup table `migrate` made.
#[derive(Clone, Debug, PartialEq)]
pub struct BackupStatus {
    /// `schema.ownership_backup_…`.
    pub name: String,
    /// Rows (products whose document it holds).
    pub rows: u64,
    /// Bytes on disk, indexes and TOAST included.
    pub bytes: u64,
    /// How long ago it was made, from the UTC time in its name.
    pub age: Option<Duration>,
}

/// An index on the products table that involves `ownership_details`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexStatus {
    /// Its name.
    pub name: String,
    /// `CREATE INDEX …`, as PostgreSQL prints it.
    pub definition: String,
    /// Usable: `false` for a failed `CREATE INDEX CONCURRENTLY`'s leftover.
    pub valid: bool,
}

/// Where a database is in the lifecycle (what [`status`] found).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatusReport {
    /// The products table.
    pub products_table: String,
    /// The link table, and its row count when it exists.
    pub links_table: String,
    /// `None` when the link table does not exist.
    pub links: Option<u64>,
    /// Products.
    pub products: u64,
    /// The `ownership_details` column exists.
    pub column: bool,
    /// The column was added by a first migration that did not commit (it
    /// was killed): empty; the next `migrate` fills it.
    pub column_from_interrupted_run: bool,
    /// Products with a document valid under the strict rules.
    pub valid_strict: u64,
    /// Products with no owner on record (NULL).
    pub no_owner: u64,
    /// Products whose document breaks the strict rules.
    pub invalid_strict: u64,
    /// Products whose document the seed's CHECK refuses.
    pub invalid_seed: u64,
    /// The first products breaking the strict rules, with their codes.
    pub invalid_samples: Vec<(i64, Vec<&'static str>)>,
    /// CHECK constraints on the column: ours and the seed's.
    pub constraints: Vec<ConstraintStatus>,
    /// The revision of the shipped functions in the schema the constraint
    /// calls (or `public`): `None` when none are installed.
    pub sql_version: Option<i32>,
    /// Where those functions are.
    pub sql_schema: String,
    /// Backup tables `migrate` left.
    pub backups: Vec<BackupStatus>,
    /// Indexes involving the column.
    pub indexes: Vec<IndexStatus>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Reads where the database is in the lifecycle: the link table and its rows;
/// the column; how many products have a valid document, no owner, or one
/// that breaks the strict or the seed rules (judged by the crate's rules,
/// every row read once, in one read-only snapshot); the constraints, VALID
/// or NOT VALID; the revision of the shipped SQL against this build's; the
/// backups with their size and age; the indexes on the column. It changes
/// nothing and takes no lock that blocks a writer.
///
/// ```no_run
/// use coownership_postgres::{status, MigrateOptions};
///
/// let config: postgres::Config = "host=/run/postgresql user=portal dbname=portal".parse()?;
/// let s = status(&config, &MigrateOptions::default())?;
/// print!("{}", s.summary());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn status(
    config: &postgres::Config,
    options: &MigrateOptions,
) -> Result<StatusReport, DbError> {
    let start = Instant::now();
    let (products_name, links_name) = (&options.tables.products, &options.tables.links);
    let mut db = read_connection(config, options)?;
    let products = quote_table(products_name)?;
    let links = quote_table(links_name)?;
    let exists = |db: &mut postgres::Client, quoted: &str| -> Result<bool, DbError> {
        Ok(db
            .query_one("SELECT to_regclass($1::text) IS NOT NULL", &[&quoted])
            .step("looking up the tables")?
            .get(0))
    };
    if !exists(&mut db, &products)? {
        return Err(DbError::MissingTable(products_name.clone()));
    }
    let products = qualify(&mut db, &products)?;
    let mut report = StatusReport {
        products_table: products_name.clone(),
        links_table: links_name.clone(),
        sql_schema: coownership::sql::DEFAULT_SCHEMA.into(),
        ..StatusReport::default()
    };
    if exists(&mut db, &links)? {
        let n: i64 = db
            .query_one(&format!("SELECT count(*) FROM {links}"), &[])
            .step(format!("counting {links_name}"))?
            .get(0);
        report.links = Some(n as u64);
    }
    report.column = has_column(&mut db, &products, "ownership_details")?;
    if report.column {
        let mark: Option<String> = db
            .query_one(
                "SELECT col_description($1::text::regclass, (SELECT attnum FROM pg_attribute \
                   WHERE attrelid = $1::text::regclass AND attname = 'ownership_details')::integer)",
                &[&products],
            )
            .step("reading the column's comment")?
            .get(0);
        report.column_from_interrupted_run =
            mark.as_deref() == Some(crate::migrate::ADDED_COLUMN_MARK);
        documents(&mut db, &products, products_name, &mut report)?;
        constraints(&mut db, &products, &mut report)?;
        indexes(&mut db, &products, &mut report)?;
    } else {
        let n: i64 = db
            .query_one(&format!("SELECT count(*) FROM {products}"), &[])
            .step(format!("counting {products_name}"))?
            .get(0);
        report.products = n as u64;
    }
    sql_version(&mut db, &mut report)?;
    backups(&mut db, &mut report)?;
    db.batch_execute("COMMIT").step("ending the read")?;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Every document, judged by the crate's rules.
fn documents(
    db: &mut postgres::Client,
    products: &str,
    products_name: &str,
    report: &mut StatusReport,
) -> Result<(), DbError> {
    let major: u32 = db
        .query_one("SHOW server_version_num", &[])
        .step("reading the server version")?
        .get::<_, String>(0)
        .parse::<u32>()
        .unwrap_or(0)
        / 10_000;
    let seed = if major >= 18 {
        Rules::SeedPg18
    } else {
        Rules::Seed
    };
    let reader = BufReader::with_capacity(
        1 << 20,
        db.copy_out(&format!(
            "COPY (SELECT id, ownership_details FROM {products} ORDER BY id) TO STDOUT"
        ))
        .step(format!("reading {products_name}"))?,
    );
    for row in copy_products(reader) {
        let (id, fields) = row.map_err(|e| e.in_step(&format!("reading {products_name}")))?;
        report.products += 1;
        let Some(text) = fields.get(1).and_then(|f| f.as_deref()) else {
            report.no_owner += 1;
            continue;
        };
        let (strict, seed_ok) = match Document::parse(text) {
            Ok(doc) => (doc.validate(Rules::Strict), doc.validate(seed).is_ok()),
            Err(e) => {
                // jsonb always holds an object here; a non-object is refused by both.
                report.invalid_seed += 1;
                report.invalid_strict += 1;
                if report.invalid_samples.len() < crate::report::SAMPLES {
                    report.invalid_samples.push((id, vec![e.code()]));
                }
                continue;
            }
        };
        if !seed_ok {
            report.invalid_seed += 1;
        }
        match strict {
            Ok(()) => report.valid_strict += 1,
            Err(v) => {
                report.invalid_strict += 1;
                if report.invalid_samples.len() < crate::report::SAMPLES {
                    report.invalid_samples.push((id, v.codes().collect()));
                }
            }
        }
    }
    Ok(())
}

fn constraints(
    db: &mut postgres::Client,
    products: &str,
    report: &mut StatusReport,
) -> Result<(), DbError> {
    let mut names: Vec<&str> = vec![CONSTRAINT_NAME];
    names.extend(LEGACY_CONSTRAINTS);
    // The schema of the shipped function our constraint calls, from the
    // constraint's recorded dependency (its printed form omits a schema
    // that is on the search_path).
    for row in db
        .query(
            "SELECT c.conname::text, c.convalidated, pg_get_constraintdef(c.oid), \
                    (SELECT p.pronamespace::regnamespace::text FROM pg_depend d \
                       JOIN pg_proc p ON p.oid = d.refobjid \
                      WHERE d.classid = 'pg_constraint'::regclass AND d.objid = c.oid \
                        AND d.refclassid = 'pg_proc'::regclass \
                        AND p.proname IN ('ownership_is_valid_strict', 'ownership_is_valid_seed') \
                      LIMIT 1) \
             FROM pg_constraint c \
             WHERE c.conrelid = $1::text::regclass AND c.contype = 'c' \
               AND (c.conname = ANY($2) OR pg_get_constraintdef(c.oid) LIKE '%ownership_details%') \
             ORDER BY c.conname",
            &[&products, &names],
        )
        .step("reading the constraints")?
    {
        let name: String = row.get(0);
        let schema: Option<String> = row.get(3);
        if let Some(schema) =
            schema.filter(|s| name == CONSTRAINT_NAME && coownership::sql::check_schema(s).is_ok())
        {
            report.sql_schema = schema;
        }
        report.constraints.push(ConstraintStatus {
            name,
            valid: row.get(1),
            definition: row.get(2),
        });
    }
    Ok(())
}

fn sql_version(db: &mut postgres::Client, report: &mut StatusReport) -> Result<(), DbError> {
    // `sql_schema` is a checked plain identifier.
    let schema = &report.sql_schema;
    let row = db
        .query_one(
            &format!(
                "SELECT to_regprocedure('{schema}.ownership_sql_version()') IS NOT NULL, \
                        to_regprocedure('{schema}.ownership_strict_violations(jsonb)') IS NOT NULL"
            ),
            &[],
        )
        .step("looking for the shipped functions")?;
    let (versioned, any): (bool, bool) = (row.get(0), row.get(1));
    report.sql_version = if versioned {
        Some(
            db.query_one(&format!("SELECT {schema}.ownership_sql_version()"), &[])
                .step("reading the shipped functions' revision")?
                .get(0),
        )
    } else {
        any.then_some(1)
    };
    Ok(())
}

fn backups(db: &mut postgres::Client, report: &mut StatusReport) -> Result<(), DbError> {
    let rows = db
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname), pg_total_relation_size(c.oid), \
                    extract(epoch FROM now() - (to_timestamp(substring(c.relname FROM 'ownership_backup_([0-9]{8}_[0-9]{6})'), \
                        'YYYYMMDD_HH24MISS')::timestamp AT TIME ZONE 'UTC'))::float8 \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND c.relname LIKE 'ownership\\_backup\\_%' \
               AND obj_description(c.oid, 'pg_class') LIKE '%coownership_backup%' \
             ORDER BY c.relname",
            &[],
        )
        .step("listing the backups")?;
    for row in rows {
        let name: String = row.get(0);
        let rows: i64 = db
            .query_one(
                &format!("SELECT count(*) FROM {}", quote_table(&name)?),
                &[],
            )
            .step(format!("counting {name}"))?
            .get(0);
        let age: Option<f64> = row.get(2);
        report.backups.push(BackupStatus {
            name,
            rows: rows as u64,
            bytes: row.get::<_, i64>(1) as u64,
            age: age.filter(|s| *s >= 0.0).map(Duration::from_secs_f64),
        });
    }
    Ok(())
}

fn indexes(
    db: &mut postgres::Client,
    products: &str,
    report: &mut StatusReport,
) -> Result<(), DbError> {
    for row in db
        .query(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisvalid \
             FROM pg_index i WHERE i.indrelid = $1::text::regclass \
               AND pg_get_indexdef(i.indexrelid) LIKE '%ownership_details%' ORDER BY 1",
            &[&products],
        )
        .step("reading the indexes")?
    {
        report.indexes.push(IndexStatus {
            name: row.get(0),
            definition: row.get(1),
            valid: row.get(2),
        });
    }
    Ok(())
}

impl StatusReport {
    /// The report as JSON (what `status --json` prints).
    pub fn to_json(&self) -> Value {
        json!({
            "command": "status",
            "products_table": self.products_table,
            "links_table": self.links_table,
            "links": self.links,
            "products": self.products,
            "column": self.column,
            "column_from_interrupted_run": self.column_from_interrupted_run,
            "documents": {
                "valid_strict": self.valid_strict,
                "no_owner": self.no_owner,
                "invalid_strict": self.invalid_strict,
                "invalid_seed": self.invalid_seed,
                "invalid_samples": self.invalid_samples.iter()
                    .map(|(id, codes)| json!({"product_id": id, "codes": codes}))
                    .collect::<Vec<_>>(),
            },
            "constraints": self.constraints.iter()
                .map(|c| json!({"name": c.name, "valid": c.valid, "definition": c.definition}))
                .collect::<Vec<_>>(),
            "sql": {
                "schema": self.sql_schema,
                "installed_version": self.sql_version,
                "this_version": VERSION,
            },
            "backups": self.backups.iter()
                .map(|b| json!({
                    "name": b.name,
                    "rows": b.rows,
                    "bytes": b.bytes,
                    "age_seconds": b.age.map(|a| a.as_secs()),
                }))
                .collect::<Vec<_>>(),
            "indexes": self.indexes.iter()
                .map(|i| json!({"name": i.name, "definition": i.definition, "valid": i.valid}))
                .collect::<Vec<_>>(),
            "seconds": self.elapsed.as_secs_f64(),
        })
    }

    // Long: one paragraph per part of the report, in the order it is printed.
    /// A short human summary (what `status` prints).
    pub fn summary(&self) -> String {
        let mut s = format!("coownership status of {}\n", self.products_table);
        match self.links {
            Some(n) => s.push_str(&format!("  link table {}: {n} rows\n", self.links_table)),
            None => s.push_str(&format!("  link table {}: absent\n", self.links_table)),
        }
        if !self.column {
            s.push_str(&format!(
                "  {} products; no ownership_details column: not migrated\n",
                self.products
            ));
        } else {
            if self.column_from_interrupted_run {
                s.push_str("  ownership_details was added by a migration that did not commit (killed?): run migrate again\n");
            }
            s.push_str(&format!(
                "  {} products: {} valid (strict), {} with no owner (NULL), {} breaking the strict rules, {} refused by the seed's CHECK\n",
                self.products, self.valid_strict, self.no_owner, self.invalid_strict, self.invalid_seed
            ));
            for (id, codes) in &self.invalid_samples {
                s.push_str(&format!("    product {id}: {}\n", codes.join(", ")));
            }
        }
        if self.constraints.is_empty() {
            s.push_str("  constraint: none\n");
        }
        for c in &self.constraints {
            s.push_str(&format!(
                "  constraint {}: {} ({})\n",
                c.name,
                if c.valid {
                    "VALID"
                } else {
                    "NOT VALID: new writes are checked, existing rows were not"
                },
                c.definition
            ));
        }
        s.push_str(&match self.sql_version {
            None => format!("  shipped functions: none in {}\n", self.sql_schema),
            Some(v) if v == VERSION => {
                format!("  shipped functions in {}: revision {v}, this build's\n", self.sql_schema)
            }
            Some(v) => format!(
                "  shipped functions in {}: revision {v}; this build ships revision {VERSION} (constrain installs it)\n",
                self.sql_schema
            ),
        });
        if self.backups.is_empty() {
            s.push_str("  backups: none\n");
        }
        for b in &self.backups {
            let age = b
                .age
                .map(|a| format!("{:.1} days old", a.as_secs_f64() / 86_400.0))
                .unwrap_or_else(|| "age unknown".into());
            s.push_str(&format!(
                "  backup {}: {} rows, {} bytes, {age}\n",
                b.name, b.rows, b.bytes
            ));
        }
        if self.indexes.is_empty() {
            s.push_str("  indexes on ownership_details: none\n");
        }
        for i in &self.indexes {
            s.push_str(&format!(
                "  index {}{}: {}\n",
                i.name,
                if i.valid {
                    ""
                } else {
                    " (INVALID: rebuild it)"
                },
                i.definition
            ));
        }
        s.push_str(&format!(
            "  (read in {:.2} s, nothing changed)\n",
            self.elapsed.as_secs_f64()
        ));
        s
    }
}
