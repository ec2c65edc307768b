//! What an application feels while the lifecycle runs: one connection
//! alternating a read and an update of a random product, 2 ms apart, on an
//! idle table (the baseline) and while `migrate` (a first run), `constrain`
//! (its check, its brief `ADD CONSTRAINT`, its `VALIDATE`) and `rollback`
//! run, on one throwaway server over the harness's synthetic data.
//!
//! Criterion measures the application's mean write time during each (group
//! `lifecycle_app_write`; each sample is one run of the command, undone
//! afterwards untimed), printed as ratios to the idle table's. The tail is
//! what an operator plans for, and criterion does not report it: the read
//! and write p50, p99 and maximum over every sample follow.
//!
//! `cargo bench -p coownership-postgres --bench lifecycle_latency`
//! (`COOWNERSHIP_BENCH_ROWS`, default 1,000,000 products; 2,000 under
//! `cargo test --benches`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coownership_postgres::demo::{load, Synthetic};
use coownership_postgres::{
    constrain, migrate, rollback, uninstall, ConstrainOptions, MigrateOptions, RollbackOptions,
    UninstallOptions,
};
use coownership_testkit::bench::print_ratios;
use coownership_testkit::server::TempServer;
use criterion::{Criterion, SamplingMode};

/// Each application operation: whether it wrote, and how long it took.
type Samples = Vec<(bool, Duration)>;

type BoxError = Box<dyn std::error::Error>;

/// A lifecycle command, run while the application works.
type Command<'a> = &'a dyn Fn() -> Result<(), BoxError>;

fn main() {
    coownership_testkit::bench::start();
    let rows = coownership_testkit::bench::rows(1_000_000, 2_000) as i64;
    let server = TempServer::start().expect("a throwaway PostgreSQL server");
    let mut db = server
        .create_database("bench_latency")
        .expect("the bench database");
    let version: String = db
        .query_one("SHOW server_version", &[])
        .expect("the version")
        .get(0);
    load(
        &mut db,
        Synthetic {
            products: rows as u64,
            anomalies: true,
        },
    )
    .expect("the legacy tables");
    db.batch_execute("VACUUM ANALYZE client_products")
        .expect("analyze");
    let config = server.config_for("bench_latency");
    println!("PostgreSQL {version}, {rows} products");

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(60));
    // Every operation of every sample, by what was running.
    let all: RefCell<BTreeMap<&str, Samples>> = RefCell::default();
    let mut g = c.benchmark_group("lifecycle_app_write");
    g.sampling_mode(SamplingMode::Flat);
    let cases: [(&str, Command<'_>); 4] = [
        ("idle", &|| {
            std::thread::sleep(Duration::from_secs(2));
            Ok(())
        }),
        ("migrate", &|| {
            migrate(&config, &MigrateOptions::default(), &mut |_, _| {})?;
            Ok(())
        }),
        ("constrain", &|| {
            constrain(&config, &ConstrainOptions::default())?;
            Ok(())
        }),
        ("rollback", &|| {
            rollback(&config, &RollbackOptions::new(latest_backup(&config)?))?;
            Ok(())
        }),
    ];
    for (name, command) in cases {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                set_up(name, &config).expect("the state the command starts from");
                let samples = with_workload(&config, rows, command).expect("the command");
                clean_up(name, &config).expect("undoing the command");
                let writes: Vec<Duration> = samples
                    .iter()
                    .filter(|(w, _)| *w)
                    .map(|(_, d)| *d)
                    .collect();
                all.borrow_mut().entry(name).or_default().extend(samples);
                let mean = writes.iter().sum::<Duration>() / writes.len().max(1) as u32;
                mean * iters as u32
            });
        });
    }
    g.finish();
    print_ratios(
        "lifecycle_app_write",
        "idle",
        &["idle", "migrate", "constrain", "rollback"],
    );
    print_tails(&all.borrow());
    c.final_summary();
}

/// Brings the database to the state `command` starts from: legacy for
/// `migrate` and `idle`, migrated for `constrain`, migrated with a backup
/// for `rollback`.
fn set_up(command: &str, config: &postgres::Config) -> Result<(), BoxError> {
    if matches!(command, "constrain" | "rollback") {
        migrate(config, &MigrateOptions::default(), &mut |_, _| {})?;
    }
    Ok(())
}

/// Undoes `command` (and `set_up`), untimed, back to the legacy tables.
fn clean_up(command: &str, config: &postgres::Config) -> Result<(), BoxError> {
    match command {
        "migrate" => {
            rollback(config, &RollbackOptions::new(latest_backup(config)?))?;
        }
        "constrain" => {
            uninstall(config, &UninstallOptions::default())?;
            rollback(config, &RollbackOptions::new(latest_backup(config)?))?;
        }
        _ => {}
    }
    Ok(())
}

/// The backup the latest migration kept.
fn latest_backup(config: &postgres::Config) -> Result<String, BoxError> {
    let mut db = config.connect(postgres::NoTls)?;
    let name: Option<String> = db
        .query_one(
            "SELECT max(schemaname || '.' || tablename) FROM pg_tables \
             WHERE tablename LIKE 'ownership\\_backup\\_%'",
            &[],
        )?
        .get(0);
    Ok(name.ok_or("no backup")?)
}

/// Runs `command` while the application works; every operation it made.
fn with_workload(
    config: &postgres::Config,
    rows: i64,
    command: Command<'_>,
) -> Result<Samples, BoxError> {
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = stop.clone();
        let config = config.clone();
        std::thread::spawn(move || -> Result<Samples, postgres::Error> {
            let mut app = config.connect(postgres::NoTls)?;
            let read = app.prepare("SELECT product_name FROM client_products WHERE id = $1")?;
            let write = app
                .prepare("UPDATE client_products SET product_name = product_name WHERE id = $1")?;
            let mut seed = 0x9e37_79b9_7f4a_7c15u64;
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for is_write in [false, true] {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let id = 1 + (seed % rows as u64) as i64;
                    let started = Instant::now();
                    if is_write {
                        app.execute(&write, &[&id])?;
                    } else {
                        app.query_opt(&read, &[&id])?;
                    }
                    samples.push((is_write, started.elapsed()));
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            Ok(samples)
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let outcome = command();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let samples = worker.join().map_err(|_| "the workload panicked")??;
    outcome?;
    Ok(samples)
}

/// The read and write p50, p99 and maximum over every sample, by command.
fn print_tails(all: &BTreeMap<&str, Samples>) {
    if all.values().all(|s| s.len() < 100) {
        return;
    }
    println!(
        "\nthe application's operations, over every sample:\n{:<10} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "while", "ops", "read p50", "read p99", "read max", "write p50", "write p99", "write max"
    );
    for (what, samples) in all {
        let stats = |writes: bool| {
            let mut v: Vec<Duration> = samples
                .iter()
                .filter(|(w, _)| *w == writes)
                .map(|(_, d)| *d)
                .collect();
            v.sort();
            let at = |q: f64| {
                v.get(((v.len() as f64 - 1.0) * q).round() as usize)
                    .copied()
                    .unwrap_or_default()
            };
            (at(0.5), at(0.99), v.last().copied().unwrap_or_default())
        };
        let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
        let (r50, r99, rmax) = stats(false);
        let (w50, w99, wmax) = stats(true);
        println!(
            "{what:<10} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            samples.len(),
            ms(r50),
            ms(r99),
            ms(rmax),
            ms(w50),
            ms(w99),
            ms(wmax)
        );
    }
}
