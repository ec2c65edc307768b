//! The shipped SQL in the database, side by side in one run on one throwaway
//! server, over rows written by `migrate` from the harness's synthetic data
//! (anomalies included: repeated owners, groups of 150 to 400):
//!
//! 1. strict validation (`ownership_is_valid_strict`, what the CHECK calls)
//!    against the seed's `validate_ownership_percentages_precise`, and
//!    against revision 3 of the shipped SQL (before the search_path
//!    hardening and the fast check);
//! 2. `ownership_apportion` against the seed's inline
//!    `valuation * pct / 100`, and against revision 3;
//! 3. the strict SQL on 2,000 and 20,000 joint owners (and 1,000 and
//!    10,000, both within the limit): how the time grows with the owners.
//!
//! Criterion measures each; after each group the medians are printed as
//! ratios to the baseline's. `COOWNERSHIP_BENCH_ROWS` sets the products
//! (default 1,000,000; 2,000 under `cargo test --benches`, which runs each
//! function once).
//!
//! `cargo bench -p coownership-postgres --bench pg_sql`

use std::time::Duration;

use coownership_postgres::demo::{load, Synthetic};
use coownership_postgres::{migrate, MigrateOptions};
use coownership_testkit::bench::print_ratios;
use coownership_testkit::server::TempServer;
use criterion::{Criterion, SamplingMode};

fn main() {
    coownership_testkit::bench::start();
    let rows = coownership_testkit::bench::rows(1_000_000, 2_000);
    let (_server, mut db) = prepare(rows).expect("the bench database");
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    strict(&mut c, &mut db);
    money(&mut c, &mut db);
    joint(&mut c, &mut db);
    c.final_summary();
}

/// A throwaway server with `rows` products written by `migrate`, a
/// valuation each, revision 4 in `public`, revision 3 in `r3`, and the
/// seed's CHECK function.
fn prepare(rows: u64) -> Result<(TempServer, postgres::Client), Box<dyn std::error::Error>> {
    let server = TempServer::start()?;
    let mut db = server.create_database("bench_sql")?;
    let version: String = db.query_one("SHOW server_version", &[])?.get(0);
    load(
        &mut db,
        Synthetic {
            products: rows,
            anomalies: true,
        },
    )?;
    migrate(
        &server.config_for("bench_sql"),
        &MigrateOptions {
            backup: false,
            ..MigrateOptions::default()
        },
        &mut |_, _| {},
    )?;
    // Revision 4 in public; revision 3 (unqualified names) in schema r3,
    // called with r3 first on the search_path; the seed's own function.
    coownership::pg::install_in(&mut db, "public")?;
    db.batch_execute("CREATE SCHEMA r3; SET search_path = r3, public")?;
    db.batch_execute(include_str!("fixtures/ownership_r3.sql"))?;
    db.batch_execute("RESET search_path")?;
    db.batch_execute(coownership_testkit::fixtures::SEED_CHECK_SQL)?;
    db.batch_execute(
        "ALTER TABLE client_products ADD COLUMN valuation numeric(14, 2);
         UPDATE client_products SET valuation = ((id * 7919) % 10000000) / 100.0",
    )?;
    db.batch_execute("VACUUM ANALYZE client_products")?;
    let (documents, owners): (i64, i64) = {
        let r = db.query_one(
            "SELECT count(ownership_details), \
             coalesce(sum(cardinality(ownership_owner_ids(ownership_details))), 0) FROM client_products",
            &[],
        )?;
        (r.get(0), r.get(1))
    };
    println!(
        "PostgreSQL {version}: {rows} products from migrate ({documents} documents, {owners} owners; the rest have none: NULL)"
    );
    Ok((server, db))
}

/// Runs `queries` (several statements allowed) as the functions of `group`,
/// then prints their medians as ratios to the first's.
fn group(c: &mut Criterion, db: &mut postgres::Client, group: &str, queries: &[(&str, &str)]) {
    let mut g = c.benchmark_group(group);
    g.sampling_mode(SamplingMode::Flat);
    if group.starts_with("pg_sql_joint") {
        // Milliseconds a check: a few seconds give ten samples.
        g.measurement_time(Duration::from_secs(3));
    }
    for (name, sql) in queries {
        g.bench_function(*name, |b| {
            b.iter(|| db.batch_execute(sql).expect("the benchmarked query"));
        });
    }
    g.finish();
    let names: Vec<&str> = queries.iter().map(|(n, _)| *n).collect();
    print_ratios(group, names[0], &names);
}

