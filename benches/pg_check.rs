//! In-database validation throughput: the shipped strict SQL function against
//! the seed's PL/pgSQL function, over the same 100,000 stored documents in
//! the same run on a throwaway server.
//!
//! `cargo bench --bench pg_check --features postgres`

use std::time::{Duration, Instant};

use coownership::pg::server::TempServer;

const DOCUMENTS: i64 = 100_000;
const ROUNDS: usize = 7;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo test --benches` runs bench targets with `--bench`-less args; keep that quick.
    if std::env::args().any(|a| a == "--test")
        || std::env::args().len() > 1 && !std::env::args().any(|a| a == "--bench")
    {
        println!("pg_check: skipped outside `cargo bench`");
        return Ok(());
    }
    let server = TempServer::start()?;
    let mut db = server.create_database("bench_check")?;
    coownership::pg::install(&mut db)?;
    db.batch_execute(include_str!("../tests/fixtures/seed_check.sql"))?;
    // The realistic mix of benches/validate.rs: half individual, most of the
    // rest 2–3 tenants in common, some joint, a little metadata.
    db.batch_execute(&format!(
        "CREATE TABLE docs (id bigint PRIMARY KEY, d jsonb NOT NULL);
         INSERT INTO docs
         SELECT i, CASE
             WHEN i % 100 < 50 THEN jsonb_build_object('association_type', 'individual', (1000 + i)::text, 100.00)
             WHEN i % 100 < 80 THEN jsonb_build_object('association_type', 'tenants_in_common',
                 (1000 + i)::text, 50.00, (1001 + i)::text, 50.00)
             WHEN i % 100 < 90 THEN jsonb_build_object('association_type', 'tenants_in_common',
                 (1000 + i)::text, 33.33, (1001 + i)::text, 33.33, (1002 + i)::text, 33.34)
             WHEN i % 100 < 95 THEN jsonb_build_object('association_type', 'joint_ownership',
                 'joint_owners', jsonb_build_array(1000 + i, 1001 + i))
             ELSE jsonb_build_object('association_type', 'individual', (1000 + i)::text, 100.00,
                 'note', 'transferred from legacy system')
         END
         FROM generate_series(1, {DOCUMENTS}) AS i;"
    ))?;
    db.batch_execute("VACUUM ANALYZE docs")?;

    let mut time = |sql: &str| -> Result<Duration, postgres::Error> {
        let start = Instant::now();
        let valid: i64 = db.query_one(sql, &[])?.get(0);
        let took = start.elapsed();
        assert_eq!(
            valid, DOCUMENTS,
            "every document of the mix is valid: {sql}"
        );
        Ok(took)
    };
    let strict_sql = "SELECT count(*) FILTER (WHERE ownership_is_valid_strict(d)) FROM docs";
    let seed_sql =
        "SELECT count(*) FILTER (WHERE validate_ownership_percentages_precise(d)) FROM docs";
    // Warm both up once, then alternate so neither gets a systematically warmer cache.
    time(strict_sql)?;
    time(seed_sql)?;
    let (mut strict, mut seed) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        strict.push(time(strict_sql)?);
        seed.push(time(seed_sql)?);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (strict, seed) = (median(&mut strict), median(&mut seed));
    let rate = |d: Duration| DOCUMENTS as f64 / d.as_secs_f64();
    println!("in-database validation of {DOCUMENTS} stored documents (median of {ROUNDS} rounds):");
    println!(
        "  ownership_is_valid_strict (shipped)          {:>10.0} documents/s  ({:?})",
        rate(strict),
        strict
    );
    println!(
        "  validate_ownership_percentages_precise (seed) {:>9.0} documents/s  ({:?})",
        rate(seed),
        seed
    );
    println!(
        "  shipped / seed throughput ratio: {:.2}x",
        rate(strict) / rate(seed)
    );
    Ok(())
}
