//! Planning every product on two snapshot connections, the links merged
//! with the product ids, and the documents sent to the writer in batches.

use std::io::BufReader;

use coownership::split::SplitError;
use rust_decimal::Decimal;

use super::MigrateError;
use crate::copy::read_ids;
use crate::db::{read_connection, Step};
use crate::merge::{link_query, merge_products_and_links, Links};
use crate::report::{MigrationReport, Sampled, SAMPLES};
use crate::{plan, DbError, MigrateOptions};

/// What the planning thread sends to the writing connection: planned
/// documents (`None`: NULL) by product id, and how many products are planned.
pub(super) struct Batch {
    pub(super) ids: Vec<i64>,
    pub(super) documents: Vec<Option<String>>,
    pub(super) planned: u64,
}

impl Batch {
    fn new() -> Self {
        Batch {
            ids: Vec::with_capacity(BATCH_ROWS),
            documents: Vec::with_capacity(BATCH_ROWS),
            planned: 0,
        }
    }
}

/// Products per batch: large enough that a statement's cost is spread, small
/// enough that the few batches in flight keep memory bounded (a few MB).
const BATCH_ROWS: usize = 5_000;

/// Reads the product ids (sorted here) and the links (sorted by the server)
/// on two connections, merges them, so orphans fall out for free, and plans
/// every product, sending the documents down `tx` in batches. Returns the
/// statistics once the input is exhausted, or every product that cannot be
/// planned, or every repeated product id.
// `tx` by value: dropping it on return is what tells the writer that the
// input is exhausted.
#[allow(clippy::needless_pass_by_value)]
pub(super) fn plan_all(
    config: &postgres::Config,
    options: &MigrateOptions,
    (products, products_name): (&str, &str),
    (links, links_name): (&str, &str),
    tx: std::sync::mpsc::SyncSender<Batch>,
) -> Result<MigrationReport, MigrateError> {
    let mut product_client = read_connection(config, options)?;
    let mut link_client = read_connection(config, options)?;
    let reading_products = format!("reading {products_name}");
    let reading_links = format!("reading {links_name}");
    // The links first, so that the server sorts them while the ids arrive.
    let mut links = Links::new(BufReader::with_capacity(
        1 << 20,
        link_client
            .copy_out(&link_query(links))
            .step(reading_links.as_str())?,
    ));
    // The ids unordered and sorted here: a sequential scan instead of an
    // index scan, a quarter of the server's time, for 8 bytes per product.
    let mut product_ids = read_ids(BufReader::with_capacity(
        1 << 20,
        product_client
            .copy_out(&format!("COPY (SELECT id FROM {products}) TO STDOUT"))
            .step(reading_products.as_str())?,
    ))
    .map_err(|e| e.in_step(&reading_products))?;
    product_ids.sort_unstable();
    let mut planning = Planning::new(options, &tx);
    let (mut orphan_links, mut orphan_rows) = (Sampled::default(), 0u64);
    let repeated = merge_products_and_links(
        product_ids.iter().map(|&id| Ok((id, ()))),
        &mut links,
        |id, (), owners| planning.product(id, owners),
        |product, rows| {
            orphan_links.add((product, rows as u64));
            orphan_rows += rows as u64;
        },
    )
    .map_err(|e| e.in_step(&format!("reading {products_name} and {links_name}")))?;
    planning.report.orphan_links = orphan_links;
    planning.report.orphan_link_rows = orphan_rows;
    planning.report.link_rows += orphan_rows;
    drop(links);
    product_client
        .batch_execute("COMMIT")
        .step(reading_products.as_str())?;
    link_client
        .batch_execute("COMMIT")
        .step(reading_links.as_str())?;
    if repeated.count > 0 {
        return Err(DbError::DuplicateProducts {
            table: products_name.into(),
            count: repeated.count,
            first: repeated.samples,
        }
        .into());
    }
    planning.finish()
}

/// Planning in progress: the statistics, the products that cannot be
/// planned, and the batch being filled for the writer.
struct Planning<'a> {
    options: &'a MigrateOptions,
    tx: &'a std::sync::mpsc::SyncSender<Batch>,
    report: MigrationReport,
    seed_failures: Sampled<(i64, usize, Decimal)>,
    unplannable: Sampled<(i64, String)>,
    batch: Batch,
}

impl<'a> Planning<'a> {
    fn new(options: &'a MigrateOptions, tx: &'a std::sync::mpsc::SyncSender<Batch>) -> Self {
        Planning {
            options,
            tx,
            report: MigrationReport::default(),
            seed_failures: Sampled::default(),
            unplannable: Sampled::default(),
            batch: Batch::new(),
        }
    }

    /// Plans one product from its owners' links (in link order), counting
    /// it; a full batch goes to the writer.
    fn product(&mut self, id: i64, owners: &[Option<i64>]) -> Result<(), DbError> {
        let report = &mut self.report;
        report.products += 1;
        report.link_rows += owners.len() as u64;
        match plan::plan_product(owners, self.options.policy) {
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
                self.batch.ids.push(id);
                self.batch.documents.push(plan.document());
            }
            Err(SplitError::SeedShareNotPositive { owners, share }) => {
                self.seed_failures.add((id, owners, share));
            }
            // Not planned, but counted, and every one reported.
            Err(e) => self.unplannable.add((id, e.to_string())),
        }
        if self.batch.ids.len() >= BATCH_ROWS {
            self.batch.planned = self.report.products;
            let full = std::mem::replace(&mut self.batch, Batch::new());
            self.send(full)?;
        }
        Ok(())
    }

    fn send(&self, batch: Batch) -> Result<(), DbError> {
        self.tx
            .send(batch)
            .map_err(|_| DbError::UnexpectedRow("the writer stopped".into()))
    }

    /// Every product planned: the last batch goes to the writer and the
    /// statistics are the report; or every product that could not be.
    fn finish(mut self) -> Result<MigrationReport, MigrateError> {
        if self.unplannable.count > 0 {
            // Seed-policy failures are listed with the rest.
            let mut first = self.unplannable.samples;
            for (id, owners, share) in self.seed_failures.samples {
                if first.len() < SAMPLES {
                    first.push((
                        id,
                        format!("the seed split gives {owners} owners a share of {share}"),
                    ));
                }
            }
            return Err(MigrateError::Unplannable {
                count: self.unplannable.count + self.seed_failures.count,
                first,
            });
        }
        if self.seed_failures.count > 0 {
            return Err(MigrateError::SeedPolicyBreaks {
                count: self.seed_failures.count,
                first: self.seed_failures.samples,
            });
        }
        self.batch.planned = self.report.products;
        let last = std::mem::replace(&mut self.batch, Batch::new());
        self.send(last)?;
        Ok(self.report)
    }
}
