//! What an application feels while the lifecycle runs: the latency of its
//! reads and writes of single products (p50, p99, max) on an idle table,
//! and while `migrate` (a first run), `constrain` (its check, its brief
//! `ADD CONSTRAINT`, its `VALIDATE`) and `rollback` run, in one run on one
//! throwaway server over the harness's synthetic data.
//!
//! `cargo bench --bench lifecycle_latency --features postgres`
//! (`COOWNERSHIP_BENCH_ROWS`, default 1,000,000 products).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coownership_postgres::demo::{load, Synthetic};
use coownership_postgres::{
    constrain, migrate, rollback, ConstrainOptions, MigrateOptions, RollbackOptions,
};
use coownership_testkit::server::TempServer;

/// Each operation's kind and latency.
type Samples = Vec<(bool, Duration)>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--test")
        || std::env::args().len() > 1 && !std::env::args().any(|a| a == "--bench")
    {
        println!("lifecycle_latency: skipped outside `cargo bench`");
        return Ok(());
    }
    let rows: i64 = std::env::var("COOWNERSHIP_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let server = TempServer::start()?;
    let mut db = server.create_database("bench_latency")?;
    let version: String = db.query_one("SHOW server_version", &[])?.get(0);
    load(
        &mut db,
        Synthetic {
            products: rows as u64,
            anomalies: true,
        },
    )?;
    db.batch_execute("VACUUM ANALYZE client_products")?;
    let config = server.config_for("bench_latency");
    println!(
        "PostgreSQL {version}, {rows} products; one application connection alternating a read and \
         an update of a random product, 2 ms apart"
    );
    println!(
        "{:<34} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
        "while",
        "ops",
        "read p50",
        "read p99",
        "read max",
        "write p50",
        "write p99",
        "write max",
        "command"
    );

    let idle = with_workload(&config, rows, || {
        std::thread::sleep(Duration::from_secs(5));
        Ok(())
    })?;
    print_row("an idle table (baseline)", &idle.0, idle.1);
    let mut backup = None;
    let migrating = with_workload(&config, rows, || {
        let report = migrate(&config, &MigrateOptions::default(), &mut |_, _| {})?;
        backup = report.backup;
        Ok(())
    })?;
    print_row("migrate (first run, backup)", &migrating.0, migrating.1);
    let constraining = with_workload(&config, rows, || {
        constrain(&config, &ConstrainOptions::default())?;
        Ok(())
    })?;
    print_row(
        "constrain (check, add, VALIDATE)",
        &constraining.0,
        constraining.1,
    );
    let backup = backup.ok_or("the migration kept no backup")?;
    let rolling_back = with_workload(&config, rows, || {
        rollback(&config, &RollbackOptions::new(backup.clone()))?;
        Ok(())
    })?;
    print_row(
        "rollback (drops the column)",
        &rolling_back.0,
        rolling_back.1,
    );
    Ok(())
}

/// Runs `command` while the application works; its samples and how long
/// the command took.
fn with_workload(
    config: &postgres::Config,
    rows: i64,
    command: impl FnOnce() -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(Samples, Duration), Box<dyn std::error::Error>> {
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
    let started = Instant::now();
    command()?;
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let samples = worker.join().map_err(|_| "the workload panicked")??;
    Ok((samples, took))
}

fn print_row(what: &str, samples: &Samples, took: Duration) {
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
        "{what:<34} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7.2}s",
        samples.len(),
        ms(r50),
        ms(r99),
        ms(rmax),
        ms(w50),
        ms(w99),
        ms(wmax),
        took.as_secs_f64()
    );
}
