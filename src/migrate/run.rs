//! `migrate`: read and plan on two snapshot connections, load the documents
//! into a temporary table on the writing one, and apply them in one `UPDATE`.

use std::io::{BufReader, Write};
use std::time::Instant;

use rust_decimal::Decimal;

use super::copy::{binary_row, BINARY_COPY_HEADER};
use super::db::{
    begin, check_columns, connect, has_column, lock_tables, qualify, quote_table, read_connection,
    require_table, Step,
};
use super::merge::{link_query, merge_products_and_links, Links};
use super::report::{self, MigrationReport, Sampled};
use super::{backup, plan, MigrateError, MigrateOptions};
use crate::split::SplitError;

/// What the planning thread sends to the writing connection.
enum Planned {
    /// Binary COPY rows for the temporary table.
    Rows(Vec<u8>),
    /// Products planned so far.
    Progress(u64),
}

/// Rows sent per message: large enough to amortise the channel, small
/// enough that the few messages in flight keep memory bounded.
const CHUNK_BYTES: usize = 256 * 1024;

/// Reads the products and the links (two sorted streams on two connections,
/// merged here, so orphans fall out for free) and plans every product,
/// sending the documents down `tx` as binary COPY rows. Returns the
/// statistics once the input is exhausted, or every product that cannot be
/// planned, or every repeated product id.
fn plan_all(
    config: &postgres::Config,
    options: &MigrateOptions,
    (products, products_name): (&str, &str),
    (links, links_name): (&str, &str),
    tx: std::sync::mpsc::SyncSender<Planned>,
) -> Result<MigrationReport, MigrateError> {
    let mut product_client = read_connection(config, options)?;
    let mut link_client = read_connection(config, options)?;
    let product_query = format!("COPY (SELECT id FROM {products} ORDER BY id) TO STDOUT");
    let reading_products = format!("reading {products_name}");
    let reading_links = format!("reading {links_name}");
    let product_ids = BufReader::with_capacity(
        1 << 20,
        product_client
            .copy_out(&product_query)
            .step(reading_products.as_str())?,
    );
    let mut links = Links::new(BufReader::with_capacity(
        1 << 20,
        link_client
            .copy_out(&link_query(links))
            .step(reading_links.as_str())?,
    ));
    let mut report = MigrationReport::default();
    let mut seed_failures: Sampled<(i64, usize, Decimal)> = Sampled::default();
    let mut unplannable: Sampled<(i64, String)> = Sampled::default();
    let mut chunk = Vec::with_capacity(CHUNK_BYTES + 4096);
    let send = |msg: Planned| {
        tx.send(msg)
            .map_err(|_| MigrateError::UnexpectedRow("the writer stopped".into()))
    };
    let (mut orphan_links, mut orphan_rows) = (Sampled::default(), 0u64);
    let repeated = merge_products_and_links(
        product_ids,
        &mut links,
        |id, _, owners| {
            report.products += 1;
            report.link_rows += owners.len() as u64;
            match plan::plan_product(owners, options.policy) {
                Ok(plan) => {
                    for &d in &plan.duplicates {
                        report.duplicate_links.add((id, d.get()));
                    }
                    for &bad in &plan.invalid_owner_ids {
                        report.invalid_owner_links.add((id, bad));
                    }
                    *report
                        .by_association_type
                        .entry(plan.association_type().map_or("none", |t| t.as_str()))
                        .or_default() += 1;
                    *report.by_owner_count.entry(plan.owners.len()).or_default() += 1;
                    binary_row(&mut chunk, id, plan.document().as_deref());
                }
                Err(SplitError::SeedShareNotPositive { owners, share }) => {
                    seed_failures.add((id, owners, share));
                }
                // Not planned, but counted, and every one reported.
                Err(e) => unplannable.add((id, e.to_string())),
            }
            if chunk.len() >= CHUNK_BYTES {
                send(Planned::Rows(std::mem::replace(
                    &mut chunk,
                    Vec::with_capacity(CHUNK_BYTES + 4096),
                )))?;
                send(Planned::Progress(report.products))?;
            }
            Ok(())
        },
        |product, rows| {
            orphan_links.add((product, rows as u64));
            orphan_rows += rows as u64;
        },
    )
    .map_err(|e| match e {
        MigrateError::Database { step, source } if step == "talking to the database" => {
            MigrateError::Database {
                step: format!("reading {products_name} and {links_name}"),
                source,
            }
        }
        other => other,
    })?;
    report.orphan_links = orphan_links;
    report.orphan_link_rows = orphan_rows;
    report.link_rows += orphan_rows;
    drop(links);
    product_client
        .batch_execute("COMMIT")
        .step(reading_products.as_str())?;
    link_client
        .batch_execute("COMMIT")
        .step(reading_links.as_str())?;
    if repeated.count > 0 {
        return Err(MigrateError::DuplicateProducts {
            table: products_name.into(),
            count: repeated.count,
            first: repeated.samples,
        });
    }
    if unplannable.count > 0 {
        // Seed-policy failures are listed with the rest.
        let mut first = unplannable.samples;
        for (id, owners, share) in seed_failures.samples {
            if first.len() < report::SAMPLES {
                first.push((
                    id,
                    format!("the seed split gives {owners} owners a share of {share}"),
                ));
            }
        }
        return Err(MigrateError::Unplannable {
            count: unplannable.count + seed_failures.count,
            first,
        });
    }
    if seed_failures.count > 0 {
        return Err(MigrateError::SeedPolicyBreaks {
            count: seed_failures.count,
            first: seed_failures.samples,
        });
    }
    send(Planned::Rows(chunk))?;
    send(Planned::Progress(report.products))?;
    Ok(report)
}

