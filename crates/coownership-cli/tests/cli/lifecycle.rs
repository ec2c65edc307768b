//! The database lifecycle after the migration, on a throwaway PostgreSQL:
//! the no-owner state, `constrain`, the backup and `rollback`.

use crate::common;

use common::{cfg, cli, documents, hand_made, url};
use coownership::split::SplitPolicy;
use coownership::{Ownership, Rules};
use coownership_postgres::demo::{checksum, load, Synthetic};
use coownership_postgres::plan::NO_PREVIOUS_OWNERSHIP;
use coownership_postgres::{
    constrain, migrate, rollback, verify, ConstrainOptions, DbError, MigrateError, MigrateOptions,
    RollbackError, RollbackOptions,
};
use postgres::Client;

fn seed_policy() -> MigrateOptions {
    MigrateOptions {
        policy: SplitPolicy::Seed,
        ..MigrateOptions::default()
    }
}

fn strict() -> ConstrainOptions {
    ConstrainOptions::default()
}

fn seed_rules() -> ConstrainOptions {
    ConstrainOptions {
        rules: Rules::Seed,
        ..ConstrainOptions::default()
    }
}

/// The CHECK constraints on `client_products`, by name.
fn check_constraints(db: &mut Client) -> Vec<String> {
    db.query(
        "SELECT conname::text FROM pg_constraint \
         WHERE conrelid = 'client_products'::regclass AND contype = 'c' ORDER BY conname",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

fn try_write(db: &mut Client, id: i64, json: &str) -> Result<u64, postgres::Error> {
    db.execute(
        "UPDATE client_products SET ownership_details = $1::text::jsonb WHERE id = $2",
        &[&json, &id],
    )
}

fn sqlstate(e: &postgres::Error) -> &str {
    e.as_db_error().map_or("", |d| d.code().code())
}

fn installed(db: &mut Client) -> bool {
    db.query_one(
        "SELECT to_regprocedure('ownership_is_valid_strict(jsonb)') IS NOT NULL",
        &[],
    )
    .unwrap()
    .get(0)
}

#[test]
fn after_the_default_migration_the_strict_constraint_takes() {
    let Some(mut db) = common::database("life_default") else {
        return;
    };
    hand_made(&mut db);
    common::migrate_default("life_default");
    // No owner on record: NULL, which the typed API reads as None.
    let none: Option<Ownership> = db
        .query_one(
            "SELECT ownership_details FROM client_products WHERE id = 1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(none, None);
    let v = verify(&cfg("life_default"), &MigrateOptions::default()).unwrap();
    assert!(v.is_ok(), "{}", v.summary());

    let report = constrain(&cfg("life_default"), &strict()).unwrap();
    assert!(report.constrained, "{}", report.summary());
    assert_eq!((report.products, report.violators.count), (6, 0));
    assert_eq!(report.sql_version_before, None);
    assert_eq!(report.sql_version, coownership::sql::VERSION);
    assert_eq!(check_constraints(&mut db), ["ownership_details_valid"]);
    let validated: bool = db
        .query_one(
            "SELECT convalidated FROM pg_constraint WHERE conname = 'ownership_details_valid'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(validated);
    let version: i32 = db
        .query_one("SELECT ownership_sql_version()", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, coownership::sql::VERSION);

    // The constraint at work: a bad total and the seed's no-owner document
    // are refused, a good document and NULL pass.
    let e = try_write(
        &mut db,
        1,
        r#"{"association_type":"tenants_in_common","1":50.00,"2":60.00}"#,
    )
    .unwrap_err();
    assert_eq!(sqlstate(&e), "23514", "{e:?}");
    let e = try_write(&mut db, 1, NO_PREVIOUS_OWNERSHIP).unwrap_err();
    assert_eq!(sqlstate(&e), "23514", "{e:?}");
    try_write(
        &mut db,
        1,
        r#"{"association_type":"individual","7":100.00}"#,
    )
    .unwrap();
    db.execute(
        "UPDATE client_products SET ownership_details = NULL WHERE id = 1",
        &[],
    )
    .unwrap();

    // A migration whose documents the constraint refuses (the seed's no-owner
    // document) fails with what PostgreSQL said, and writes nothing.
    let before = documents(&mut db);
    let out = cli(&[
        "migrate",
        "--database-url",
        &url("life_default"),
        "--policy",
        "seed",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "23514 new row for relation \"client_products\" violates check constraint \"ownership_details_valid\""
        ),
        "{stderr}"
    );
    assert_eq!(documents(&mut db), before);

    // Running it again replaces the constraint with itself and installs the
    // same revision again.
    let again = constrain(&cfg("life_default"), &strict()).unwrap();
    assert!(again.constrained);
    assert_eq!(again.sql_version_before, Some(coownership::sql::VERSION));
    assert_eq!(again.replaced, ["ownership_details_valid"]);
    assert_eq!(check_constraints(&mut db), ["ownership_details_valid"]);
}

#[test]
fn the_seed_policy_keeps_the_seeds_document_which_only_the_seed_rules_take() {
    let Some(mut db) = common::database("life_seed") else {
        return;
    };
    hand_made(&mut db);
    migrate(&cfg("life_seed"), &seed_policy(), &mut |_, _| {}).unwrap();
    assert_eq!(
        documents(&mut db)[0],
        (
            1,
            Some(r#"{"note": "no_previous_ownership", "association_type": "individual"}"#.into())
        )
    );
    let v = verify(&cfg("life_seed"), &seed_policy()).unwrap();
    assert!(v.is_ok(), "{}", v.summary());

    // Strict refuses: the violator is listed with its code, nothing changes
    // (not even the functions are installed), exit 1.
    let report = constrain(&cfg("life_seed"), &strict()).unwrap();
    assert!(!report.constrained);
    assert_eq!(report.violators.count, 1);
    assert_eq!(
        report.violators.samples,
        [(1, vec!["individual_owner_count"])]
    );
    assert!(check_constraints(&mut db).is_empty());
    assert!(!installed(&mut db));
    let out = cli(&["constrain", "--database-url", &url("life_seed")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("product 1: individual_owner_count"),
        "{stdout}"
    );

    // The seed's rules take it.
    common::succeeds(&[
        "constrain",
        "--database-url",
        &url("life_seed"),
        "--rules",
        "seed",
    ]);
    assert_eq!(check_constraints(&mut db), ["ownership_details_valid"]);
    let again = constrain(&cfg("life_seed"), &seed_rules()).unwrap();
    assert!(again.constrained);
    assert_eq!(again.rules, "seed");
    assert_eq!(again.replaced, ["ownership_details_valid"]);
    let e = try_write(
        &mut db,
        2,
        r#"{"association_type":"tenants_in_common","1":50,"2":60}"#,
    )
    .unwrap_err();
    assert_eq!(sqlstate(&e), "23514");
    // A share that cannot be cast: the seed's CHECK raised an error, ours
    // says FALSE; either way the row is refused.
    let e = try_write(
        &mut db,
        2,
        r#"{"association_type":"tenants_in_common","1":"x","2":100}"#,
    )
    .unwrap_err();
    assert_eq!(sqlstate(&e), "23514");
}

#[test]
fn constrain_replaces_earlier_versions_and_with_replace_legacy_the_seeds_constraints() {
    let Some(mut db) = common::database("life_replace") else {
        return;
    };
    hand_made(&mut db);
    common::migrate_default("life_replace");
    // An install from before the functions had a version, the constraint
    // the README once said to add by hand, and the seed's own constraint.
    db.batch_execute(
        "CREATE FUNCTION ownership_strict_violations(d jsonb) RETURNS text[] LANGUAGE sql AS $$ SELECT '{}'::text[] $$;
         CREATE FUNCTION ownership_is_valid_strict(d jsonb) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
         ALTER TABLE client_products ADD CONSTRAINT ownership_details_strict CHECK (ownership_is_valid_strict(ownership_details));",
    )
    .unwrap();
    db.batch_execute(coownership_testkit::fixtures::SEED_CHECK_SQL)
        .unwrap();
    db.batch_execute(
        "ALTER TABLE client_products ADD CONSTRAINT valid_product_ownership_details_precise CHECK (
             jsonb_typeof(ownership_details) = 'object' AND ownership_details ? 'association_type'
             AND validate_ownership_percentages_precise(ownership_details))",
    )
    .unwrap();

    // A dry run changes nothing, and says what it would do.
    let dry = constrain(
        &cfg("life_replace"),
        &ConstrainOptions {
            dry_run: true,
            replace_legacy: true,
            ..strict()
        },
    )
    .unwrap();
    assert!(!dry.constrained && dry.dry_run);
    assert_eq!(dry.sql_version_before, Some(1));
    assert_eq!(
        dry.replaced,
        [
            "ownership_details_strict",
            "valid_product_ownership_details_precise"
        ]
    );
    assert_eq!(
        check_constraints(&mut db),
        [
            "ownership_details_strict",
            "valid_product_ownership_details_precise"
        ]
    );

    // Without --replace-legacy, the seed's constraint stays (and is named).
    let kept = constrain(&cfg("life_replace"), &strict()).unwrap();
    assert!(kept.constrained);
    assert_eq!(kept.sql_version_before, Some(1));
    assert_eq!(kept.replaced, ["ownership_details_strict"]);
    assert_eq!(
        kept.legacy_kept,
        ["valid_product_ownership_details_precise"]
    );
    assert_eq!(
        check_constraints(&mut db),
        [
            "ownership_details_valid",
            "valid_product_ownership_details_precise"
        ]
    );
    // The old install was upgraded in place: the real rules now apply.
    let codes: Vec<String> = db
        .query_one(
            "SELECT ownership_strict_violations('{\"association_type\":\"individual\"}')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(codes, ["individual_owner_count"]);

    // With it, the table ends with exactly one rule: ours.
    common::succeeds(&[
        "constrain",
        "--database-url",
        &url("life_replace"),
        "--replace-legacy",
    ]);
    assert_eq!(check_constraints(&mut db), ["ownership_details_valid"]);
}

#[test]
fn constrain_errors_exit_2_with_what_went_wrong() {
    let Some(mut db) = common::database("life_constrain_errors") else {
        return;
    };
    db.batch_execute("CREATE TABLE client_products (id bigint PRIMARY KEY)")
        .unwrap();
    let url = url("life_constrain_errors");
    common::fails(&["constrain", "--database-url", &url], "run migrate first");
    db.batch_execute("ALTER TABLE client_products ADD COLUMN ownership_details json")
        .unwrap();
    common::fails(
        &["constrain", "--database-url", &url],
        "client_products.ownership_details is json, expected jsonb",
    );
    common::fails(
        &[
            "constrain",
            "--database-url",
            &url,
            "--products-table",
            "nope",
        ],
        "table nope does not exist",
    );
    common::fails(
        &[
            "rollback",
            "--database-url",
            &url,
            "--backup",
            "client_products",
        ],
        "client_products is not a backup made by coownership migrate",
    );
    common::fails(
        &["rollback", "--database-url", &url, "--backup", "nope"],
        "table nope does not exist",
    );
}

/// `constrain --schema`: the functions go into that schema and the
/// constraint calls them there; a schema that does not exist, or a name that
/// would need quoting, is refused before anything changes.
#[test]
fn constrain_installs_into_the_schema_it_is_given() {
    let Some(mut db) = common::database("life_constrain_schema") else {
        return;
    };
    db.batch_execute(
        r#"CREATE TABLE client_products (id bigint PRIMARY KEY, ownership_details jsonb);
           INSERT INTO client_products VALUES (1, '{"association_type":"individual","7":100}')"#,
    )
    .unwrap();
    let url = url("life_constrain_schema");
    common::fails(
        &["constrain", "--database-url", &url, "--schema", "rules"],
        "schema rules does not exist",
    );
    common::fails(
        &[
            "constrain",
            "--database-url",
            &url,
            "--schema",
            "Rules; DROP TABLE x",
        ],
        "invalid schema name",
    );
    assert!(check_constraints(&mut db).is_empty());
    assert!(!installed(&mut db));
    db.batch_execute("CREATE SCHEMA rules").unwrap();
    let out = common::succeeds(&["constrain", "--database-url", &url, "--schema", "rules"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("shipped functions in rules"), "{text}");
    let def: String = db
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ownership_details_valid'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        def,
        "CHECK (rules.ownership_is_valid_strict(ownership_details))"
    );
    // Nothing went into public.
    assert!(!installed(&mut db));
    let version: i32 = db
        .query_one("SELECT rules.ownership_sql_version()", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, coownership::sql::VERSION);
    let err = try_write(&mut db, 1, r#"{"association_type":"individual","7":99}"#).unwrap_err();
    assert_eq!(sqlstate(&err), "23514", "{err}");
    // status finds the functions where the constraint calls them.
    let s = coownership_postgres::status(&cfg("life_constrain_schema"), &MigrateOptions::default())
        .unwrap();
    assert_eq!(
        (s.sql_schema.as_str(), s.sql_version),
        ("rules", Some(coownership::sql::VERSION))
    );
    assert!(
        s.summary().contains("shipped functions in rules: revision"),
        "{}",
        s.summary()
    );
    assert_eq!(s.links, None, "no link table here");
}

/// Migrate, then roll back, and check the products table is byte for byte
/// what it was (every column, `updated_at` included).
fn round_trip(db: &mut Client, name: &str, options: &MigrateOptions) {
    let before = checksum(db, "client_products").unwrap();
    let had_column = common::has_details_column(db);
    let report = migrate(&cfg(name), options, &mut |_, _| {}).unwrap();
    let backup = report.backup.clone().expect("a backup by default");
    assert!(backup.starts_with("public.ownership_backup_"), "{backup}");
    assert!(report.summary().contains(&backup), "{}", report.summary());
    assert_eq!(report.to_json()["backup"], backup.as_str());
    assert_ne!(checksum(db, "client_products").unwrap(), before);
    let rows: i64 = db
        .query_one(&format!("SELECT count(*) FROM {backup}"), &[])
        .unwrap()
        .get(0);
    assert_eq!(
        rows as u64, report.updated,
        "one backup row per changed row"
    );

    let undone = rollback(&cfg(name), &RollbackOptions::new(&backup)).unwrap();
    assert!(!undone.refused, "{}", undone.summary());
    assert_eq!(undone.restored, report.updated);
    assert_eq!(undone.column_dropped, !had_column);
    assert_eq!(common::has_details_column(db), had_column);
    assert_eq!(
        checksum(db, "client_products").unwrap(),
        before,
        "{name}: the products table after rollback"
    );
    let gone: bool = db
        .query_one("SELECT to_regclass($1::text) IS NULL", &[&backup])
        .unwrap()
        .get(0);
    assert!(gone, "the backup table is dropped after the rollback");
}

#[test]
fn rollback_restores_byte_identical_state_on_every_shape() {
    for (name, anomalies, policy) in [
        ("life_rb_balanced", true, MigrateOptions::default()),
        ("life_rb_seed", true, seed_policy()),
        ("life_rb_clean", false, MigrateOptions::default()),
    ] {
        let Some(mut db) = common::database(name) else {
            return;
        };
        load(
            &mut db,
            Synthetic {
                products: 20_000,
                anomalies,
            },
        )
        .unwrap();
        round_trip(&mut db, name, &policy);
    }

    // A column that existed: documents the seed wrote, replaced by the
    // balanced policy (NULL for no owner, rebalanced shares), then restored.
    let Some(mut db) = common::database("life_rb_existing") else {
        return;
    };
    load(
        &mut db,
        Synthetic {
            products: 20_000,
            anomalies: true,
        },
    )
    .unwrap();
    migrate(
        &cfg("life_rb_existing"),
        &MigrateOptions {
            backup: false,
            ..seed_policy()
        },
        &mut |_, _| {},
    )
    .unwrap();
    round_trip(&mut db, "life_rb_existing", &MigrateOptions::default());

    // A table without updated_at, and the hand-made shapes.
    let Some(mut db) = common::database("life_rb_hand") else {
        return;
    };
    hand_made(&mut db);
    db.batch_execute("ALTER TABLE client_products DROP COLUMN updated_at")
        .unwrap();
    round_trip(&mut db, "life_rb_hand", &MigrateOptions::default());
}

#[test]
fn rollback_refuses_when_documents_changed_since_unless_forced() {
    let Some(mut db) = common::database("life_rb_changed") else {
        return;
    };
    hand_made(&mut db);
    let before = checksum(&mut db, "client_products").unwrap();
    let report = common::migrate_default("life_rb_changed");
    let backup = report.backup.unwrap();
    // The application writes after the migration: a changed document, and a
    // document for the product that had none.
    try_write(
        &mut db,
        3,
        r#"{"association_type":"individual","30":100.00}"#,
    )
    .unwrap();
    try_write(
        &mut db,
        1,
        r#"{"association_type":"individual","10":100.00}"#,
    )
    .unwrap();
    let after_writes = checksum(&mut db, "client_products").unwrap();

    let refused = rollback(&cfg("life_rb_changed"), &RollbackOptions::new(&backup)).unwrap();
    assert!(refused.refused);
    assert_eq!(refused.changed_since.count, 2);
    assert_eq!(refused.changed_since.samples, [1, 3]);
    assert_eq!(checksum(&mut db, "client_products").unwrap(), after_writes);
    let url = url("life_rb_changed");
    let out = cli(&["rollback", "--database-url", &url, "--backup", &backup]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("2 product(s) changed after the migration, e.g. [1, 3]"),
        "{stdout}"
    );
    assert!(stdout.contains("--force"), "{stdout}");

    // A dry run with --force says what it would do and does nothing.
    let out = cli(&[
        "rollback",
        "--database-url",
        &url,
        "--backup",
        &backup,
        "--force",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(checksum(&mut db, "client_products").unwrap(), after_writes);

    common::succeeds(&[
        "rollback",
        "--database-url",
        &url,
        "--backup",
        &backup,
        "--force",
    ]);
    assert_eq!(checksum(&mut db, "client_products").unwrap(), before);
    // The backup is gone: a second rollback is an error, not a no-op.
    let e = rollback(&cfg("life_rb_changed"), &RollbackOptions::new(&backup)).unwrap_err();
    assert!(
        matches!(e, RollbackError::Db(DbError::MissingTable(_))),
        "{e}"
    );
}

#[test]
fn a_dry_run_and_no_backup_keep_no_backup() {
    let Some(mut db) = common::database("life_nobackup") else {
        return;
    };
    hand_made(&mut db);
    let count_backups = |db: &mut Client| -> i64 {
        db.query_one(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'ownership_backup_%'",
            &[],
        )
        .unwrap()
        .get(0)
    };
    let dry = migrate(
        &cfg("life_nobackup"),
        &MigrateOptions {
            dry_run: true,
            ..MigrateOptions::default()
        },
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(dry.backup, None);
    let out = cli(&[
        "migrate",
        "--database-url",
        &url("life_nobackup"),
        "--no-backup",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("backup"));
    assert_eq!(count_backups(&mut db), 0);
    // Two migrations in the same second get two backups.
    let a = migrate(&cfg("life_nobackup"), &seed_policy(), &mut |_, _| {}).unwrap();
    let b = common::migrate_default("life_nobackup");
    assert_ne!(a.backup, b.backup);
    assert_eq!(count_backups(&mut db), 2);
}

/// Rows the application edits after the migration (another column, and so
/// `updated_at`) get their document back and keep their newer `updated_at`;
/// the others get everything back. The report counts the edited ones.
#[test]
fn rollback_keeps_the_applications_later_edits() {
    let Some(mut db) = common::database("life_rb_later_edits") else {
        return;
    };
    hand_made(&mut db);
    let before: Vec<(i64, String, Option<String>)> = db
        .query(
            "SELECT id, updated_at::text, NULL::text FROM client_products ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    // An existing column, so that the documents are restored (not dropped).
    db.batch_execute("ALTER TABLE client_products ADD COLUMN ownership_details jsonb")
        .unwrap();
    let report = common::migrate_default("life_rb_later_edits");
    let backup = report.backup.unwrap();
    // The application renames products 3 and 4 after the migration.
    db.batch_execute(
        "UPDATE client_products SET product_name = 'renamed', updated_at = '2031-01-01 00:00:00+00' \
         WHERE id IN (3, 4)",
    )
    .unwrap();
    let undone = rollback(&cfg("life_rb_later_edits"), &RollbackOptions::new(&backup)).unwrap();
    assert!(!undone.refused, "{}", undone.summary());
    assert_eq!(undone.edited_since, 2, "{}", undone.summary());
    assert!(
        undone.summary().contains("2 of them edited since"),
        "{}",
        undone.summary()
    );
    assert_eq!(undone.to_json()["edited_since"], 2);
    let after: Vec<(i64, String, Option<String>)> = db
        .query(
            "SELECT id, updated_at::text, ownership_details::text FROM client_products ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    for ((id, was, _), (_, now, doc)) in before.iter().zip(&after) {
        assert_eq!(doc, &None, "product {id}: its document is restored (none)");
        if [3, 4].contains(id) {
            assert_eq!(
                now, "2031-01-01 00:00:00+00",
                "product {id} keeps its later edit"
            );
        } else {
            assert_eq!(now, was, "product {id} gets its updated_at back");
        }
    }
    let names: Vec<String> = db
        .query(
            "SELECT product_name FROM client_products WHERE id IN (3, 4)",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, ["renamed", "renamed"]);
}

/// An empty link table is refused, on a fresh database and over documents
/// already migrated (which it would all wipe); so is replacing a document
/// that names owners with a no-owner one. Each says why, writes nothing, and
/// goes through when told it is intended.
#[test]
fn migrate_refuses_to_remove_owners_unless_told() {
    let Some(mut db) = common::database("life_no_wipe") else {
        return;
    };
    hand_made(&mut db);
    let links: Vec<(i64, i64, String)> = db
        .query(
            "SELECT product_id, product_owner_id, created_at::text FROM product_owner_products ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    db.batch_execute("DELETE FROM product_owner_products")
        .unwrap();
    let url = url("life_no_wipe");

    // A fresh database with an empty link table.
    let e = migrate(
        &cfg("life_no_wipe"),
        &MigrateOptions::default(),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(
        matches!(&e, MigrateError::EmptyLinks(t) if t == "product_owner_products"),
        "{e}"
    );
    assert!(!common::has_details_column(&mut db), "nothing written");
    common::fails(
        &["migrate", "--database-url", &url, "--quiet"],
        "product_owner_products is empty: migrating it would leave every product without an owner",
    );

    // Migrate with the links, then empty them: a re-run would wipe every document.
    for (product, owner, at) in &links {
        db.execute(
            "INSERT INTO product_owner_products (product_id, product_owner_id, created_at) VALUES ($1, $2, $3::text::timestamptz)",
            &[product, owner, at],
        )
        .unwrap();
    }
    common::migrate_default("life_no_wipe");
    let migrated = documents(&mut db);
    assert!(migrated.iter().filter(|(_, d)| d.is_some()).count() >= 4);
    db.batch_execute("DELETE FROM product_owner_products")
        .unwrap();
    let e = migrate(
        &cfg("life_no_wipe"),
        &MigrateOptions::default(),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(matches!(e, MigrateError::EmptyLinks(_)), "{e}");
    assert_eq!(documents(&mut db), migrated, "nothing written");

    // Links for all but product 3: its document would lose its owners.
    for (product, owner, at) in links.iter().filter(|(p, _, _)| *p != 3) {
        db.execute(
            "INSERT INTO product_owner_products (product_id, product_owner_id, created_at) VALUES ($1, $2, $3::text::timestamptz)",
            &[product, owner, at],
        )
        .unwrap();
    }
    let e = migrate(
        &cfg("life_no_wipe"),
        &MigrateOptions::default(),
        &mut |_, _| {},
    )
    .unwrap_err();
    match &e {
        MigrateError::WouldRemoveOwners { count, first, .. } => {
            assert_eq!((*count, first.as_slice()), (1, &[3][..]), "{e}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(documents(&mut db), migrated, "nothing written");
    common::fails(
        &["migrate", "--database-url", &url, "--quiet"],
        "1 document(s) in client_products name owners but their products have no links left",
    );
    // Told it is intended: product 3 has no owner now.
    common::succeeds(&[
        "migrate",
        "--database-url",
        &url,
        "--quiet",
        "--allow-removing-owners",
    ]);
    let after = documents(&mut db);
    assert_eq!(after.iter().find(|(id, _)| *id == 3).unwrap().1, None);

    // And an empty link table, told: every product has no owner.
    db.batch_execute("DELETE FROM product_owner_products")
        .unwrap();
    common::succeeds(&[
        "migrate",
        "--database-url",
        &url,
        "--quiet",
        "--allow-empty-links",
        "--allow-removing-owners",
    ]);
    assert!(documents(&mut db).iter().all(|(_, d)| d.is_none()));
}

/// An application transaction that reads a product and then writes it,
/// while a rollback that drops the column runs: before, the rollback held
/// SHARE ROW EXCLUSIVE and then asked for ACCESS EXCLUSIVE, the
/// application's write waited for it and it for the application's read: a
/// deadlock (40P01). Now the rollback takes what it needs up front, without
/// queueing, and waits (retrying) for the application to finish.
#[test]
fn rollback_does_not_deadlock_with_an_application_that_reads_then_writes() {
    let Some(mut db) = common::database("life_rb_deadlock") else {
        return;
    };
    hand_made(&mut db);
    let report = common::migrate_default("life_rb_deadlock");
    let backup = report.backup.unwrap();
    let mut app = common::server()
        .unwrap()
        .connect("life_rb_deadlock")
        .unwrap();
    app.batch_execute("BEGIN; SELECT product_name FROM client_products WHERE id = 2")
        .unwrap();
    let started = std::time::Instant::now();
    let rolling_back = std::thread::spawn(move || {
        rollback(&cfg("life_rb_deadlock"), &RollbackOptions::new(backup))
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    app.batch_execute("UPDATE client_products SET product_name = 'renamed' WHERE id = 2; COMMIT")
        .unwrap_or_else(|e| panic!("the application's write failed: {e}"));
    let undone = rolling_back
        .join()
        .unwrap()
        .unwrap_or_else(|e| panic!("the rollback failed: {e}"));
    assert!(
        !undone.refused && undone.column_dropped,
        "{}",
        undone.summary()
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    assert!(!common::has_details_column(&mut db));
    let name: String = db
        .query_one("SELECT product_name FROM client_products WHERE id = 2", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, "renamed");

    // And a lock it cannot get within --lock-timeout: exit 2, naming the holder.
    let report = common::migrate_default("life_rb_deadlock");
    app.batch_execute("BEGIN; SELECT 1 FROM client_products LIMIT 1")
        .unwrap();
    common::fails(
        &[
            "rollback",
            "--database-url",
            &url("life_rb_deadlock"),
            "--backup",
            &report.backup.unwrap(),
            "--lock-timeout",
            "1500ms",
        ],
        "could not lock public.client_products within 1500 ms",
    );
    // Durations take seconds or a unit; anything else is a usage error.
    for bad in ["2h", "1.5s", "ms", "1 s"] {
        common::fails(
            &[
                "rollback",
                "--database-url",
                &url("life_rb_deadlock"),
                "--backup",
                "x",
                "--lock-timeout",
                bad,
            ],
            "invalid duration",
        );
    }
    app.batch_execute("COMMIT").unwrap();
    assert!(common::has_details_column(&mut db), "nothing changed");
}

/// A re-run that changes nothing keeps no (empty) backup; one that changes
/// something keeps its backup, of exactly the rows it changed.
#[test]
fn a_re_run_that_changes_nothing_keeps_no_backup() {
    let Some(mut db) = common::database("life_no_empty_backup") else {
        return;
    };
    hand_made(&mut db);
    let backups = |db: &mut Client| -> i64 {
        db.query_one(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'ownership_backup_%' AND relkind = 'r'",
            &[],
        )
        .unwrap()
        .get(0)
    };
    let first = common::migrate_default("life_no_empty_backup");
    assert!(first.backup.is_some());
    assert_eq!(backups(&mut db), 1);
    for _ in 0..2 {
        let again = common::migrate_default("life_no_empty_backup");
        assert_eq!((again.updated, again.backup.as_deref()), (0, None));
        assert!(!again.summary().contains("backup:"), "{}", again.summary());
        assert_eq!(backups(&mut db), 1, "no empty backup left behind");
    }
    // A link added: one document changes, and its backup holds that row.
    db.batch_execute(
        "INSERT INTO product_owner_products (product_id, product_owner_id) VALUES (2, 21)",
    )
    .unwrap();
    let third = common::migrate_default("life_no_empty_backup");
    assert_eq!(third.updated, 1);
    let backup = third.backup.expect("a backup of the changed row");
    let rows: i64 = db
        .query_one(&format!("SELECT count(*) FROM {backup}"), &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    assert_eq!(backups(&mut db), 2);
}

/// `status` at each stage of the lifecycle, through the library and the
/// CLI (summary and `--json`); it changes nothing.
#[test]
fn status_says_where_the_database_is() {
    let Some(mut db) = common::database("life_status") else {
        return;
    };
    hand_made(&mut db);
    let options = MigrateOptions::default();
    let s = coownership_postgres::status(&cfg("life_status"), &options).unwrap();
    assert_eq!((s.links, s.products, s.column), (Some(15), 6, false));
    assert!(s.constraints.is_empty() && s.backups.is_empty() && s.sql_version.is_none());
    assert!(
        s.summary()
            .contains("no ownership_details column: not migrated"),
        "{}",
        s.summary()
    );

    let report = migrate(&cfg("life_status"), &options, &mut |_, _| {}).unwrap();
    let backup = report.backup.unwrap();
    db.batch_execute(
        r#"UPDATE client_products SET ownership_details = '{"association_type":"tenants_in_common","1":50,"2":60}' WHERE id = 6"#,
    )
    .unwrap();
    let s = coownership_postgres::status(&cfg("life_status"), &options).unwrap();
    assert!(s.column);
    assert_eq!(
        (s.valid_strict, s.no_owner, s.invalid_strict, s.invalid_seed),
        (4, 1, 1, 1)
    );
    assert_eq!(s.invalid_samples, [(6, vec!["total_not_100"])]);
    assert_eq!(s.backups.len(), 1);
    assert_eq!(
        (s.backups[0].name.as_str(), s.backups[0].rows),
        (backup.as_str(), 5)
    );
    assert!(
        s.backups[0].age.is_some_and(|a| a.as_secs() < 600),
        "{:?}",
        s.backups[0]
    );

    // Fixed, constrained, indexed (one index left INVALID, as a failed
    // CREATE INDEX CONCURRENTLY leaves it).
    migrate(
        &cfg("life_status"),
        &MigrateOptions {
            backup: false,
            ..options.clone()
        },
        &mut |_, _| {},
    )
    .unwrap();
    constrain(&cfg("life_status"), &strict()).unwrap();
    db.batch_execute(
        "CREATE INDEX products_details_gin ON client_products USING gin (ownership_details);
         CREATE INDEX products_owner_ids ON client_products USING gin (public.ownership_owner_ids(ownership_details));
         UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'products_owner_ids'::regclass;
         ALTER TABLE client_products ADD CONSTRAINT valid_product_ownership_details_precise
             CHECK (ownership_details IS NOT NULL OR true) NOT VALID",
    )
    .unwrap();
    let before = checksum(&mut db, "client_products").unwrap();
    let out = common::succeeds(&["status", "--database-url", &url("life_status"), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["documents"]["invalid_strict"], 0);
    assert_eq!(json["documents"]["valid_strict"], 5);
    assert_eq!(json["sql"]["installed_version"], coownership::sql::VERSION);
    assert_eq!(json["sql"]["this_version"], coownership::sql::VERSION);
    assert_eq!(json["constraints"][0]["name"], "ownership_details_valid");
    assert_eq!(json["constraints"][0]["valid"], true);
    assert_eq!(json["constraints"][1]["valid"], false);
    assert_eq!(json["indexes"].as_array().unwrap().len(), 2);
    let out = common::succeeds(&["status", "--database-url", &url("life_status")]);
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "link table product_owner_products: 15 rows",
        "6 products: 5 valid (strict), 1 with no owner (NULL), 0 breaking the strict rules, 0 refused by the seed's CHECK",
        "constraint ownership_details_valid: VALID (CHECK (ownership_is_valid_strict(ownership_details)))",
        "constraint valid_product_ownership_details_precise: NOT VALID",
        "shipped functions in public: revision 4, this build's",
        "index products_owner_ids (INVALID: rebuild it)",
        &format!("backup {backup}: 5 rows"),
    ] {
        assert!(text.contains(line), "{line:?} not in:\n{text}");
    }
    assert_eq!(
        checksum(&mut db, "client_products").unwrap(),
        before,
        "status changes nothing"
    );
    common::fails(
        &[
            "status",
            "--database-url",
            &url("life_status"),
            "--products-table",
            "nope",
        ],
        "table nope does not exist",
    );
}

/// One run per table at a time: while another run (here: a session holding
/// the run's advisory lock, as a running migrate does) works on the table,
/// migrate, constrain and rollback fail at once, naming it, and do nothing.
#[test]
fn a_second_run_on_the_same_table_fails_at_once_naming_the_first() {
    let Some(mut db) = common::database("life_one_run") else {
        return;
    };
    hand_made(&mut db);
    let url = url("life_one_run");
    let report = common::migrate_default("life_one_run");
    let backup = report.backup.unwrap();
    let mut other = common::server().unwrap().connect("life_one_run").unwrap();
    other
        .batch_execute(
            "SET application_name = 'the other run'; \
             SELECT pg_advisory_lock((x'636f6f77'::bigint << 32) | 'client_products'::regclass::oid::bigint)",
        )
        .unwrap();
    let pid: i32 = other
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let before = checksum(&mut db, "client_products").unwrap();
    let started = std::time::Instant::now();
    for args in [
        vec!["migrate", "--database-url", &url, "--quiet"],
        vec!["constrain", "--database-url", &url],
        vec!["rollback", "--database-url", &url, "--backup", &backup],
    ] {
        let out = cli(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        // (rollback names the table as the backup recorded it: public.client_products)
        for part in [
            "another coownership run is working on ",
            "client_products, nothing was done",
            &format!("pid {pid} (the other run, started "),
        ] {
            assert!(stderr.contains(part), "{args:?}: {stderr}");
        }
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "at once, not after a wait"
    );
    assert_eq!(checksum(&mut db, "client_products").unwrap(), before);
    assert!(check_constraints(&mut db).is_empty());
    drop(other);
    common::succeeds(&["constrain", "--database-url", &url]);
}

/// A bad row that slips in between constrain's check and its constraint
/// makes the validation fail: the constraint stays NOT VALID (every new
/// write is checked), and the report says so, lists the row, and says how
/// to finish or undo; it is not an error that hides what changed.
#[test]
fn constrain_says_what_it_left_when_validation_fails() {
    let Some(mut db) = common::database("life_not_valid") else {
        return;
    };
    db.batch_execute(
        r#"CREATE TABLE client_products (id bigint PRIMARY KEY, ownership_details jsonb);
           INSERT INTO client_products VALUES (1, '{"association_type":"individual","7":100}')"#,
    )
    .unwrap();
    // A writer whose bad row the check cannot see yet: it commits while
    // constrain waits to add its constraint.
    let mut writer = common::server().unwrap().connect("life_not_valid").unwrap();
    writer
        .batch_execute(
            r#"BEGIN; INSERT INTO client_products VALUES (2, '{"association_type":"tenants_in_common","1":50,"2":60}')"#,
        )
        .unwrap();
    let constraining = std::thread::spawn(|| constrain(&cfg("life_not_valid"), &strict()));
    std::thread::sleep(std::time::Duration::from_millis(700));
    writer.batch_execute("COMMIT").unwrap();
    let report = constraining.join().unwrap().unwrap();
    assert!(!report.constrained);
    let reason = report.not_validated.clone().expect("validation failed");
    assert!(reason.contains("23514"), "{reason}");
    assert_eq!(report.violators.count, 1);
    assert_eq!(report.violators.samples, [(2, vec!["total_not_100"])]);
    let summary = report.summary();
    for part in [
        "ownership_details_valid was added NOT VALID and stays, so every new write is checked",
        "To finish, fix them and run constrain again",
        "ALTER TABLE client_products DROP CONSTRAINT ownership_details_valid",
        "product 2: total_not_100",
    ] {
        assert!(summary.contains(part), "{part:?} not in:\n{summary}");
    }
    let json = report.to_json();
    assert_eq!(
        (
            json["left_not_valid"].as_bool(),
            json["constrained"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let valid: bool = db
        .query_one(
            "SELECT convalidated FROM pg_constraint WHERE conname = 'ownership_details_valid'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(!valid, "the constraint is there, NOT VALID");
    let err = try_write(&mut db, 1, r#"{"association_type":"individual","7":99}"#).unwrap_err();
    assert_eq!(sqlstate(&err), "23514", "new writes are checked: {err}");
    // Fixed, constrain again validates.
    db.batch_execute(r#"UPDATE client_products SET ownership_details = '{"association_type":"tenants_in_common","1":50,"2":50}' WHERE id = 2"#)
        .unwrap();
    let again = constrain(&cfg("life_not_valid"), &strict()).unwrap();
    assert!(
        again.constrained && again.not_validated.is_none(),
        "{}",
        again.summary()
    );
}

/// While constrain (ADD CONSTRAINT) and a first migrate (ADD COLUMN) wait for
/// an application transaction that holds the table, other readers are not
/// made to queue behind them: each attempt waits at most 100 ms for the
/// lock, then lets go and retries. Before, the waiting ALTER TABLE held
/// every new reader in line for up to the whole lock timeout.
#[test]
fn ddl_waits_without_making_readers_queue() {
    let Some(mut db) = common::database("life_ddl_queue") else {
        return;
    };
    hand_made(&mut db);
    for command in ["migrate", "constrain"] {
        let mut holder = common::server().unwrap().connect("life_ddl_queue").unwrap();
        holder
            .batch_execute("BEGIN; SELECT count(*) FROM client_products")
            .unwrap();
        let started = std::time::Instant::now();
        let running = std::thread::spawn(move || match command {
            "migrate" => migrate(
                &cfg("life_ddl_queue"),
                &MigrateOptions::default(),
                &mut |_, _| {},
            )
            .map(|_| ())
            .map_err(|e| e.to_string()),
            _ => constrain(&cfg("life_ddl_queue"), &strict())
                .map(|_| ())
                .map_err(|e| e.to_string()),
        });
        std::thread::sleep(std::time::Duration::from_millis(400));
        // Another reader, meanwhile: it must not wait behind the ALTER.
        let mut reader = common::server().unwrap().connect("life_ddl_queue").unwrap();
        reader
            .batch_execute("SET statement_timeout = '2s'")
            .unwrap();
        let read_started = std::time::Instant::now();
        reader
            .query_one("SELECT count(*) FROM client_products", &[])
            .unwrap_or_else(|e| panic!("{command}: a reader queued behind the ALTER: {e}"));
        assert!(
            read_started.elapsed() < std::time::Duration::from_millis(1500),
            "{command}: the reader waited {:?}",
            read_started.elapsed()
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
        holder.batch_execute("COMMIT").unwrap();
        running
            .join()
            .unwrap()
            .unwrap_or_else(|e| panic!("{command} failed: {e}"));
        assert!(started.elapsed() >= std::time::Duration::from_millis(600));
    }
    let valid: bool = db
        .query_one(
            "SELECT convalidated FROM pg_constraint WHERE conname = 'ownership_details_valid'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(valid);
}

/// `uninstall` removes what constrain installed, refusing while something
/// else uses the functions; `drop-backup` drops a backup by name and
/// nothing else.
#[test]
fn uninstall_removes_what_constrain_installed() {
    let Some(mut db) = common::database("life_uninstall") else {
        return;
    };
    hand_made(&mut db);
    let url = url("life_uninstall");
    let report = common::migrate_default("life_uninstall");
    let backup = report.backup.unwrap();
    constrain(&cfg("life_uninstall"), &strict()).unwrap();
    db.batch_execute(
        "CREATE INDEX products_owner_ids ON client_products USING gin (public.ownership_owner_ids(ownership_details))",
    )
    .unwrap();
    let functions = |db: &mut Client| -> i64 {
        db.query_one(
            "SELECT count(*) FROM pg_proc WHERE proname LIKE 'ownership\\_%' AND pronamespace = 'public'::regnamespace",
            &[],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(functions(&mut db), coownership::sql::FUNCTIONS.len() as i64);

    // In use by the index: refused, nothing changed.
    let out = cli(&["uninstall", "--database-url", &url]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "refused, nothing changed: the functions are still used by index products_owner_ids"
        ),
        "{stdout}"
    );
    assert_eq!(check_constraints(&mut db), ["ownership_details_valid"]);

    // A dry run changes nothing either.
    let out = common::succeeds(&[
        "uninstall",
        "--database-url",
        &url,
        "--keep-functions",
        "--dry-run",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("would be dropped"));
    assert_eq!(check_constraints(&mut db), ["ownership_details_valid"]);

    // The constraint only.
    common::succeeds(&["uninstall", "--database-url", &url, "--keep-functions"]);
    assert!(check_constraints(&mut db).is_empty());
    assert_eq!(functions(&mut db), coownership::sql::FUNCTIONS.len() as i64);

    // Everything, once nothing else uses the functions.
    db.batch_execute("DROP INDEX products_owner_ids").unwrap();
    let out = common::succeeds(&["uninstall", "--database-url", &url]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("10 shipped function(s) in public: dropped"),
        "{stdout}"
    );
    assert_eq!(functions(&mut db), 0);
    let out = common::succeeds(&["uninstall", "--database-url", &url]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("not there") && stdout.contains("none"),
        "{stdout}"
    );

    // Backups: ours by name; anything else refused.
    common::fails(
        &[
            "drop-backup",
            "--database-url",
            &url,
            "--backup",
            "client_products",
        ],
        "client_products is not a backup made by coownership migrate",
    );
    let out = common::succeeds(&["drop-backup", "--database-url", &url, "--backup", &backup]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("dropped {backup} (5 rows)")));
    let s =
        coownership_postgres::status(&cfg("life_uninstall"), &MigrateOptions::default()).unwrap();
    assert!(s.backups.is_empty() && s.sql_version.is_none() && s.constraints.is_empty());
}

/// An application that, in a loop, reads a product and then writes it in
/// one transaction, while a first migrate (which adds the column), constrain
/// and rollback (which drops it) run: no deadlock, no error on either side,
/// and the application keeps committing throughout.
#[test]
fn an_application_reading_then_writing_in_a_loop_never_fails_during_the_lifecycle() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let Some(mut db) = common::database("life_busy") else {
        return;
    };
    hand_made(&mut db);
    let stop = Arc::new(AtomicBool::new(false));
    let app = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut app = common::server().unwrap().connect("life_busy").unwrap();
            let (mut committed, mut errors) = (0u64, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                for id in 1..=6i64 {
                    let result = (|| -> Result<(), postgres::Error> {
                        let mut tx = app.transaction()?;
                        tx.query_one(
                            "SELECT product_name FROM client_products WHERE id = $1",
                            &[&id],
                        )?;
                        std::thread::sleep(std::time::Duration::from_millis(10));
                        tx.execute(
                            "UPDATE client_products SET product_name = product_name WHERE id = $1",
                            &[&id],
                        )?;
                        tx.commit()
                    })();
                    match result {
                        Ok(()) => committed += 1,
                        Err(e) => errors.push(format!("{e:?}")),
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
            (committed, errors)
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    let report = migrate(
        &cfg("life_busy"),
        &MigrateOptions::default(),
        &mut |_, _| {},
    )
    .unwrap_or_else(|e| panic!("migrate: {e}"));
    assert!(report.column_added);
    let constrained =
        constrain(&cfg("life_busy"), &strict()).unwrap_or_else(|e| panic!("constrain: {e}"));
    assert!(constrained.constrained, "{}", constrained.summary());
    let undone = rollback(
        &cfg("life_busy"),
        &RollbackOptions::new(report.backup.unwrap()),
    )
    .unwrap_or_else(|e| panic!("rollback: {e}"));
    assert!(
        undone.column_dropped && !undone.refused,
        "{}",
        undone.summary()
    );
    std::thread::sleep(std::time::Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let (committed, errors) = app.join().unwrap();
    assert!(errors.is_empty(), "the application failed: {errors:?}");
    assert!(
        committed >= 20,
        "the application committed only {committed} transactions"
    );
    assert!(!common::has_details_column(&mut db));
}

/// The plan says which row triggers will fire for every written row (the
/// seed adds an ownership-audit trigger); statement-level and disabled
/// triggers do not count.
#[test]
fn the_plan_names_the_row_triggers_that_will_fire() {
    let Some(mut db) = common::database("life_triggers") else {
        return;
    };
    hand_made(&mut db);
    db.batch_execute(
        "CREATE TABLE audit (id bigint, at timestamptz DEFAULT now());
         CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN INSERT INTO audit (id) VALUES (NEW.id); RETURN NEW; END $$;
         CREATE FUNCTION audit_statement() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RETURN NULL; END $$;
         CREATE TRIGGER ownership_audit AFTER UPDATE ON client_products FOR EACH ROW EXECUTE FUNCTION audit_row();
         CREATE TRIGGER off_duty AFTER UPDATE ON client_products FOR EACH ROW EXECUTE FUNCTION audit_row();
         ALTER TABLE client_products DISABLE TRIGGER off_duty;
         CREATE TRIGGER per_statement AFTER UPDATE ON client_products FOR EACH STATEMENT EXECUTE FUNCTION audit_statement();",
    )
    .unwrap();
    let plan = migrate(
        &cfg("life_triggers"),
        &MigrateOptions {
            dry_run: true,
            ..MigrateOptions::default()
        },
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(plan.row_triggers, ["ownership_audit"]);
    assert!(
        plan.summary()
            .contains("1 row trigger(s) would fire once for every written row: ownership_audit"),
        "{}",
        plan.summary()
    );
    assert_eq!(plan.to_json()["row_triggers"][0], "ownership_audit");
    let done = common::migrate_default("life_triggers");
    let audited: i64 = db
        .query_one("SELECT count(*) FROM audit", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        audited as u64, done.updated,
        "it fired once for every written row"
    );
}
