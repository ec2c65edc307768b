//! The migration side by side with the seed's own Phase 3 block and with the
//! physical floor, on the same synthetic data, each run on a fresh copy of
//! it (criterion times the run only, not the copy):
//!
//! - `migrate_first_run`: the seed's block
//!   (`coownership_testkit::fixtures::SEED_PHASE3_SQL`), `coownership
//!   migrate --policy seed` with its backup (the default) and with
//!   `--no-backup` (the CLI itself), and the floor: a bare `UPDATE
//!   client_products SET ownership_details = <constant>` after `ADD COLUMN`,
//!   the constant as long as the average migrated document, so both write
//!   the same amount;
//! - `migrate_least`: the least any client-side migration has to do on top
//!   of the floor: load the very documents ours wrote into a table (`COPY`,
//!   which parses them), then apply them with one `UPDATE … FROM` that joins
//!   on the id and touches `updated_at`, as `migrate` must;
//! - `migrate_again`: a run over an existing column whose every document
//!   changes, with `--no-backup` and with the backup, against the same bare
//!   `UPDATE` over that column (`--allow-removing-owners`: the products
//!   without links lose the placeholder document on purpose).
//!
//! Before measuring, it checks that the seed's block and ours write
//! identical documents, and reads the CLI's peak memory from `/usr/bin/time
//! -v`. After each group, the medians are printed as ratios to the first
//! function's.
//!
//! `cargo bench -p coownership-cli --bench migrate` (`COOWNERSHIP_BENCH_ROWS`,
//! default 100,000 products; 1,000 under `cargo test --benches`).

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use coownership_postgres::demo::{load, Synthetic};
use coownership_testkit::bench::print_ratios;
use coownership_testkit::server::TempServer;
use criterion::{BatchSize, Criterion, SamplingMode};
use postgres::Client;

/// The throwaway server and the template databases each run copies.
struct Bench {
    server: TempServer,
    /// A document as long as the average one ours writes.
    constant: String,
    /// The documents ours writes, as `COPY` text.
    written: Vec<u8>,
}

/// The databases a run starts from: the legacy tables, and the same with a
/// document in every row already (which the migration replaces).
const FIRST: &str = "bench_template_first";
const AGAIN: &str = "bench_template_again";
/// The copy each run works on.
const RUN: &str = "bench_run";

impl Bench {
    fn new(rows: u64) -> Self {
        let server = TempServer::start().expect("a throwaway PostgreSQL server");
        for (name, again) in [(FIRST, false), (AGAIN, true)] {
            let mut db = server.create_database(name).expect("a template");
            let shape = Synthetic {
                products: rows,
                anomalies: false,
            };
            load(&mut db, shape).expect("the legacy tables");
            if again {
                db.batch_execute(
                    r#"ALTER TABLE client_products ADD COLUMN ownership_details jsonb;
                       UPDATE client_products SET ownership_details = '{"before": true}';"#,
                )
                .expect("a document in every row");
            }
            db.batch_execute("VACUUM ANALYZE client_products")
                .expect("analyze");
        }
        let mut bench = Bench {
            server,
            constant: String::new(),
            written: Vec::new(),
        };
        let mut ours = bench.fresh(FIRST);
        let rss_kb = bench.cli(&[]);
        let mut seed = bench.fresh_named(FIRST, "bench_seed");
        seed.batch_execute(coownership_testkit::fixtures::SEED_PHASE3_SQL)
            .expect("the seed's block");
        assert_eq!(
            checksum(&mut seed),
            checksum(&mut ours),
            "the seed's block and ours write the same documents"
        );
        let avg: f64 = ours
            .query_one(
                "SELECT avg(length(ownership_details::text))::float8 FROM client_products",
                &[],
            )
            .expect("the average document")
            .get(0);
        let base = r#"{"association_type": "individual", "1": 100.00, "note": ""}"#;
        let pad = "x".repeat((avg.round() as usize).saturating_sub(base.len()));
        bench.constant =
            format!(r#"{{"association_type": "individual", "1": 100.00, "note": "{pad}"}}"#);
        ours.copy_out("COPY (SELECT id, ownership_details FROM client_products) TO STDOUT")
            .expect("the written documents")
            .read_to_end(&mut bench.written)
            .expect("the written documents");
        println!(
            "{rows} products; the seed's block and ours write identical documents; \
             the CLI's peak memory: {:.0} MB",
            rss_kb as f64 / 1024.0
        );
        bench
    }

    /// A fresh copy of `template`, as the database runs work on.
    fn fresh(&self, template: &str) -> Client {
        self.fresh_named(template, RUN)
    }

    fn fresh_named(&self, template: &str, name: &str) -> Client {
        let mut admin = self.server.connect("postgres").expect("the server");
        // One statement each: neither may run inside a transaction block.
        for statement in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name} TEMPLATE {template}"),
            "CHECKPOINT".to_owned(),
        ] {
            admin.batch_execute(&statement).expect("a fresh copy");
        }
        self.server.connect(name).expect("the copy")
    }

    /// Runs `coownership migrate --policy seed` on the run's copy with
    /// `extra` arguments; its peak memory in kB.
    fn cli(&self, extra: &[&str]) -> u64 {
        let out = Command::new("/usr/bin/time")
            .args([
                "-v",
                env!("CARGO_BIN_EXE_coownership"),
                "migrate",
                "--quiet",
            ])
            .args(["--policy", "seed", "--database-url"])
            .arg(self.server.connection_string(RUN))
            .args(extra)
            .output()
            .expect("/usr/bin/time runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        stderr
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|v| v.trim().parse().ok())
            .expect("peak RSS from /usr/bin/time -v")
    }

    /// The floor: one bare `UPDATE` of every row with the constant.
    fn bare(&self, db: &mut Client) {
        db.execute(
            "UPDATE client_products SET ownership_details = $1::text::jsonb",
            &[&self.constant],
        )
        .expect("the bare UPDATE");
    }
}

