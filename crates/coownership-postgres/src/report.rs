//! What `migrate` and `verify` found, as text for people and JSON for machines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Value};

use coownership::split::SplitPolicy;

/// How many samples of each anomaly a report keeps.
pub(crate) const SAMPLES: usize = 10;

/// A count with the first few examples.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sampled<T> {
    /// How many in all.
    pub count: u64,
    /// The first ten of them.
    pub samples: Vec<T>,
}

impl<T> Sampled<T> {
    pub(crate) fn add(&mut self, item: T) {
        self.count += 1;
        if self.samples.len() < SAMPLES {
            self.samples.push(item);
        }
    }
}

/// The outcome of [`migrate`](crate::migrate).
#[derive(Clone, Debug, Default)]
pub struct MigrationReport {
    /// The split policy used.
    pub policy: SplitPolicy,
    /// Nothing was written.
    pub dry_run: bool,
    /// Products in `client_products`.
    pub products: u64,
    /// Rows read from `product_owner_products` (orphans included).
    pub link_rows: u64,
    /// Products by association type written.
    pub by_association_type: BTreeMap<&'static str, u64>,
    /// Products by number of distinct owners.
    pub by_owner_count: BTreeMap<usize, u64>,
    /// Repeated `(product_id, product_owner_id)` rows (each counted once more).
    pub duplicate_links: Sampled<(i64, i64)>,
    /// Products that do not exist but have link rows: `(product_id, rows)`,
    /// `None` for rows whose `product_id` is NULL.
    pub orphan_links: Sampled<(Option<i64>, u64)>,
    /// Link rows whose product does not exist (never written anywhere).
    pub orphan_link_rows: u64,
    /// Link rows with a NULL or non-positive owner id: `(product_id, owner)`.
    pub invalid_owner_links: Sampled<(i64, Option<i64>)>,
    /// The `ownership_details` column did not exist and was added (or, in a
    /// dry run, would be).
    pub column_added: bool,
    /// Products whose document changed (or would change, in a dry run).
    pub updated: u64,
    /// The enabled row-level `UPDATE` triggers on the products table, which
    /// fire once for every written row (the seed adds an ownership-audit
    /// trigger): their names.
    pub row_triggers: Vec<String>,
    /// Products whose document was already the planned one.
    pub unchanged: u64,
    /// The backup table holding what the migration replaced
    /// (`schema.ownership_backup_…`), for [`rollback`](crate::rollback); `None`
    /// in a dry run, without a backup, or when nothing was replaced (a
    /// re-run that found every document in place keeps no empty backup).
    pub backup: Option<String>,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Wall-clock time of each phase, in order.
    pub phases: Vec<(Phase, Duration)>,
}

