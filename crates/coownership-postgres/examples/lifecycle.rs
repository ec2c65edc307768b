//! The lifecycle as a library, on a throwaway PostgreSQL server: the legacy
//! tables with synthetic products, then migrate, verify, constrain, status
//! and rollback, printing each report's summary.
//!
//! ```sh
//! cargo run -p coownership-postgres --example lifecycle            # 1,000 products
//! cargo run -p coownership-postgres --example lifecycle -- 100000
//! ```
//!
//! It needs PostgreSQL's server binaries (see `scripts/demo`), or
//! `DATABASE_URL` naming a server to use instead.

use std::error::Error;

use coownership::Rules;
use coownership_postgres::demo::{load, Synthetic};
use coownership_postgres::{
    constrain, migrate, rollback, status, verify, ConstrainOptions, MigrateOptions, RollbackOptions,
};
use coownership_testkit::server::TempServer;

fn main() -> Result<(), Box<dyn Error>> {
    let products: u64 = std::env::args().nth(1).map_or(Ok(1_000), |a| a.parse())?;
    let server = TempServer::start()?;
    let mut db = server.create_database("lifecycle_example")?;
    load(
        &mut db,
        Synthetic {
            products,
            anomalies: true,
        },
    )?;
    let config = server.config_for("lifecycle_example");
    let options = MigrateOptions::default();

    let migrated = migrate(&config, &options, &mut |done, total| {
        if done == total {
            eprintln!("planned {total} products");
        }
    })?;
    print!("{}", migrated.summary());
    let check = verify(&config, &options)?;
    print!("{}", check.summary());
    let constrained = constrain(
        &config,
        &ConstrainOptions {
            rules: Rules::Strict,
            ..ConstrainOptions::default()
        },
    )?;
    print!("{}", constrained.summary());
    print!("{}", status(&config, &options)?.summary());
    let backup = migrated.backup.ok_or("migrate keeps a backup by default")?;
    print!(
        "{}",
        rollback(&config, &RollbackOptions::new(backup))?.summary()
    );
    Ok(())
}