fn checksum(db: &mut Client) -> (i64, String) {
    let row = db
        .query_one(
            "SELECT count(*), md5(string_agg(id::text || '=' || ownership_details::text, ',' ORDER BY id)) FROM client_products",
            &[],
        )
        .expect("the checksum");
    (row.get(0), row.get(1))
}

fn main() {
    coownership_testkit::bench::start();
    let rows = coownership_testkit::bench::rows(100_000, 1_000);
    let bench = Bench::new(rows);
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        // Each run costs a fresh copy of the data: one run per sample.
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1));
    first_run(&mut c, &bench);
    least(&mut c, &bench);
    again(&mut c, &bench);
    c.final_summary();
}

/// Each run on a fresh copy of `template` (`prepare` may change it
/// further, untimed); criterion times `run` alone.
fn timed_on_copy(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    bench: &Bench,
    template: &str,
    prepare: &dyn Fn(&mut Client),
    run: &dyn Fn(&mut Client),
) {
    g.bench_function(name, |b| {
        b.iter_batched(
            || {
                let mut db = bench.fresh(template);
                prepare(&mut db);
                db
            },
            |mut db| run(&mut db),
            BatchSize::PerIteration,
        );
    });
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat);
    g
}

fn first_run(c: &mut Criterion, bench: &Bench) {
    let add_column = |db: &mut Client| {
        db.batch_execute("ALTER TABLE client_products ADD COLUMN ownership_details jsonb")
            .expect("the column");
    };
    let mut g = group(c, "migrate_first_run");
    timed_on_copy(&mut g, "bare_update", bench, FIRST, &add_column, &|db| {
        bench.bare(db);
    });
    timed_on_copy(&mut g, "seed_phase3", bench, FIRST, &|_| {}, &|db| {
        db.batch_execute(coownership_testkit::fixtures::SEED_PHASE3_SQL)
            .expect("the seed's block");
    });
    timed_on_copy(&mut g, "ours_backup", bench, FIRST, &|_| {}, &|_| {
        bench.cli(&[]);
    });
    timed_on_copy(&mut g, "ours_no_backup", bench, FIRST, &|_| {}, &|_| {
        bench.cli(&["--no-backup"]);
    });
    g.finish();
    print_ratios(
        "migrate_first_run",
        "bare_update",
        &[
            "bare_update",
            "seed_phase3",
            "ours_backup",
            "ours_no_backup",
        ],
    );
}

fn least(c: &mut Criterion, bench: &Bench) {
    let mut g = group(c, "migrate_least");
    let add_column = |db: &mut Client| {
        db.batch_execute(
            "ALTER TABLE client_products ADD COLUMN ownership_details jsonb;
             CREATE UNLOGGED TABLE written (id bigint, details jsonb);
             SET work_mem = '256MB'",
        )
        .expect("the column and the table");
    };
    timed_on_copy(&mut g, "bare_update", bench, FIRST, &add_column, &|db| {
        bench.bare(db);
    });
    timed_on_copy(&mut g, "load_and_join", bench, FIRST, &add_column, &|db| {
        let mut w = db.copy_in("COPY written FROM STDIN").expect("COPY");
        w.write_all(&bench.written).expect("the documents");
        w.finish().expect("COPY");
        db.execute(
            "UPDATE client_products p SET ownership_details = w.details, updated_at = now() \
             FROM written w WHERE p.id = w.id AND w.details IS NOT NULL",
            &[],
        )
        .expect("the join");
    });
    timed_on_copy(&mut g, "ours_no_backup", bench, FIRST, &|_| {}, &|_| {
        bench.cli(&["--no-backup"]);
    });
    g.finish();
    print_ratios(
        "migrate_least",
        "bare_update",
        &["bare_update", "load_and_join", "ours_no_backup"],
    );
}

fn again(c: &mut Criterion, bench: &Bench) {
    let mut g = group(c, "migrate_again");
    timed_on_copy(&mut g, "bare_update", bench, AGAIN, &|_| {}, &|db| {
        bench.bare(db);
    });
    timed_on_copy(&mut g, "ours_no_backup", bench, AGAIN, &|_| {}, &|_| {
        bench.cli(&["--no-backup", "--allow-removing-owners"]);
    });
    timed_on_copy(&mut g, "ours_backup", bench, AGAIN, &|_| {}, &|_| {
        bench.cli(&["--allow-removing-owners"]);
    });
    g.finish();
    print_ratios(
        "migrate_again",
        "bare_update",
        &["bare_update", "ours_no_backup", "ours_backup"],
    );
}