/// Section 1: strict validation of every row, against the seed's CHECK function
/// and revision 3.
fn strict(c: &mut Criterion, db: &mut postgres::Client) {
    let strict = "SELECT count(*) FILTER (WHERE ownership_is_valid_strict(ownership_details)) FROM client_products";
    let r3 = "SET search_path = r3, public; \
              SELECT count(*) FILTER (WHERE ownership_is_valid_strict(ownership_details)) FROM client_products; \
              RESET search_path";
    let seed = "SELECT count(*) FILTER (WHERE validate_ownership_percentages_precise(ownership_details)) FROM client_products";
    group(
        c,
        db,
        "pg_sql_strict",
        &[("seed", seed), ("revision_4", strict), ("revision_3", r3)],
    );
}

/// Section 2: money by owner, one value per (product, owner), summed; the exact
/// parts add up to the valuations, to the penny.
fn money(c: &mut Criterion, db: &mut postgres::Client) {
    let ours = "SELECT count(*), sum(a.amount) FROM client_products p \
                CROSS JOIN LATERAL ownership_apportion(p.ownership_details, p.valuation) AS a";
    let ours_r3 = "SET search_path = r3, public; \
                   SELECT count(*), sum(a.amount) FROM client_products p \
                   CROSS JOIN LATERAL r3.ownership_apportion(p.ownership_details, p.valuation) AS a; \
                   RESET search_path";
    let inline =
        "SELECT count(*), sum(p.valuation * e.value::numeric / 100) FROM client_products p, \
                  jsonb_each_text(p.ownership_details) AS e WHERE e.key ~ '^[0-9]+$'";
    let parts: rust_decimal::Decimal = db.query_one(ours, &[]).expect("apportion").get(1);
    let total: rust_decimal::Decimal = db
        .query_one(
            "SELECT sum(valuation) FROM client_products WHERE ownership_details IS NOT NULL",
            &[],
        )
        .expect("the valuations")
        .get(0);
    assert_eq!(
        parts, total,
        "the parts add up to the valuations, to the penny"
    );
    group(
        c,
        db,
        "pg_sql_apportion",
        &[
            ("seed_inexact", inline),
            ("revision_4", ours),
            ("revision_3", ours_r3),
        ],
    );
}

/// Section 3: one joint-ownership document checked repeatedly, at 1,000, 2,000,
/// 10,000 and 20,000 owners: how the time grows with the owners.
fn joint(c: &mut Criterion, db: &mut postgres::Client) {
    db.batch_execute(
        "CREATE TABLE joint (n int PRIMARY KEY, d jsonb);
         INSERT INTO joint SELECT n, jsonb_build_object('association_type', 'joint_ownership',
             'joint_owners', (SELECT jsonb_agg(i) FROM generate_series(1, n) AS i))
         FROM unnest(ARRAY[1000, 2000, 10000, 20000]) AS n",
    )
    .expect("the joint documents");
    for (name, f, close) in [
        ("is_valid_strict_r4", "public.ownership_is_valid_strict", ""),
        (
            "strict_violations_r4",
            "cardinality(public.ownership_strict_violations",
            ")",
        ),
        (
            "strict_violations_r3",
            "cardinality(r3.ownership_strict_violations",
            ")",
        ),
    ] {
        let queries: Vec<(String, String)> = [1000, 2000, 10000, 20000]
            .iter()
            .map(|n| {
                (
                    format!("owners_{n}"),
                    format!(
                        "SET search_path = r3, public; \
                         SELECT {f}(d){close} IS NOT NULL FROM joint WHERE joint.n = {n}; RESET search_path"
                    ),
                )
            })
            .collect();
        let queries: Vec<(&str, &str)> = queries
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        group(c, db, &format!("pg_sql_joint_{name}"), &queries);
    }
}
