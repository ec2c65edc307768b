//! Shared helpers for the tests that need PostgreSQL.
#![allow(dead_code)]

use std::sync::OnceLock;

use coownership::pg::server::TempServer;

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
