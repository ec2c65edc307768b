//! One throwaway server per test process, a database per test, and the
//! helpers that read and write the legacy tables.

use std::sync::OnceLock;

use crate::server::TempServer;

/// The one throwaway server of this test run; started on first use and torn
/// down when the test process ends (see `TempServer`).
pub fn server() -> Option<&'static TempServer> {
    static SERVER: OnceLock<Result<TempServer, String>> = OnceLock::new();
    match SERVER.get_or_init(|| TempServer::start().map_err(|e| e.to_string())) {
        Ok(s) => Some(s),
        Err(e) => {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            let opted_out = std::env::var("COOWNERSHIP_SKIP_PG_TESTS").is_ok_and(|v| v == "1");
            if ci || !opted_out {
                panic!(
                    "this test needs PostgreSQL and no server could be started: {e}\n\
                     Install the server binaries (Debian: apt-get install postgresql) or set DATABASE_URL. \
                     Outside CI, COOWNERSHIP_SKIP_PG_TESTS=1 skips these tests."
                );
            }
            eprintln!("SKIPPED (COOWNERSHIP_SKIP_PG_TESTS=1): no PostgreSQL: {e}");
            None
        }
    }
}

/// A fresh database of its own for one test.
pub fn database(name: &str) -> Option<postgres::Client> {
    let server = server()?;
    Some(
        server
            .create_database(name)
            .unwrap_or_else(|e| panic!("creating database {name}: {e}")),
    )
}

/// The server's major version (13, 14, ...).
pub fn server_major(db: &mut postgres::Client) -> u32 {
    let num: String = db.query_one("SHOW server_version_num", &[]).unwrap().get(0);
    num.parse::<u32>().expect("server_version_num is a number") / 10_000
}

/// Connection settings for database `db` on the test server.
pub fn cfg(db: &str) -> postgres::Config {
    let mut config = server().expect("server").config_for(db);
    config.application_name("coownership");
    config
}

/// A connection string for database `db` on the test server, for the CLI.
pub fn url(db: &str) -> String {
    server().expect("server").connection_string(db)
}

/// The stored document of each product, by id.
pub fn documents(db: &mut postgres::Client) -> Vec<(i64, Option<String>)> {
    db.query(
        "SELECT id, ownership_details::text FROM client_products ORDER BY id",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// Six hand-made products covering every shape (no owner, one, two, three
/// with ties, a repeated owner, four) and links to a product that does not exist.
pub fn hand_made(db: &mut postgres::Client) {
    db.batch_execute(coownership_postgres::demo::LEGACY_SCHEMA)
        .unwrap();
    db.batch_execute(
        "INSERT INTO client_products (id, product_name) SELECT i, 'p' || i FROM generate_series(1, 6) i;
         INSERT INTO product_owner_products (product_id, product_owner_id, created_at) VALUES
           -- 1: no owners
           (2, 20, '2020-01-01'),
           (3, 31, '2020-01-02'), (3, 30, '2020-01-01'),
           -- 4: three owners; 42 is last by created_at, 41 and 43 tie and order by id
           (4, 42, '2020-01-03'), (4, 43, '2020-01-01'), (4, 41, '2020-01-01'),
           -- 5: owner 50 twice
           (5, 50, '2020-01-01'), (5, 51, '2020-01-02'), (5, 50, '2020-01-03'),
           -- 6: four owners
           (6, 61, '2020-01-01'), (6, 62, '2020-01-02'), (6, 63, '2020-01-03'), (6, 64, '2020-01-04'),
           -- product 99 does not exist
           (99, 990, '2020-01-01'), (99, 991, '2020-01-01')",
    )
    .unwrap();
}

/// Whether `client_products` has the `ownership_details` column.
pub fn has_details_column(db: &mut postgres::Client) -> bool {
    db.query_one(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
         WHERE table_name = 'client_products' AND column_name = 'ownership_details')",
        &[],
    )
    .unwrap()
    .get(0)
}

/// Migrates database `db` with the default options (balanced policy,
/// backup kept), as most tests do.
pub fn migrate_default(db: &str) -> coownership_postgres::MigrationReport {
    coownership_postgres::migrate(
        &cfg(db),
        &coownership_postgres::MigrateOptions::default(),
        &mut |_, _| {},
    )
    .unwrap_or_else(|e| panic!("migrating {db}: {e}"))
}

/// What a `postgres` decode error says underneath ("error deserializing
/// column 0" on top).
pub fn error_source(err: &dyn std::error::Error) -> String {
    err.source().map(|s| s.to_string()).unwrap_or_default()
}
