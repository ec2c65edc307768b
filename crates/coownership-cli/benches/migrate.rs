//! The migration side by side with the seed's own Phase 3 block and with the
//! physical floor, on the same synthetic data in one run on a throwaway
//! server, each on a fresh copy of the data:
//!
//! - the seed's block (`coownership_testkit::fixtures::SEED_PHASE3_SQL`);
//! - `coownership migrate --policy seed` on a first run (the column is added),
//!   with its backup (the default) and with `--no-backup` (the CLI, under
//!   `/usr/bin/time -v` for its peak memory);
//! - the floor of a first run: a bare `UPDATE client_products SET
//!   ownership_details = <constant>` over the same rows after `ADD COLUMN`,
//!   the constant as long as the average migrated document, so both write
//!   the same amount;
//! - the least that any client-side migration has to do on top of the
//!   floor, on another fresh copy: load the very documents ours wrote into
//!   a table (`COPY`, which parses them), then apply them with one
//!   `UPDATE … FROM` that joins on the id and touches `updated_at`, as
//!   `migrate` must (with `migrate`'s `work_mem`, so the join stays in
//!   memory);
//! - a run over an existing column whose every document changes, with
//!   `--no-backup` and with the backup, against the same bare `UPDATE` over
//!   that column;
//!
//! and checks that the seed's block and ours wrote identical documents.
//!
//! `cargo bench -p coownership-cli --bench migrate` (sizes: `COOWNERSHIP_BENCH_SIZES=100000,1000000`).

use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use coownership_postgres::demo::{load, Synthetic};
use coownership_testkit::server::TempServer;
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

/// Runs `coownership migrate --policy seed` with `extra` arguments; returns
/// the time and the peak memory in kB.
fn ours(url: &str, extra: &[&str]) -> (Duration, u64) {
    let mut out = None;
    let time = timed(|| {
        out = Some(
            Command::new("/usr/bin/time")
                .args([
                    "-v",
                    env!("CARGO_BIN_EXE_coownership"),
                    "migrate",
                    "--quiet",
                ])
                .args(["--policy", "seed", "--database-url", url])
                .args(extra)
                .output()
                .expect("/usr/bin/time runs"),
        );
    });
    let out = out.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
    let rss_kb = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("peak RSS from /usr/bin/time -v");
    (time, rss_kb)
}