/// Migrates every product (see the [module docs](super)), connecting with
/// `config` (twice: one connection reads while the other writes). `progress`
/// is called with `(products planned, products in all)`.
///
/// Returns the report; on any error nothing has been written.
///
/// ```no_run
/// use coownership::migrate::{migrate, verify, MigrateOptions};
///
/// let config: postgres::Config = "host=/run/postgresql user=portal dbname=portal".parse()?;
/// let options = MigrateOptions::default(); // balanced split, the seed's table names
/// let report = migrate(&config, &options, &mut |done, total| eprintln!("{done}/{total}"))?;
/// print!("{}", report.summary());
/// let check = verify(&config, &options)?;
/// assert!(check.is_ok(), "{}", check.summary());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn migrate(
    config: &postgres::Config,
    options: &MigrateOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<MigrationReport, MigrateError> {
    let start = Instant::now();
    let products_name = options.tables.products.as_str();
    let links_name = options.tables.links.as_str();
    let products = quote_table(products_name)?;
    let links = quote_table(links_name)?;
    let mut client = connect(config)?;
    let mut tx = begin(&mut client, options.lock_timeout)?;
    // Large sorts and hashes stay in memory; the temporary table too.
    tx.batch_execute("SET LOCAL work_mem = '256MB'; SET LOCAL temp_buffers = '512MB'")
        .step("setting work_mem")?;
    require_table(&mut tx, &products, products_name)?;
    require_table(&mut tx, &links, links_name)?;
    // From here on the tables are named as resolved now, so that nothing,
    // not even the temporary table created below, can stand in for them.
    let products = qualify(&mut tx, &products)?;
    let links = qualify(&mut tx, &links)?;
    check_columns(&mut tx, (&products, products_name), (&links, links_name))?;
    // Writers wait until we commit; readers carry on (but see ADD COLUMN).
    let waited = lock_tables(
        &mut tx,
        &[
            (&links, "SHARE", links_name),
            (&products, "SHARE ROW EXCLUSIVE", products_name),
        ],
        options.lock_timeout,
    )?;
    let had_column = has_column(&mut tx, &products, "ownership_details")?;
    let has_updated_at = has_column(&mut tx, &products, "updated_at")?;
    let total: i64 = tx
        .query_one(&format!("SELECT count(*) FROM {products}"), &[])
        .step(format!("counting {products_name}"))?
        .get(0);
    let total = total as u64;
    progress(0, total);
    tx.batch_execute(
        "CREATE TEMP TABLE ownership_migration (product_id bigint NOT NULL, details jsonb) ON COMMIT DROP",
    )
    .step("creating the temporary table")?;

    // Plan on a second connection (its snapshot is taken after our locks, so
    // it sees exactly what we will update) while this one loads the documents.
    let read_started = Instant::now();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Planned>(8);
    let planned = std::thread::scope(|scope| -> Result<MigrationReport, MigrateError> {
        // Owned here, so that any early return drops it and unblocks the planner.
        let receiver = receiver;
        let mut writer = tx
            .copy_in("COPY pg_temp.ownership_migration FROM STDIN (FORMAT binary)")
            .step("loading the documents")?;
        writer.write_all(BINARY_COPY_HEADER)?;
        let planner = scope.spawn(|| {
            plan_all(
                config,
                options,
                (&products, products_name),
                (&links, links_name),
                sender,
            )
        });
        let mut write_error = None;
        // Drain everything, even after a write error, so the planner never blocks.
        for msg in &receiver {
            match msg {
                Planned::Rows(rows) if write_error.is_none() => {
                    write_error = writer.write_all(&rows).err();
                }
                Planned::Rows(_) => {}
                Planned::Progress(done) => progress(done, total),
            }
        }
        let report = planner.join().unwrap_or_else(|_| {
            Err(MigrateError::UnexpectedRow(
                "the planning thread panicked".into(),
            ))
        })?;
        if let Some(e) = write_error {
            return Err(e.into());
        }
        // Only a complete plan is committed to the temporary table; on any
        // error above, dropping the writer aborts the COPY.
        writer.write_all(&(-1i16).to_be_bytes())?;
        writer.finish().step("loading the documents")?;
        Ok(report)
    })?;
    let mut report = MigrationReport {
        policy: options.policy,
        dry_run: options.dry_run,
        column_added: !had_column,
        ..planned
    };
    report.phases.insert(0, ("wait for locks", waited));
    report
        .phases
        .push(("read, plan and load", read_started.elapsed()));
    // No ANALYZE: without statistics the planner still sizes the temporary
    // table from its pages and picks the same hash join, 0.1-0.2 s sooner.

    let mut update_started = Instant::now();
    // Only rows whose document changes are written (a new column is NULL
    // everywhere, and NULL is the no-owner state), so a re-run writes nothing.
    let changed = if had_column {
        "p.ownership_details IS DISTINCT FROM m.details"
    } else {
        "m.details IS NOT NULL"
    };
    if options.dry_run {
        let n: i64 = tx
            .query_one(
                &format!("SELECT count(*) FROM {products} p JOIN pg_temp.ownership_migration m ON p.id = m.product_id WHERE {changed}"),
                &[],
            )
            .step("counting the changes")?
            .get(0);
        report.updated = n as u64;
        tx.rollback().step("rolling back the dry run")?;
    } else {
        if options.backup {
            let started = Instant::now();
            let kept = backup::create(
                &mut tx,
                &products,
                &backup::Meta {
                    products_table: String::new(),
                    column_added: !had_column,
                    updated_at: has_updated_at,
                    policy: options.policy.as_str().into(),
                },
                changed,
            )?;
            report.phases.push(("backup", started.elapsed()));
            update_started = Instant::now();
            report.backup = Some(kept);
        }
        if !had_column {
            tx.batch_execute(&format!(
                "ALTER TABLE {products} ADD COLUMN ownership_details jsonb"
            ))
            .step(format!("adding {products_name}.ownership_details"))?;
        }
        let touch = if has_updated_at {
            ", updated_at = now()"
        } else {
            ""
        };
        report.updated = tx
            .execute(
                &format!(
                    "UPDATE {products} p SET ownership_details = m.details{touch} \
                 FROM pg_temp.ownership_migration m WHERE p.id = m.product_id AND {changed}"
                ),
                &[],
            )
            .step(format!("writing the documents to {products_name}"))?;
        tx.commit().step("committing")?;
    }
    report.phases.push((
        if options.dry_run {
            "count changes"
        } else {
            "update and commit"
        },
        update_started.elapsed(),
    ));
    report.unchanged = report.products - report.updated;
    report.elapsed = start.elapsed();
    Ok(report)
}