impl MigrationReport {
    /// Products per second.
    pub fn products_per_second(&self) -> f64 {
        self.products as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Link rows per second.
    pub fn rows_per_second(&self) -> f64 {
        self.link_rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The report as JSON (what `--report FILE` writes).
    pub fn to_json(&self) -> Value {
        json!({
            "command": "migrate",
            "policy": self.policy.as_str(),
            "dry_run": self.dry_run,
            "products": self.products,
            "link_rows": self.link_rows,
            "by_association_type": self.by_association_type,
            "by_owner_count": self.by_owner_count.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "anomalies": {
                "duplicate_links": {
                    "count": self.duplicate_links.count,
                    "samples": self.duplicate_links.samples.iter().map(|(p, o)| json!({"product_id": p, "product_owner_id": o})).collect::<Vec<_>>(),
                },
                "orphan_links": {
                    "count": self.orphan_link_rows,
                    "products": self.orphan_links.count,
                    "samples": self.orphan_links.samples.iter().map(|(p, n)| json!({"product_id": p, "rows": n})).collect::<Vec<_>>(),
                },
                "invalid_owner_links": {
                    "count": self.invalid_owner_links.count,
                    "samples": self.invalid_owner_links.samples.iter().map(|(p, o)| json!({"product_id": p, "product_owner_id": o})).collect::<Vec<_>>(),
                },
            },
            "column_added": self.column_added,
            "updated": self.updated,
            "row_triggers": self.row_triggers,
            "unchanged": self.unchanged,
            "backup": self.backup,
            "seconds": self.elapsed.as_secs_f64(),
            "phases": self.phases.iter().map(|(k, d)| (k.to_string(), json!(d.as_secs_f64()))).collect::<serde_json::Map<_, _>>(),
            "products_per_second": self.products_per_second(),
            "rows_per_second": self.rows_per_second(),
        })
    }

    // Long: one paragraph per part of the report, in the order it is printed.
    /// A short human summary (what the CLI prints).
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let verb = if self.dry_run {
            "would migrate (dry run, nothing written)"
        } else {
            "migrated"
        };
        let _ = writeln!(
            s,
            "coownership migrate: {verb} {} products from {} link rows in {:.2} s ({:.0} products/s, {:.0} rows/s), policy {}",
            self.products,
            self.link_rows,
            self.elapsed.as_secs_f64(),
            self.products_per_second(),
            self.rows_per_second(),
            self.policy
        );
        let _ = writeln!(
            s,
            "  documents {}: {}, unchanged: {}{}",
            if self.dry_run {
                "that would change"
            } else {
                "written"
            },
            self.updated,
            self.unchanged,
            match (self.column_added, self.dry_run) {
                (true, false) => " (ownership_details column added)",
                (true, true) => " (the ownership_details column would be added)",
                _ => "",
            }
        );
        if !self.row_triggers.is_empty() {
            let _ = writeln!(
                s,
                "  {} row trigger(s) {} once for every written row: {}",
                self.row_triggers.len(),
                if self.dry_run { "would fire" } else { "fired" },
                self.row_triggers.join(", ")
            );
        }
        if let Some(backup) = &self.backup {
            let _ = writeln!(
                s,
                "  backup: {backup} (undo with: coownership rollback --backup {backup})"
            );
        }
        let phases: Vec<String> = self
            .phases
            .iter()
            .map(|(k, d)| format!("{k} {:.2} s", d.as_secs_f64()))
            .collect();
        let _ = writeln!(s, "  phases: {}", phases.join(", "));
        let types: Vec<String> = self
            .by_association_type
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(s, "  by association type: {}", types.join(", "));
        let counts: Vec<String> = self
            .by_owner_count
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(s, "  by owner count: {}", counts.join(", "));
        let _ = writeln!(
            s,
            "  anomalies: {} duplicate link rows, {} orphan link rows ({} missing products), {} links with invalid owner ids",
            self.duplicate_links.count, self.orphan_link_rows, self.orphan_links.count, self.invalid_owner_links.count
        );
        for (p, o) in &self.duplicate_links.samples {
            let _ = writeln!(
                s,
                "    duplicate: product {p} lists owner {o} more than once"
            );
        }
        for (p, n) in &self.orphan_links.samples {
            let _ = match p {
                Some(p) => writeln!(s, "    orphan: {n} link row(s) for product {p}, which does not exist (not written anywhere)"),
                None => writeln!(s, "    orphan: {n} link row(s) with a NULL product_id (not written anywhere)"),
            };
        }
        for (p, o) in &self.invalid_owner_links.samples {
            let o = o.map_or("NULL".to_owned(), |o| o.to_string());
            let _ = writeln!(
                s,
                "    invalid owner: product {p} links owner {o} (skipped)"
            );
        }
        s
    }
}

/// The outcome of [`verify`](crate::verify).
#[derive(Clone, Debug, Default)]
pub struct VerifyReport {
    /// The split policy the shares were checked against.
    pub policy: SplitPolicy,
    /// Products checked.
    pub products: u64,
    /// Products whose document matches the links exactly.
    pub reconciled: u64,
    /// Mismatches by kind (`missing_owner`, `extra_owner`, `share_mismatch`,
    /// `association_type_mismatch`, `fails_seed`, `missing_document`,
    /// `unparseable_document`, `seed_formula_breaks`).
    pub mismatches: BTreeMap<&'static str, u64>,
    /// The first mismatches: `(product_id, kind, detail)`.
    pub first_mismatches: Vec<(i64, &'static str, String)>,
    /// Documents failing the strict rules, by violation code (informational:
    /// legacy shapes such as the no-owner document fail strict by design).
    pub strict_failures: BTreeMap<&'static str, Sampled<i64>>,
    /// Link rows whose product does not exist (informational).
    pub orphan_link_rows: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
}

impl VerifyReport {
    /// Everything reconciles.
    pub fn is_ok(&self) -> bool {
        self.mismatches.is_empty()
    }