/// The floor: one bare `UPDATE` of every row with `constant`.
fn bare(db: &mut Client, constant: &str) -> Duration {
    timed(|| {
        db.execute(
            "UPDATE client_products SET ownership_details = $1::text::jsonb",
            &[&constant],
        )
        .unwrap();
    })
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
    let mut first = vec![
        "| products | seed Phase 3 block | ours (backup) | ours (--no-backup) | bare UPDATE | seed / ours | ours / bare | ours --no-backup / bare | CLI peak RSS |".to_owned(),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |".to_owned(),
    ];
    let mut least_rows = vec![
        "| products | bare UPDATE | load the documents | UPDATE … FROM them | ours (--no-backup) | UPDATE … FROM / bare | (load + UPDATE … FROM) / bare | ours --no-backup / (load + UPDATE … FROM) |".to_owned(),
        "| --- | --- | --- | --- | --- | --- | --- | --- |".to_owned(),
    ];
    let mut again = vec![
        "| products | ours (--no-backup) | ours (backup) | bare UPDATE | ours --no-backup / bare | ours (backup) / bare |".to_owned(),
        "| --- | --- | --- | --- | --- | --- |".to_owned(),
    ];
    for &n in &sizes {
        let shape = Synthetic {
            products: n,
            anomalies: false,
        };
        let names = [
            "bench_seed",
            "bench_ours",
            "bench_ours_nb",
            "bench_bare",
            "bench_again_nb",
            "bench_again",
            "bench_again_bare",
            "bench_least",
        ];
        let mut dbs: Vec<Client> = names
            .iter()
            .map(|name| {
                let mut db = server.create_database(name).unwrap();
                load(&mut db, shape).unwrap();
                db
            })
            .collect();
        // The "again" copies hold a document in every row already, which
        // the migration replaces: the streaming path.
        for db in &mut dbs[4..7] {
            db.batch_execute(
                r#"ALTER TABLE client_products ADD COLUMN ownership_details jsonb;
                   UPDATE client_products SET ownership_details = '{"before": true}';"#,
            )
            .unwrap();
            db.batch_execute("VACUUM ANALYZE client_products").unwrap();
        }
        for db in &mut dbs {
            db.batch_execute("CHECKPOINT").unwrap();
        }

        let seed_time = timed(|| {
            dbs[0]
                .batch_execute(coownership_testkit::fixtures::SEED_PHASE3_SQL)
                .unwrap();
        });
        let (ours_time, rss_kb) = ours(&server.connection_string("bench_ours"), &[]);
        let (ours_nb_time, _) = ours(&server.connection_string("bench_ours_nb"), &["--no-backup"]);

        // The floor writes documents of the same average size as the real
        // ones (a note pads the constant), so both write as many pages.
        let avg: f64 = dbs[1]
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
        dbs[3]
            .batch_execute("ALTER TABLE client_products ADD COLUMN ownership_details jsonb")
            .unwrap();
        let bare_time = bare(&mut dbs[3], &constant);

        // The least: the documents ours wrote, loaded and applied.
        let mut written = Vec::new();
        dbs[1]
            .copy_out("COPY (SELECT id, ownership_details FROM client_products) TO STDOUT")
            .unwrap()
            .read_to_end(&mut written)
            .unwrap();
        let least = &mut dbs[7];
        least
            .batch_execute(
                "ALTER TABLE client_products ADD COLUMN ownership_details jsonb;
                 CREATE UNLOGGED TABLE written (id bigint, details jsonb);
                 SET work_mem = '256MB'",
            )
            .unwrap();
        let load_time = timed(|| {
            let mut w = least.copy_in("COPY written FROM STDIN").unwrap();
            w.write_all(&written).unwrap();
            w.finish().unwrap();
        });
        let join_time = timed(|| {
            least
                .execute(
                    "UPDATE client_products p SET ownership_details = w.details, updated_at = now() \
                     FROM written w WHERE p.id = w.id AND w.details IS NOT NULL",
                    &[],
                )
                .unwrap();
        });
        least.batch_execute("DROP TABLE written").unwrap();

        let (again_nb, _) = ours(
            &server.connection_string("bench_again_nb"),
            &["--no-backup"],
        );
        let (again_b, _) = ours(&server.connection_string("bench_again"), &[]);
        let again_bare = bare(&mut dbs[6], &constant);

        let (seed_rows, seed_sum) = checksum(&mut dbs[0]);
        assert_eq!(seed_rows, n as i64);
        for i in [1, 2, 4, 5, 7] {
            assert_eq!(
                checksum(&mut dbs[i]),
                (seed_rows, seed_sum.clone()),
                "outputs differ at {n} products ({})",
                names[i]
            );
        }
        let s = |d: Duration| d.as_secs_f64();
        first.push(format!(
            "| {n} | {:.2} s | {:.2} s | {:.2} s | {:.2} s | **{:.2}×** | **{:.2}×** | **{:.2}×** | {:.0} MB |",
            s(seed_time),
            s(ours_time),
            s(ours_nb_time),
            s(bare_time),
            s(seed_time) / s(ours_time),
            s(ours_time) / s(bare_time),
            s(ours_nb_time) / s(bare_time),
            rss_kb as f64 / 1024.0
        ));
        least_rows.push(format!(
            "| {n} | {:.2} s | {:.2} s | {:.2} s | {:.2} s | **{:.2}×** | **{:.2}×** | **{:.2}×** |",
            s(bare_time),
            s(load_time),
            s(join_time),
            s(ours_nb_time),
            s(join_time) / s(bare_time),
            (s(load_time) + s(join_time)) / s(bare_time),
            s(ours_nb_time) / (s(load_time) + s(join_time)),
        ));
        again.push(format!(
            "| {n} | {:.2} s | {:.2} s | {:.2} s | **{:.2}×** | **{:.2}×** |",
            s(again_nb),
            s(again_b),
            s(again_bare),
            s(again_nb) / s(again_bare),
            s(again_b) / s(again_bare),
        ));
        drop(dbs);
        for name in names {
            let mut admin = server.connect("postgres").unwrap();
            admin
                .batch_execute(&format!("DROP DATABASE {name}"))
                .unwrap();
        }
    }
    println!("A first run (the column is added):\n");
    for line in first {
        println!("{line}");
    }
    println!("\nThe least a client-side migration must do, on a first run:\n");
    for line in least_rows {
        println!("{line}");
    }
    println!("\nOver an existing column, every document replaced:\n");
    for line in again {
        println!("{line}");
    }
    println!("\n(outputs of the seed's block and of every run of ours identical at every size)");
}
