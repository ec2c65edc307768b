//! Autovacuum on the products table does not make the lifecycle fail.
//!
//! After a command rewrites a million rows, autovacuum comes to the table
//! and holds `SHARE UPDATE EXCLUSIVE` for as long as it takes. It gives way
//! only to a session that waits for the table's lock for `deadlock_timeout`
//! (the server then cancels it); a command that only ever asked `NOWAIT`,
//! or waited less, used to retry until its lock timeout and fail (the
//! lifecycle bench met it after a rollback).

use std::time::{Duration, Instant};

use coownership_postgres::demo::{load, Synthetic};
use coownership_postgres::{constrain, migrate, ConstrainOptions, MigrateOptions};
use coownership_testkit::server::TempServer;

/// Waits until an autovacuum worker is on `client_products`.
fn autovacuum_running(db: &mut postgres::Client) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let on_it: bool = db
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity \
                 WHERE backend_type = 'autovacuum worker' AND query LIKE '%client_products%')",
                &[],
            )
            .unwrap()
            .get(0);
        if on_it {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// A crawling autovacuum on a table with dead rows: every page it reads
/// costs a 100 ms sleep.
fn crawling_autovacuum(db: &mut postgres::Client) {
    db.batch_execute(
        "ALTER TABLE client_products SET (autovacuum_vacuum_threshold = 0, \
             autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_cost_delay = 100, \
             autovacuum_vacuum_cost_limit = 1, autovacuum_analyze_threshold = 1000000000);
         UPDATE client_products SET product_name = product_name || '.'",
    )
    .unwrap();
    assert!(
        autovacuum_running(db),
        "autovacuum did not come to the table within a minute"
    );
}

#[test]
fn autovacuum_gives_way_to_migrate_and_constrain() {
    // A server of its own: autovacuum is made eager here, which the other
    // tests' server must not be.
    let server = TempServer::start().expect("a throwaway PostgreSQL server");
    let mut db = server.create_database("autovacuum").unwrap();
    db.batch_execute("ALTER SYSTEM SET autovacuum_naptime = 1")
        .unwrap();
    db.query_one("SELECT pg_reload_conf()", &[]).unwrap();
    load(
        &mut db,
        Synthetic {
            // Enough pages for the crawl to outlast the lock timeout below.
            products: 5_000,
            anomalies: false,
        },
    )
    .unwrap();
    let mut config = server.config_for("autovacuum");
    config.application_name("coownership");

    // A first run adds the column (ACCESS EXCLUSIVE), then locks the table.
    crawling_autovacuum(&mut db);
    let options = MigrateOptions {
        lock_timeout: Duration::from_secs(4),
        ..MigrateOptions::default()
    };
    let started = Instant::now();
    let report = migrate(&config, &options, &mut |_, _| {})
        .unwrap_or_else(|e| panic!("migrate beside autovacuum: {e}"));
    assert!(report.column_added && report.updated > 0);
    assert!(started.elapsed() < Duration::from_secs(4));

    // constrain's ADD CONSTRAINT.
    crawling_autovacuum(&mut db);
    let constrained = constrain(
        &config,
        &ConstrainOptions {
            lock_timeout: Duration::from_secs(4),
            ..ConstrainOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("constrain beside autovacuum: {e}"));
    assert!(constrained.constrained, "{}", constrained.summary());
}