    pub(crate) fn mismatch(&mut self, product: i64, kind: &'static str, detail: String) {
        *self.mismatches.entry(kind).or_default() += 1;
        if self.first_mismatches.len() < 2 * SAMPLES {
            self.first_mismatches.push((product, kind, detail));
        }
    }

    /// The report as JSON (what `--report FILE` writes).
    pub fn to_json(&self) -> Value {
        json!({
            "command": "verify",
            "policy": self.policy.as_str(),
            "ok": self.is_ok(),
            "products": self.products,
            "reconciled": self.reconciled,
            "mismatches": self.mismatches,
            "first_mismatches": self.first_mismatches.iter().map(|(p, k, d)| json!({"product_id": p, "kind": k, "detail": d})).collect::<Vec<_>>(),
            "strict_failures": self.strict_failures.iter().map(|(code, s)| (code.to_string(), json!({"count": s.count, "sample_products": s.samples}))).collect::<serde_json::Map<_, _>>(),
            "orphan_link_rows": self.orphan_link_rows,
            "seconds": self.elapsed.as_secs_f64(),
        })
    }

    /// A short human summary (what the CLI prints).
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "coownership verify: {} of {} products reconcile with the links (policy {}) in {:.2} s: {}",
            self.reconciled,
            self.products,
            self.policy,
            self.elapsed.as_secs_f64(),
            if self.is_ok() { "OK" } else { "MISMATCHES" }
        );
        for (kind, n) in &self.mismatches {
            let _ = writeln!(s, "  {kind}: {n}");
        }
        for (p, kind, detail) in &self.first_mismatches {
            let _ = writeln!(s, "    product {p}: {kind}: {detail}");
        }
        if self.strict_failures.is_empty() {
            let _ = writeln!(s, "  every document passes the strict rules");
        } else {
            let _ = writeln!(
                s,
                "  documents failing the strict rules (informational), by code:"
            );
            for (code, sampled) in &self.strict_failures {
                let _ = writeln!(
                    s,
                    "    {code}: {} (e.g. products {:?})",
                    sampled.count, sampled.samples
                );
            }
        }
        if self.orphan_link_rows > 0 {
            let _ = writeln!(
                s,
                "  {} link rows point at products that do not exist",
                self.orphan_link_rows
            );
        }
        s
    }
}

/// The phases of an operation whose durations a report lists, in order.
/// Their names (`as_str`) are the keys of the JSON report's `phases`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// `migrate`: taking the table locks.
    WaitForLocks,
    /// `migrate`: reading the links, planning, loading the staging table.
    ReadPlanLoad,
    /// `migrate --dry-run`: counting what would change.
    CountChanges,
    /// `migrate`: keeping the backup and writing the documents.
    BackupAndWrite,
    /// `migrate --no-backup`: writing the documents.
    Write,
    /// `migrate`: the commit.
    Commit,
    /// `constrain`: installing the functions and counting the rows that
    /// break the rules.
    InstallAndCheck,
    /// `constrain`: adding the constraint `NOT VALID`.
    AddConstraint,
    /// `constrain`: validating the rows.
    Validate,
    /// `constrain`: validating the rows, which failed.
    ValidateFailed,
}

impl Phase {
    /// The phase's name in summaries and JSON reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::WaitForLocks => "wait for locks",
            Phase::ReadPlanLoad => "read, plan and load",
            Phase::CountChanges => "count changes",
            Phase::BackupAndWrite => "backup and write",
            Phase::Write => "write",
            Phase::Commit => "commit",
            Phase::InstallAndCheck => "install and check",
            Phase::AddConstraint => "add the constraint (ACCESS EXCLUSIVE)",
            Phase::Validate => "validate the rows (SHARE UPDATE EXCLUSIVE)",
            Phase::ValidateFailed => "validate the rows (SHARE UPDATE EXCLUSIVE): failed",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
