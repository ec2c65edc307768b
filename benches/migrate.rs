//! The migration side by side with the seed's own Phase 3 block and with the
//! physical floor, on the same synthetic data in one run on a throwaway server:
//!
//! - the seed's block (`tests/fixtures/seed_phase3.sql`) on one copy,
//! - `coownership migrate --policy seed` (the CLI, under `/usr/bin/time -v` for
//!   its peak memory) on a second copy,
//! - a bare `UPDATE client_products SET ownership_details = <constant>` over
//!   the same rows on a third copy (the constant as long as the average
//!   migrated document, so both write the same amount),
//!
//! and checks that the first two wrote identical documents.
//!
//! `cargo bench --bench migrate --features cli` (sizes: `COOWNERSHIP_BENCH_SIZES=100000,1000000`).

use std::process::Command;
use std::time::{Duration, Instant};

use coownership::migrate::demo::{load, Synthetic};
use coownership::pg::server::TempServer;
use postgres::Client;

fn checksum(db: &mut Client) -> (i64, String) {
    let row = db
        .query_one(
            "SELECT count(*), md5(string_agg(id::text || '=' || ownership_details::text, ',' ORDER BY id)) FROM client_products",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("migrate: skipped outside `cargo bench`");
        return;
    }
    let sizes: Vec<u64> = std::env::var("COOWNERSHIP_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("COOWNERSHIP_BENCH_SIZES: comma-separated numbers")
        })
        .collect();
    let server = TempServer::start().expect("a throwaway PostgreSQL server");
    println!("| products | seed Phase 3 block | coownership migrate --policy seed | bare UPDATE | seed / ours | ours / bare | CLI peak RSS |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for &n in &sizes {
        let shape = Synthetic {
            products: n,
            anomalies: false,
        };
        let mut seed_db = server.create_database("bench_seed").unwrap();
        let mut ours_db = server.create_database("bench_ours").unwrap();
        let mut bare_db = server.create_database("bench_bare").unwrap();
        for db in [&mut seed_db, &mut ours_db, &mut bare_db] {
            load(db, shape).unwrap();
            db.batch_execute("CHECKPOINT").unwrap();
        }

        let seed_time = timed(|| {
            seed_db
                .batch_execute(include_str!("../tests/fixtures/seed_phase3.sql"))
                .unwrap()
        });

        let url = server.connection_string("bench_ours");
        let mut out = None;
        let ours_time = timed(|| {
            out = Some(
                Command::new("/usr/bin/time")
                    .args([
                        "-v",
                        env!("CARGO_BIN_EXE_coownership"),
                        "migrate",
                        "--quiet",
                        "--policy",
                        "seed",
                    ])
                    .args(["--database-url", &url])
                    .output()
                    .expect("/usr/bin/time runs"),
            )
        });
        let out = out.unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let rss_kb: u64 = stderr
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|v| v.trim().parse().ok())
            .expect("peak RSS from /usr/bin/time -v");
        eprint!("{}", String::from_utf8_lossy(&out.stdout));

        // The floor writes documents of the same average size as the real
        // ones (a note pads the constant), so both write as many pages.
        let avg: f64 = ours_db
            .query_one(
                "SELECT avg(length(ownership_details::text))::float8 FROM client_products",
                &[],
            )
            .unwrap()
            .get(0);
        let base = r#"{"association_type": "individual", "1": 100.00, "note": ""}"#;
        let pad = "x".repeat((avg.round() as usize).saturating_sub(base.len()));
        let constant =
            format!(r#"{{"association_type": "individual", "1": 100.00, "note": "{pad}"}}"#);
        bare_db
            .batch_execute("ALTER TABLE client_products ADD COLUMN ownership_details jsonb")
            .unwrap();
        let bare_time = timed(|| {
            bare_db
                .execute(
                    "UPDATE client_products SET ownership_details = $1::text::jsonb",
                    &[&constant],
                )
                .unwrap();
        });

        let (seed_rows, seed_sum) = checksum(&mut seed_db);
        let (ours_rows, ours_sum) = checksum(&mut ours_db);
        assert_eq!(seed_rows, n as i64);
        assert_eq!(
            (ours_rows, &ours_sum),
            (seed_rows, &seed_sum),
            "outputs differ at {n} products"
        );

        println!(
            "| {n} | {:.2} s | {:.2} s | {:.2} s | **{:.2}×** | **{:.2}×** | {:.0} MB |",
            seed_time.as_secs_f64(),
            ours_time.as_secs_f64(),
            bare_time.as_secs_f64(),
            seed_time.as_secs_f64() / ours_time.as_secs_f64(),
            ours_time.as_secs_f64() / bare_time.as_secs_f64(),
            rss_kb as f64 / 1024.0
        );
    }
    println!("(outputs of the seed's block and of ownership migrate identical at every size)");
}
