//! Money by owner in the database: `ownership_apportion` (exact, every owner,
//! joint owners included) against the seed's inline expression
//! `valuation * (ownership_details ->> key)::numeric / 100`, over the same
//! 100,000 valued products in the same run on a throwaway server.
//!
//! `cargo bench --bench pg_money --features postgres`

use std::time::{Duration, Instant};

use coownership::pg::server::TempServer;

const PRODUCTS: i64 = 100_000;
const ROUNDS: usize = 7;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo test --benches` runs bench targets with `--bench`-less args; keep that quick.
    if std::env::args().any(|a| a == "--test")
        || std::env::args().len() > 1 && !std::env::args().any(|a| a == "--bench")
    {
        println!("pg_money: skipped outside `cargo bench`");
        return Ok(());
    }
    let server = TempServer::start()?;
    let mut db = server.create_database("bench_money")?;
    coownership::pg::install(&mut db)?;
    // The mix of benches/pg_check.rs (no joint owners here, so that both
    // sides attribute the same value), with a valuation per product.
    db.batch_execute(&format!(
        "CREATE TABLE products (id bigint PRIMARY KEY, valuation numeric(14, 2) NOT NULL, d jsonb NOT NULL);
         INSERT INTO products
         SELECT i, ((i * 7919) % 10000000) / 100.0, CASE
             WHEN i % 100 < 55 THEN jsonb_build_object('association_type', 'individual', (1000 + i)::text, 100.00)
             WHEN i % 100 < 85 THEN jsonb_build_object('association_type', 'tenants_in_common',
                 (1000 + i)::text, 50.00, (1001 + i)::text, 50.00)
             ELSE jsonb_build_object('association_type', 'tenants_in_common',
                 (1000 + i)::text, 33.33, (1001 + i)::text, 33.33, (1002 + i)::text, 33.34)
         END
         FROM generate_series(1, {PRODUCTS}) AS i;"
    ))?;
    db.batch_execute("VACUUM ANALYZE products")?;

    let mut time = |sql: &str| -> Result<(Duration, i64), postgres::Error> {
        let start = Instant::now();
        let parts: i64 = db.query_one(sql, &[])?.get(0);
        Ok((start.elapsed(), parts))
    };
    // Both produce one value per (product, owner) and add them up.
    let ours = "SELECT count(*) FROM (SELECT a.owner_id, a.amount FROM products p \
                CROSS JOIN LATERAL ownership_apportion(p.d, p.valuation) AS a) x \
                WHERE x.amount IS NOT NULL";
    let seed =
        "SELECT count(*) FROM (SELECT e.key, p.valuation * e.value::numeric / 100 AS amount \
                FROM products p, jsonb_each_text(p.d) AS e WHERE e.key ~ '^[0-9]+$') x \
                WHERE x.amount IS NOT NULL";
    // What the exactness costs at the least: checking each document.
    let check = "SELECT count(*) FROM products WHERE ownership_is_valid_strict(d)";
    let (_, a) = time(ours)?;
    let (_, b) = time(seed)?;
    assert_eq!(a, b, "both give one part per owner");
    assert_eq!(time(check)?.1, PRODUCTS);
    let (mut ours_t, mut seed_t, mut check_t) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours_t.push(time(ours)?.0);
        seed_t.push(time(seed)?.0);
        check_t.push(time(check)?.0);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (ours_t, seed_t, check_t) = (
        median(&mut ours_t),
        median(&mut seed_t),
        median(&mut check_t),
    );
    let rate = |d: Duration| PRODUCTS as f64 / d.as_secs_f64();
    println!(
        "money by owner over {PRODUCTS} products, {a} owner parts (median of {ROUNDS} rounds):"
    );
    println!(
        "  ownership_apportion (exact)              {:>10.0} products/s  ({:?})",
        rate(ours_t),
        ours_t
    );
    println!(
        "  seed: valuation * pct / 100 (inexact)    {:>10.0} products/s  ({:?})",
        rate(seed_t),
        seed_t
    );
    println!(
        "  of which the strict check alone          {:>10.0} products/s  ({:?})",
        rate(check_t),
        check_t
    );
    println!(
        "  ownership_apportion time / seed time: {:.2}x (the strict check alone: {:.2}x)",
        ours_t.as_secs_f64() / seed_t.as_secs_f64(),
        check_t.as_secs_f64() / seed_t.as_secs_f64()
    );
    Ok(())
}
