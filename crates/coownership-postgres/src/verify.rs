//! `verify`: every product's document reconciled with its links, in one
//! snapshot read on two connections.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::time::Instant;

use crate::db::{
    check_columns, has_column, qualify, quote_table, read_connection, require_table, Step,
};
use crate::merge::{copy_products, link_query, merge_products_and_links, Links};
use crate::report::VerifyReport;
use crate::{plan, DbError, MigrateOptions};
use coownership::{AssociationType, Document, Ownership, Rules, Share};

/// Reconciles every product's `ownership_details` with its links: the owner
/// set equals the distinct owners linked, the shares equal `options.policy`'s
/// split, every document passes `options.verify_rules` (the seed rules by
/// default; with the strict rules, any strict violation is a mismatch);
/// documents failing the strict rules are counted by code. Reads in one
/// repeatable-read snapshot.
pub fn verify(
    config: &postgres::Config,
    options: &MigrateOptions,
) -> Result<VerifyReport, DbError> {
    let start = Instant::now();
    let (products_name, links_name) = (&options.tables.products, &options.tables.links);
    let (mut main, mut second, products, links) = open_snapshot(config, options)?;
    let mut report = VerifyReport {
        policy: options.policy,
        ..VerifyReport::default()
    };
    let mut orphan_rows = 0u64;
    {
        let product_query =
            format!("COPY (SELECT id, ownership_details FROM {products} ORDER BY id) TO STDOUT");
        let documents = BufReader::with_capacity(
            1 << 20,
            main.copy_out(&product_query)
                .step(format!("reading {products_name}"))?,
        );
        let mut links = Links::new(BufReader::with_capacity(
            1 << 20,
            second
                .copy_out(&link_query(&links))
                .step(format!("reading {links_name}"))?,
        ));
        let repeated = merge_products_and_links(
            copy_products(documents),
            &mut links,
            |id, fields, owners| {
                report.products += 1;
                let document = fields.get(1).and_then(|f| f.as_deref());
                if reconcile(id, document, owners, options, &mut report) {
                    report.reconciled += 1;
                }
                Ok(())
            },
            |_, rows| orphan_rows += rows as u64,
        )
        .map_err(|e| e.in_step(&format!("reading {products_name} and {links_name}")))?;
        if repeated.count > 0 {
            return Err(DbError::DuplicateProducts {
                table: products_name.clone(),
                count: repeated.count,
                first: repeated.samples,
            });
        }
    }
    report.orphan_link_rows = orphan_rows;
    second.batch_execute("COMMIT").step("ending the read")?;
    main.batch_execute("COMMIT").step("ending the read")?;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// Two read connections on one snapshot (the second imports the first's),
/// after checking the tables and columns; with the tables' qualified names.
fn open_snapshot(
    config: &postgres::Config,
    options: &MigrateOptions,
) -> Result<(postgres::Client, postgres::Client, String, String), DbError> {
    let (products_name, links_name) = (&options.tables.products, &options.tables.links);
    let products = quote_table(products_name)?;
    let links = quote_table(links_name)?;
    let mut main = read_connection(config, options)?;
    require_table(&mut main, &products, products_name)?;
    require_table(&mut main, &links, links_name)?;
    let products = qualify(&mut main, &products)?;
    let links = qualify(&mut main, &links)?;
    if !has_column(&mut main, &products, "ownership_details")? {
        return Err(DbError::MissingColumn(products_name.clone()));
    }
    check_columns(&mut main, (&products, products_name), (&links, links_name))?;
    let snapshot: String = main
        .query_one("SELECT pg_export_snapshot()", &[])
        .step("exporting the snapshot")?
        .get(0);
    if !snapshot.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(DbError::UnexpectedRow(format!("snapshot id {snapshot:?}")));
    }
    // SET commands are not queries: the snapshot can still be imported.
    let mut second = read_connection(config, options)?;
    second
        .batch_execute(&format!("SET TRANSACTION SNAPSHOT '{snapshot}'"))
        .step("importing the snapshot")?;
    Ok((main, second, products, links))
}

