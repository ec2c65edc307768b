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
//! Each figure is the median of alternating rounds. `COOWNERSHIP_BENCH_ROWS`
//! sets the products (default 1,000,000).
//!
//! `cargo bench --bench pg_sql --features postgres`

use std::time::{Duration, Instant};

use coownership_postgres::demo::{load, Synthetic};
use coownership_postgres::{migrate, MigrateOptions};
use coownership_testkit::server::TempServer;

const ROUNDS: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo test --benches` runs bench targets with `--bench`-less args; keep that quick.
    if std::env::args().any(|a| a == "--test")
        || std::env::args().len() > 1 && !std::env::args().any(|a| a == "--bench")
    {
        println!("pg_sql: skipped outside `cargo bench`");
        return Ok(());
    }
    let rows: u64 = std::env::var("COOWNERSHIP_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
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

    // 1. Strict validation.
    let strict = "SELECT count(*) FILTER (WHERE ownership_is_valid_strict(ownership_details)) FROM client_products";
    let r3 = "SET search_path = r3, public; \
              SELECT count(*) FILTER (WHERE ownership_is_valid_strict(ownership_details)) FROM client_products; \
              RESET search_path";
    let seed = "SELECT count(*) FILTER (WHERE validate_ownership_percentages_precise(ownership_details)) FROM client_products";
    let t = rounds(&mut db, &[strict, r3, seed])?;
    println!("\n1. strict validation of every row (median of {ROUNDS} rounds):");
    println!(
        "   ownership_is_valid_strict, revision 4   {:>8.3} s",
        secs(t[0])
    );
    println!(
        "   ownership_is_valid_strict, revision 3   {:>8.3} s",
        secs(t[1])
    );
    println!(
        "   seed validate_ownership_percentages_precise {:>4.3} s",
        secs(t[2])
    );
    println!(
        "   revision 4 is {:.2}x the seed's throughput (revision 3: {:.2}x); revision 4 / revision 3 time: {:.2}",
        secs(t[2]) / secs(t[0]),
        secs(t[2]) / secs(t[1]),
        secs(t[0]) / secs(t[1])
    );

    // 2. Money by owner: one value per (product, owner), summed.
    let ours = "SELECT count(*), sum(a.amount) FROM client_products p \
                CROSS JOIN LATERAL ownership_apportion(p.ownership_details, p.valuation) AS a";
    let ours_r3 = "SET search_path = r3, public; \
                   SELECT count(*), sum(a.amount) FROM client_products p \
                   CROSS JOIN LATERAL r3.ownership_apportion(p.ownership_details, p.valuation) AS a; \
                   RESET search_path";
    let inline =
        "SELECT count(*), sum(p.valuation * e.value::numeric / 100) FROM client_products p, \
                  jsonb_each_text(p.ownership_details) AS e WHERE e.key ~ '^[0-9]+$'";
    let exact: (i64, rust_decimal::Decimal) = {
        let r = db.query_one(ours, &[])?;
        (r.get(0), r.get(1))
    };
    let total: rust_decimal::Decimal = db
        .query_one(
            "SELECT sum(valuation) FROM client_products WHERE ownership_details IS NOT NULL",
            &[],
        )?
        .get(0);
    assert_eq!(
        exact.1, total,
        "the parts add up to the valuations, to the penny"
    );
    let t = rounds(&mut db, &[ours, ours_r3, inline])?;
    println!(
        "\n2. money by owner over every row ({} parts; median of {ROUNDS} rounds):",
        exact.0
    );
    println!(
        "   ownership_apportion, revision 4 (exact) {:>8.3} s",
        secs(t[0])
    );
    println!(
        "   ownership_apportion, revision 3 (exact) {:>8.3} s",
        secs(t[1])
    );
    println!(
        "   seed: valuation * pct / 100 (inexact)   {:>8.3} s",
        secs(t[2])
    );
    println!(
        "   revision 4 takes {:.2}x the seed's time (revision 3: {:.2}x)",
        secs(t[0]) / secs(t[2]),
        secs(t[1]) / secs(t[2])
    );

    // 3. Joint owners: the same document checked repeatedly.
    println!("\n3. one joint-ownership document, checked repeatedly (median of {ROUNDS} rounds):");
    db.batch_execute(
        "CREATE TABLE joint (n int PRIMARY KEY, d jsonb);
         INSERT INTO joint SELECT n, jsonb_build_object('association_type', 'joint_ownership',
             'joint_owners', (SELECT jsonb_agg(i) FROM generate_series(1, n) AS i))
         FROM unnest(ARRAY[1000, 2000, 10000, 20000]) AS n",
    )?;
    for (name, f, path) in [
        (
            "ownership_is_valid_strict, revision 4",
            "public.ownership_is_valid_strict",
            "",
        ),
        (
            "ownership_strict_violations, revision 4",
            "cardinality(public.ownership_strict_violations",
            ")",
        ),
        (
            "ownership_strict_violations, revision 3",
            "cardinality(r3.ownership_strict_violations",
            ")",
        ),
    ] {
        let q = |n: i32, reps: i32| {
            format!(
                "SET search_path = r3, public; \
                 SELECT count(*) FILTER (WHERE {f}(d){path} IS NOT NULL) FROM joint, generate_series(1, {reps}) \
                 WHERE joint.n = {n}; RESET search_path"
            )
        };
        // Revision 3 is quadratic: fewer repetitions, scaled.
        let reps = if f.contains("r3") { 2 } else { 20 };
        let qs = [q(1000, reps), q(10000, reps), q(2000, reps), q(20000, reps)];
        let t = rounds(&mut db, &qs.iter().map(String::as_str).collect::<Vec<_>>())?;
        let per = |d: Duration| secs(d) / f64::from(reps) * 1000.0;
        println!(
            "   {name:<42} 1,000: {:>8.2} ms  10,000: {:>8.2} ms ({:>5.1}x)   2,000: {:>8.2} ms  20,000: {:>8.2} ms ({:>5.1}x)",
            per(t[0]),
            per(t[1]),
            secs(t[1]) / secs(t[0]),
            per(t[2]),
            per(t[3]),
            secs(t[3]) / secs(t[2])
        );
    }
    Ok(())
}

/// The median time of each query (several statements allowed) over
/// alternating rounds, after one warm-up of each.
fn rounds(db: &mut postgres::Client, queries: &[&str]) -> Result<Vec<Duration>, postgres::Error> {
    for q in queries {
        db.batch_execute(q)?;
    }
    let mut times = vec![Vec::new(); queries.len()];
    for _ in 0..ROUNDS {
        for (i, q) in queries.iter().enumerate() {
            let start = Instant::now();
            db.batch_execute(q)?;
            times[i].push(start.elapsed());
        }
    }
    Ok(times
        .into_iter()
        .map(|mut v| {
            v.sort();
            v[v.len() / 2]
        })
        .collect())
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
