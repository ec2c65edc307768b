//! `migrate` and `verify` as an operator meets them: every failure explained,
//! exit statuses that never lie, hostile schemas, concurrent sessions.

use crate::common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{cfg, cli, documents, fails, hand_made, url};
use coownership::Rules;
use coownership_postgres::{migrate, verify, DbError, MigrateError, MigrateOptions};

#[test]
fn database_errors_say_the_step_and_what_postgresql_said() {
    let Some(mut db) = common::database("op_errors") else {
        return;
    };
    hand_made(&mut db);
    let url = url("op_errors");
    // A database that does not exist is told apart from other failures.
    let missing = common::url("op_errors").replace("dbname=op_errors", "dbname=op_nope");
    fails(
        &["migrate", "--database-url", &missing],
        "cannot connect to the database: 3D000 database \"op_nope\" does not exist",
    );
    // A trigger refusing the write: its SQLSTATE, message and hint, and the step.
    db.batch_execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'products are frozen' USING HINT = 'ask the DBA'; END $$;
         CREATE TRIGGER frozen_products BEFORE UPDATE ON client_products FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .unwrap();
    fails(
        &["migrate", "--database-url", &url],
        "database error while writing the documents to client_products: P0001 products are frozen (hint: ask the DBA)",
    );
    assert!(!common::has_details_column(&mut db), "nothing was written");
    db.batch_execute("DROP TRIGGER frozen_products ON client_products")
        .unwrap();
    // A read-only database.
    db.batch_execute("ALTER DATABASE op_errors SET default_transaction_read_only = on")
        .unwrap();
    fails(&["migrate", "--database-url", &url], "25006");
    db.batch_execute("ALTER DATABASE op_errors RESET default_transaction_read_only")
        .unwrap();
    // A statement timeout, with a slow trigger.
    db.batch_execute(
        "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM pg_sleep(0.1); RETURN NEW; END $$;
         CREATE TRIGGER slow_products BEFORE UPDATE ON client_products FOR EACH ROW EXECUTE FUNCTION slow();
         ALTER DATABASE op_errors SET statement_timeout = '200ms';",
    )
    .unwrap();
    fails(
        &["migrate", "--database-url", &url],
        "database error while writing the documents to client_products: 57014 canceling statement due to statement timeout",
    );
    db.batch_execute("ALTER DATABASE op_errors RESET statement_timeout")
        .unwrap();
    assert!(!common::has_details_column(&mut db));
    // An error the server raises half-way through a stream it sends (a
    // links view that fails on one row): the step and the SQLSTATE, not an
    // I/O error; migrate and verify alike.
    db.batch_execute(
        "CREATE VIEW failing_links AS SELECT product_id,
             CASE WHEN product_id = 3 THEN product_owner_id / 0 ELSE product_owner_id END AS product_owner_id,
             created_at FROM product_owner_products",
    )
    .unwrap();
    fails(
        &[
            "migrate",
            "--database-url",
            &url,
            "--links-table",
            "failing_links",
        ],
        "database error while reading client_products and failing_links: 22012 division by zero",
    );
    assert!(!common::has_details_column(&mut db));
    common::migrate_default("op_errors");
    fails(
        &[
            "verify",
            "--database-url",
            &url,
            "--links-table",
            "failing_links",
        ],
        "database error while reading client_products and failing_links: 22012 division by zero",
    );
    db.batch_execute(
        "ALTER TABLE client_products DROP COLUMN ownership_details; DROP VIEW failing_links",
    )
    .unwrap();
    // The library says the same.
    let e = migrate(
        &cfg("op_errors"),
        &MigrateOptions {
            tables: coownership_postgres::Tables {
                products: "client_products".into(),
                links: "nope".into(),
            },
            ..MigrateOptions::default()
        },
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(
        matches!(e, MigrateError::Db(DbError::MissingTable(_))),
        "{e}"
    );
}

#[test]
fn a_lock_that_is_not_released_is_named_and_nothing_is_written() {
    let Some(mut db) = common::database("op_lock") else {
        return;
    };
    hand_made(&mut db);
    // An application session sits in a transaction that wrote a link.
    let mut app = common::server().unwrap().connect("op_lock").unwrap();
    app.batch_execute(
        "SET application_name = 'portal-api'; BEGIN; \
         UPDATE product_owner_products SET created_at = created_at WHERE product_id = 2",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = cli(&[
        "migrate",
        "--database-url",
        &url("op_lock"),
        "--lock-timeout",
        "1",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "could not lock product_owner_products within 1 s, nothing was written; held by pid"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("portal-api, RowExclusiveLock, idle in transaction"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!common::has_details_column(&mut db));
    app.batch_execute("ROLLBACK").unwrap();
}

/// The application writes links, then products, in one transaction; the
/// migration starts in between. Taking both locks or neither, the tool
/// never deadlocks with it: both succeed.
#[test]
fn no_deadlock_with_an_application_that_locks_the_other_way_round() {
    let Some(mut db) = common::database("op_deadlock") else {
        return;
    };
    hand_made(&mut db);
    let mut app = common::server().unwrap().connect("op_deadlock").unwrap();
    app.batch_execute(
        "BEGIN; UPDATE product_owner_products SET created_at = created_at WHERE product_id = 2",
    )
    .unwrap();
    let migration = std::thread::spawn(|| {
        migrate(
            &cfg("op_deadlock"),
            &MigrateOptions::default(),
            &mut |_, _| {},
        )
    });
    std::thread::sleep(Duration::from_millis(500));
    // With the old order (products, then links, waiting) this UPDATE would
    // wait for the migration, which waits for us: a deadlock.
    app.batch_execute("UPDATE client_products SET product_name = 'renamed' WHERE id = 2; COMMIT")
        .unwrap();
    let report = migration.join().unwrap().unwrap();
    assert_eq!(report.products, 6);
    assert!(
        report.phases[0].0 == coownership_postgres::Phase::WaitForLocks
            && report.phases[0].1 >= Duration::from_millis(400)
    );
    assert_eq!(
        report.to_json()["phases"]["wait for locks"]
            .as_f64()
            .map(|s| s >= 0.4),
        Some(true)
    );
    let v = verify(&cfg("op_deadlock"), &MigrateOptions::default()).unwrap();
    assert!(v.is_ok(), "{}", v.summary());
    drop(db);
}

#[test]
fn exit_statuses_after_a_commit_are_honest() {
    let Some(mut db) = common::database("op_exit") else {
        return;
    };
    hand_made(&mut db);
    let url = url("op_exit");
    let dir = std::env::temp_dir().join(format!("coownership-op-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // A report that cannot be written is found out before anything changes.
    fails(
        &[
            "migrate",
            "--database-url",
            &url,
            "--report",
            "/nonexistent/dir/r.json",
        ],
        "cannot write the report /nonexistent/dir/r.json",
    );
    assert!(!common::has_details_column(&mut db));
    // A failed run still writes its report.
    let report = dir.join("r.json");
    fails(
        &[
            "migrate",
            "--database-url",
            &url,
            "--report",
            report.to_str().unwrap(),
            "--links-table",
            "nope",
        ],
        "table nope does not exist",
    );
    // A failed run's report says so, and that nothing changed.
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(written["exit_status"], 2);
    assert_eq!(written["database_changed"], false);
    assert!(
        written["error"]
            .as_str()
            .unwrap()
            .contains("table nope does not exist"),
        "{written}"
    );
    std::fs::remove_file(&report).unwrap();

    // Standard output closed (`| true`): committed, the report written, exit 3.
    let mut child = Command::new(env!("CARGO_BIN_EXE_coownership"))
        .args([
            "migrate",
            "--database-url",
            &url,
            "--report",
            report.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("the changes were committed, but the summary (standard output"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(common::has_details_column(&mut db));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["products"], 6);

    // Standard output on a full disk: the same.
    db.batch_execute("ALTER TABLE client_products DROP COLUMN ownership_details")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_coownership"))
        .args(["migrate", "--database-url", &url])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(common::has_details_column(&mut db));
    // A dry run whose output fails changed nothing: exit 2.
    let out = Command::new(env!("CARGO_BIN_EXE_coownership"))
        .args(["migrate", "--database-url", &url, "--dry-run"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // No subcommand panics on a closed standard output.
    let doc = r#"{"association_type":"tenants_in_common","1":50,"2":50}"#;
    for (args, lines) in [
        (&["split", "10000"][..], 0),
        (&["sql"], 0),
        (&["apportion", "--amount", "1000.00"], 1),
        (&["validate", "-"], 20_000),
        (&["verify", "--database-url", &url], 0),
    ] {
        // A pipe whose reading end is closed before the tool starts: its
        // first write fails, however little it prints (dropping the reading
        // end after spawning would race with output that fits the pipe).
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut child = Command::new(env!("CARGO_BIN_EXE_coownership"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let _ = std::io::Write::write_all(&mut stdin, format!("{doc}\n").repeat(lines).as_bytes());
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn column_types_are_checked_before_anything_is_done() {
    let Some(mut db) = common::database("op_types") else {
        return;
    };
    hand_made(&mut db);
    let url = url("op_types");
    // Text ids sort as text: owners would be lost in the merge.
    db.batch_execute("ALTER TABLE product_owner_products ALTER COLUMN product_id TYPE text")
        .unwrap();
    fails(
        &["migrate", "--database-url", &url],
        "product_owner_products.product_id is text, expected an integer type (smallint, integer or bigint)",
    );
    fails(&["verify", "--database-url", &url], "run migrate first");
    db.batch_execute("ALTER TABLE product_owner_products ALTER COLUMN product_id TYPE bigint USING product_id::bigint")
        .unwrap();
    db.batch_execute("ALTER TABLE product_owner_products RENAME COLUMN created_at TO linked_at")
        .unwrap();
    fails(
        &["migrate", "--database-url", &url],
        "product_owner_products has no column created_at",
    );
    db.batch_execute("ALTER TABLE product_owner_products RENAME COLUMN linked_at TO created_at")
        .unwrap();
    // An existing ownership_details of the wrong type is refused up front.
    db.batch_execute("ALTER TABLE client_products ADD COLUMN ownership_details json")
        .unwrap();
    fails(
        &["migrate", "--database-url", &url],
        "client_products.ownership_details is json, expected jsonb",
    );
    let nulls: i64 = db
        .query_one(
            "SELECT count(*) FROM client_products WHERE ownership_details IS NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(nulls, 6, "nothing was written");
}

#[test]
fn a_user_table_named_like_the_tools_temporary_table_is_the_one_written() {
    let Some(mut db) = common::database("op_shadow") else {
        return;
    };
    hand_made(&mut db);
    db.batch_execute("ALTER TABLE client_products RENAME TO ownership_migration")
        .unwrap();
    let url = url("op_shadow");
    common::succeeds(&[
        "migrate",
        "--database-url",
        &url,
        "--products-table",
        "ownership_migration",
        "--quiet",
    ]);
    let written: i64 = db
        .query_one(
            "SELECT count(*) FROM ownership_migration WHERE ownership_details IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(written, 5);
    common::succeeds(&[
        "verify",
        "--database-url",
        &url,
        "--products-table",
        "ownership_migration",
    ]);
}

#[test]
fn unplannable_products_null_links_and_repeated_ids_are_all_reported() {
    let Some(mut db) = common::database("op_anomalies") else {
        return;
    };
    db.batch_execute(
        "CREATE TABLE client_products (id bigint, product_name text);
         CREATE TABLE product_owner_products (product_id bigint, product_owner_id bigint, created_at timestamptz DEFAULT now());
         INSERT INTO client_products VALUES (0, 'zero'), (1, 'one'), (2, 'two'), (3, 'three');
         INSERT INTO product_owner_products (product_id, product_owner_id)
           SELECT 1, g FROM generate_series(1, 10001) g
           UNION ALL SELECT 2, g FROM generate_series(1, 10002) g
           UNION ALL VALUES (3, 5), (NULL, 7), (NULL, 8);",
    )
    .unwrap();
    // Every product that cannot be planned, not only the first.
    let e = migrate(
        &cfg("op_anomalies"),
        &MigrateOptions::default(),
        &mut |_, _| {},
    )
    .unwrap_err();
    match &e {
        MigrateError::Unplannable { count, first } => {
            assert_eq!(*count, 2);
            assert_eq!(first.iter().map(|(p, _)| *p).collect::<Vec<_>>(), [1, 2]);
        }
        other => panic!("{other}"),
    }
    assert!(
        e.to_string().contains("2 product(s) cannot be planned"),
        "{e}"
    );
    assert!(!common::has_details_column(&mut db));
    db.batch_execute("DELETE FROM product_owner_products WHERE product_id IN (1, 2)")
        .unwrap();
    // NULL product ids are NULL links, not "product 0" (which exists here).
    let report = migrate(
        &cfg("op_anomalies"),
        &MigrateOptions::default(),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(report.orphan_links.samples, [(None, 2)]);
    assert_eq!(
        report.to_json()["anomalies"]["orphan_links"]["samples"][0]["product_id"],
        serde_json::Value::Null
    );
    assert!(
        report
            .summary()
            .contains("2 link row(s) with a NULL product_id"),
        "{}",
        report.summary()
    );
    // A products table without a unique key that repeats ids is refused.
    db.batch_execute(
        "INSERT INTO client_products VALUES (3, 'three again'), (3, 'and again'), (1, 'one again')",
    )
    .unwrap();
    let before = documents(&mut db);
    let e = migrate(
        &cfg("op_anomalies"),
        &MigrateOptions::default(),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("2 product id(s) appear more than once in client_products, nothing was written; first: [1, 3]"),
        "{e}"
    );
    assert_eq!(documents(&mut db), before);
    let e = verify(&cfg("op_anomalies"), &MigrateOptions::default()).unwrap_err();
    assert!(
        matches!(e, DbError::DuplicateProducts { count: 2, .. }),
        "{e}"
    );
}

#[test]
fn verify_with_the_strict_rules_catches_what_reconciles_only_by_value() {
    let Some(mut db) = common::database("op_verify_strict") else {
        return;
    };
    hand_made(&mut db);
    common::migrate_default("op_verify_strict");
    db.batch_execute(
        r#"UPDATE client_products SET ownership_details = '{"association_type": "individual", "020": 100.00}' WHERE id = 2;
           UPDATE client_products SET ownership_details = ownership_details || '{"joint_owners": [30, 31]}' WHERE id = 3;"#,
    )
    .unwrap();
    let lenient = verify(&cfg("op_verify_strict"), &MigrateOptions::default()).unwrap();
    assert!(lenient.is_ok(), "{}", lenient.summary());
    let strict = verify(
        &cfg("op_verify_strict"),
        &MigrateOptions {
            verify_rules: Rules::Strict,
            ..MigrateOptions::default()
        },
    )
    .unwrap();
    assert!(!strict.is_ok());
    assert_eq!(strict.reconciled, 4);
    let out = cli(&[
        "verify",
        "--database-url",
        &url("op_verify_strict"),
        "--rules",
        "strict",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("fails_strict"), "{stdout}");
}

#[test]
fn a_dry_run_says_the_column_would_be_added() {
    let Some(mut db) = common::database("op_dry") else {
        return;
    };
    hand_made(&mut db);
    let out = cli(&["migrate", "--database-url", &url("op_dry"), "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout.contains("(the ownership_details column would be added)"),
        "{stdout}"
    );
    assert!(stdout.contains("wait for locks"), "{stdout}");
    assert!(!common::has_details_column(&mut db));
}

/// A killed tool's statement is cancelled at once on PostgreSQL 14+
/// (`client_connection_check_interval`), instead of running on, holding the
/// locks, until it next writes to the dead socket.
#[test]
fn a_killed_tool_stops_its_statement_at_once() {
    let Some(mut db) = common::database("op_killed") else {
        return;
    };
    hand_made(&mut db);
    // Every written row takes 0.2 s: the UPDATE would run for 24 s.
    db.batch_execute(
        "INSERT INTO client_products (id, product_name) SELECT i, 'p' || i FROM generate_series(7, 120) i;
         INSERT INTO product_owner_products (product_id, product_owner_id) SELECT i, i FROM generate_series(7, 120) i;
         CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$;
         CREATE TRIGGER slow_products BEFORE UPDATE ON client_products FOR EACH ROW EXECUTE FUNCTION slow();",
    )
    .unwrap();
    let major = common::server_major(&mut db);
    let mut child = Command::new(env!("CARGO_BIN_EXE_coownership"))
        .args([
            "migrate",
            "--quiet",
            "--no-backup",
            "--database-url",
            &url("op_killed"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let writing = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'coownership' \
                   AND state = 'active' AND query LIKE 'UPDATE%'";
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while db.query_one(writing, &[]).unwrap().get::<_, i64>(0) == 0 {
        assert!(std::time::Instant::now() < deadline, "never saw the UPDATE");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = std::time::Instant::now();
    let sessions = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'coownership'";
    while db.query_one(sessions, &[]).unwrap().get::<_, i64>(0) > 0 {
        assert!(
            killed.elapsed() < Duration::from_secs(90),
            "the session never ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ended = killed.elapsed();
    eprintln!("PostgreSQL {major}: the killed tool's session ended {ended:?} after the kill");
    if major >= 14 {
        assert!(
            ended < Duration::from_secs(10),
            "PostgreSQL {major}: {ended:?}"
        );
    } else {
        // PostgreSQL 13 has no client_connection_check_interval: the
        // statement runs to its end (about 24 s here), then the
        // session notices. Nothing is written either way.
        assert!(
            ended >= Duration::from_secs(10),
            "PostgreSQL 13 ended early: {ended:?}"
        );
    }
    // Nothing was written: the column a first run adds before its migration
    // is there, empty and marked as such, and the next run fills it.
    assert!(
        documents(&mut db).iter().all(|(_, d)| d.is_none()),
        "nothing was written"
    );
    let s = coownership_postgres::status(&cfg("op_killed"), &MigrateOptions::default()).unwrap();
    assert!(s.column_from_interrupted_run, "{}", s.summary());
    assert!(s
        .summary()
        .contains("added by a migration that did not commit"));
    db.batch_execute("DROP TRIGGER slow_products ON client_products")
        .unwrap();
    let report = migrate(
        &cfg("op_killed"),
        &MigrateOptions::default(),
        &mut |_, _| {},
    )
    .unwrap();
    assert!(
        report.column_added,
        "the leftover column counts as this run's"
    );
    let s = coownership_postgres::status(&cfg("op_killed"), &MigrateOptions::default()).unwrap();
    assert!(
        !s.column_from_interrupted_run && s.valid_strict > 0,
        "{}",
        s.summary()
    );
}