/// Checks one product; records mismatches and strict failures; true when it
/// reconciles.
fn reconcile(
    id: i64,
    document: Option<&str>,
    owner_rows: &[Option<i64>],
    options: &MigrateOptions,
    report: &mut VerifyReport,
) -> bool {
    let plan = match plan::plan_product(owner_rows, options.policy) {
        Ok(p) => p,
        Err(e) => {
            report.mismatch(id, "seed_formula_breaks", e.to_string());
            return false;
        }
    };
    // NULL is the no-owner state (docs/design.md §7); under either policy, a
    // product without owners may also hold the seed's no-owner document.
    let Some(text) = document else {
        if plan.ownership.is_some() {
            report.mismatch(id, "missing_document", "ownership_details is NULL".into());
            return false;
        }
        return true;
    };
    let doc = match Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            report.mismatch(id, "unparseable_document", e.to_string());
            return false;
        }
    };
    // Every check runs, so that every mismatch is listed.
    let rules_ok = check_rules(id, &doc, options.verify_rules, report);
    let type_ok = check_association_type(id, &doc, &plan, report);
    let owners_ok = check_owners(id, &doc, &plan, report);
    rules_ok && type_ok && owners_ok
}

/// The document passes `rules`; strict failures are counted by code either way.
fn check_rules(id: i64, doc: &Document, rules: Rules, report: &mut VerifyReport) -> bool {
    let strict = doc.validate(Rules::Strict);
    if let Err(v) = &strict {
        let mut seen = Vec::new();
        for code in v.codes() {
            if !seen.contains(&code) {
                seen.push(code);
                report.strict_failures.entry(code).or_default().add(id);
            }
        }
    }
    let verdict = match rules {
        Rules::Strict => strict,
        rules => doc.validate(rules),
    };
    let Err(v) = verdict else {
        return true;
    };
    let code = match rules {
        Rules::Strict => "fails_strict",
        _ => "fails_seed",
    };
    report.mismatch(id, code, v.to_string());
    false
}

/// The stored `association_type` is the planned one.
fn check_association_type(
    id: i64,
    doc: &Document,
    plan: &plan::ProductPlan,
    report: &mut VerifyReport,
) -> bool {
    let expected_type = plan
        .ownership
        .as_ref()
        .map_or(AssociationType::Individual, Ownership::association_type)
        .as_str();
    let stored_type = doc
        .get("association_type")
        .and_then(|raw| serde_json::from_str::<String>(raw).ok());
    if stored_type.as_deref() == Some(expected_type) {
        return true;
    }
    report.mismatch(
        id,
        "association_type_mismatch",
        format!(
            "stored {:?}, expected {expected_type}",
            stored_type.as_deref().unwrap_or("none")
        ),
    );
    false
}

/// The document names exactly the linked owners, with the planned shares.
fn check_owners(
    id: i64,
    doc: &Document,
    plan: &plan::ProductPlan,
    report: &mut VerifyReport,
) -> bool {
    // The owners the document names, with their shares where it has them.
    let mut stored: BTreeMap<i64, Option<&str>> = BTreeMap::new();
    for (key, raw) in doc.owner_entries() {
        if let Ok(owner) = key.parse::<i64>() {
            stored.insert(owner, Some(raw));
        }
    }
    for owner in doc.joint_owner_ids() {
        stored.insert(owner, None);
    }
    let expected: BTreeMap<i64, Option<Share>> = match &plan.ownership {
        None => BTreeMap::new(),
        Some(Ownership::Individual(o)) => [(o.get(), Some(Share::FULL))].into(),
        Some(Ownership::TenantsInCommon(t)) => t
            .shares()
            .iter()
            .map(|&(o, s)| (o.get(), Some(s)))
            .collect(),
        Some(Ownership::JointOwnership(j)) => j.owners().iter().map(|o| (o.get(), None)).collect(),
    };
    let mut ok = true;
    let missing: Vec<i64> = expected
        .keys()
        .filter(|o| !stored.contains_key(o))
        .copied()
        .collect();
    if !missing.is_empty() {
        report.mismatch(
            id,
            "missing_owner",
            format!("linked owners {missing:?} are not in the document"),
        );
        ok = false;
    }
    let extra: Vec<i64> = stored
        .keys()
        .filter(|o| !expected.contains_key(o))
        .copied()
        .collect();
    if !extra.is_empty() {
        report.mismatch(
            id,
            "extra_owner",
            format!("owners {extra:?} are in the document but not linked"),
        );
        ok = false;
    }
    for (owner, want) in &expected {
        let (Some(want), Some(Some(raw))) = (want, stored.get(owner)) else {
            continue;
        };
        if raw.parse::<Share>().ok() != Some(*want) {
            report.mismatch(
                id,
                "share_mismatch",
                format!("owner {owner} holds {raw}, expected {want}"),
            );
            ok = false;
        }
    }
    ok
}
