//! The shipped SQL in a user's database, tried as a DBA and as an attacker
//! would: a dump of a constrained database restores every row and the
//! constraint, and a role that puts a schema of its own first on its
//! `search_path` can change nothing the functions do.

use coownership_testkit as common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::documents::{generated_documents, limit_documents};
use coownership::Rules;
use coownership_postgres::{constrain, ConstrainOptions};

const PRODUCTS: i64 = 3_000;

/// A client tool (`pg_dump`, `pg_restore`, `psql`) whose major is at least
/// `min_major`: from `COOWNERSHIP_PG_CLIENT_BINDIR` (what
/// `.ci/install-pg-client` prints), the server's bin directory, the
/// machine's `pg_config --bindir`, or Debian's `/usr/lib/postgresql/*/bin`.
fn client_tool(name: &str, min_major: u32) -> PathBuf {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for var in ["COOWNERSHIP_PG_CLIENT_BINDIR", "COOWNERSHIP_PG_BINDIR"] {
        if let Some(d) = std::env::var_os(var).filter(|d| !d.is_empty()) {
            dirs.push(d.into());
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        dirs.push(String::from_utf8_lossy(&out.stdout).trim().into());
    }
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path().join("bin"))
        .collect();
    debian.sort();
    dirs.extend(debian.into_iter().rev());
    // The oldest that is new enough: what a DBA would use, and a pg_dump
    // newer than the server writes settings an older server lacks.
    let mut seen = Vec::new();
    let mut best: Option<(u32, PathBuf)> = None;
    for dir in dirs {
        let tool = dir.join(name);
        let Ok(out) = Command::new(&tool).arg("--version").output() else {
            continue;
        };
        let version = String::from_utf8_lossy(&out.stdout);
        let major: u32 = version
            .split_whitespace()
            .find_map(|w| w.split('.').next()?.parse().ok())
            .unwrap_or(0);
        if out.status.success()
            && major >= min_major
            && best.as_ref().is_none_or(|(m, _)| major < *m)
        {
            best = Some((major, tool.clone()));
        }
        seen.push(format!("{} ({})", tool.display(), version.trim()));
    }
    if let Some((_, tool)) = best {
        return tool;
    }
    panic!(
        "this test needs {name} of PostgreSQL {min_major} or later; found: {seen:?}.\n\
         .ci/install-pg-client installs PostgreSQL 18's pg_dump and pg_restore and prints their \
         directory: set COOWNERSHIP_PG_CLIENT_BINDIR to it."
    );
}

fn run(tool: &Path, args: &[&str]) {
    let out = Command::new(tool).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?} failed ({}):\n{}",
        tool.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `client_products` with strict rules from functions in schema `ownership`,
/// and `legacy_products` with the seed's rules from functions in `public`:
/// both constrained by `coownership constrain`.
fn constrained_database(name: &str) -> Option<postgres::Client> {
    let mut db = common::database(name)?;
    db.batch_execute(&format!(
        "CREATE SCHEMA ownership;
         CREATE TABLE client_products (id bigint PRIMARY KEY, product_name text, ownership_details jsonb);
         INSERT INTO client_products
         SELECT i, 'p' || i, CASE i % 4
             WHEN 0 THEN jsonb_build_object('association_type', 'individual', i::text, 100.00)
             WHEN 1 THEN jsonb_build_object('association_type', 'tenants_in_common',
                 i::text, 33.33, (i + 1)::text, 33.33, (i + 2)::text, 33.34)
             WHEN 2 THEN jsonb_build_object('association_type', 'joint_ownership',
                 'joint_owners', jsonb_build_array(i, i + 1, i + 2), 'note', 'x')
             ELSE NULL END
         FROM generate_series(1, {PRODUCTS}) AS i;
         CREATE TABLE legacy_products (LIKE client_products INCLUDING ALL);
         INSERT INTO legacy_products SELECT * FROM client_products;"
    ))
    .unwrap();
    let config = common::cfg(name);
    let strict = constrain(
        &config,
        &ConstrainOptions {
            schema: "ownership".into(),
            ..ConstrainOptions::default()
        },
    )
    .unwrap();
    assert!(strict.constrained, "{}", strict.summary());
    let seed = constrain(
        &config,
        &ConstrainOptions {
            rules: Rules::Seed,
            products: "legacy_products".into(),
            ..ConstrainOptions::default()
        },
    )
    .unwrap();
    assert!(seed.constrained, "{}", seed.summary());
    Some(db)
}

/// What must hold in a restored database: every row, both constraints
/// validated, and both still refusing a bad write.
fn check_restored(db: &mut postgres::Client, how: &str) {
    for table in ["client_products", "legacy_products"] {
        let n: i64 = db
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .unwrap()
            .get(0);
        assert_eq!(n, PRODUCTS, "{how}: rows of {table}");
        let valid: Vec<bool> = db
            .query(
                "SELECT convalidated FROM pg_constraint WHERE conrelid = $1::text::regclass \
                 AND conname = 'ownership_details_valid'",
                &[&table],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(valid, [true], "{how}: the constraint on {table}");
        let err = db
            .execute(
                &format!(
                    r#"INSERT INTO {table} VALUES (0, 'bad', '{{"association_type":"tenants_in_common","1":50,"2":60}}')"#
                ),
                &[],
            )
            .unwrap_err();
        assert_eq!(
            err.code(),
            Some(&postgres::error::SqlState::CHECK_VIOLATION),
            "{how}: {table} takes a bad write: {err}"
        );
    }
}

#[test]
fn a_dump_of_a_constrained_database_restores_every_row_and_the_constraint() {
    let Some(mut db) = constrained_database("restore_source") else {
        return;
    };
    let major = common::server_major(&mut db);
    let (pg_dump, pg_restore) = (
        client_tool("pg_dump", major),
        client_tool("pg_restore", major),
    );
    let psql = client_tool("psql", 0);
    let dir = tempdir();
    let plain = dir.join("plain.sql");
    let custom = dir.join("custom.dump");
    let source = common::url("restore_source");
    run(&pg_dump, &["-d", &source, "-f", plain.to_str().unwrap()]);
    run(
        &pg_dump,
        &["-Fc", "-d", &source, "-f", custom.to_str().unwrap()],
    );
    let restore_major = tool_major(&pg_restore);
    let custom_script = dir.join("custom.sql");
    if major < 17 {
        // pg_dump and pg_restore 17 and later write `SET transaction_timeout
        // = 0;`, which 13 to 16 do not know. A DBA uses the tools of the
        // server's own major; where this machine has only newer ones (16,
        // with 18's), the line is dropped from the plain dump, and the
        // custom dump is restored through its script (`pg_restore -f`, the
        // same statements in the same order), from which it is dropped too.
        drop_transaction_timeout(&plain);
        if restore_major >= 17 {
            run(
                &pg_restore,
                &[
                    "-f",
                    custom_script.to_str().unwrap(),
                    custom.to_str().unwrap(),
                ],
            );
            drop_transaction_timeout(&custom_script);
        }
    }
    let psql_args = |file: &Path, single: bool| {
        let mut args = vec![
            "-X".to_owned(),
            "-q".into(),
            "-v".into(),
            "ON_ERROR_STOP=1".into(),
        ];
        if single {
            args.push("--single-transaction".into());
        }
        args.extend(["-f".into(), file.to_str().unwrap().to_owned()]);
        args
    };
    let restore_args = |single: bool| {
        if major < 17 && restore_major >= 17 {
            return (psql.clone(), psql_args(&custom_script, single));
        }
        let mut args = vec!["--exit-on-error".to_owned()];
        if single {
            args.push("--single-transaction".into());
        }
        args.push(custom.to_str().unwrap().to_owned());
        (pg_restore.clone(), args)
    };
    let restores = [
        ("psql -f (plain)", (psql.clone(), psql_args(&plain, false))),
        (
            "psql --single-transaction -f (plain)",
            (psql.clone(), psql_args(&plain, true)),
        ),
        ("pg_restore (custom)", restore_args(false)),
        (
            "pg_restore --single-transaction (custom)",
            restore_args(true),
        ),
    ];
    for (i, (how, (tool, args))) in restores.into_iter().enumerate() {
        let name = format!("restore_target_{i}");
        let mut target = common::database(&name).unwrap();
        let url = common::url(&name);
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(["-d", &url]);
        run(&tool, &args);
        check_restored(&mut target, how);
    }
}

fn tool_major(tool: &Path) -> u32 {
    let out = Command::new(tool).arg("--version").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find_map(|w| w.split('.').next()?.parse().ok())
        .unwrap_or(0)
}

fn drop_transaction_timeout(script: &Path) {
    let text = std::fs::read_to_string(script).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("SET transaction_timeout"))
        .collect();
    std::fs::write(script, kept.join("\n")).unwrap();
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("coownership-restore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every built-in function (`pg_catalog.f(`) and operator
/// (`OPERATOR(pg_catalog.op)`) the shipped SQL names.
fn builtins_named() -> (Vec<String>, Vec<String>) {
    let sql = coownership::sql::TEMPLATE;
    let mut functions = Vec::new();
    let mut operators = Vec::new();
    // The code, without comments (which mention pg_catalog.f and op).
    let sql: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let sql = sql.as_str();
    for (i, _) in sql.match_indices("pg_catalog.") {
        let before = &sql[..i];
        let after = &sql[i + "pg_catalog.".len()..];
        if before.ends_with("OPERATOR(") {
            let op: String = after.chars().take_while(|&c| c != ')').collect();
            operators.push(op);
        } else {
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if after[name.len()..].starts_with('(') {
                functions.push(name.to_lowercase());
            }
        }
    }
    for v in [&mut functions, &mut operators] {
        v.sort();
        v.dedup();
    }
    (functions, operators)
}

/// A role that may write `client_products` and owns the schema first on its
/// `search_path`, where it has put (a) functions named like the shipped ones
/// that call every document valid, and (b) a tracer for every built-in
/// function and operator the shipped SQL names, with the same argument
/// types, and domains named like the types it names, each of which raises
/// when used. The CHECK still refuses a bad write; and over the generated
/// documents, every shipped function gives the answers it gives a plain
/// session (no tracer ever runs: one would raise).
#[test]
fn a_role_with_its_own_schema_first_cannot_change_what_the_functions_do() {
    let Some(mut db) = common::database("hostile_role") else {
        return;
    };
    db.batch_execute(
        "CREATE TABLE client_products (id bigint PRIMARY KEY, ownership_details jsonb);
         CREATE TABLE answers (i bigint PRIMARY KEY, strict text[], valid boolean, seed boolean, ids bigint[], parts text);",
    )
    .unwrap();
    coownership::pg::install(&mut db).unwrap();
    db.batch_execute(&coownership::sql::check_constraint("client_products", "public").unwrap())
        .unwrap();
    db.batch_execute(
        "DO $$ BEGIN CREATE ROLE intruder LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         GRANT SELECT, INSERT, UPDATE ON client_products, answers TO intruder;
         CREATE SCHEMA evil AUTHORIZATION intruder;
         -- (a) The attack the issue found: same-named functions saying 'valid'.
         CREATE FUNCTION evil.ownership_strict_violations(d jsonb) RETURNS text[] LANGUAGE sql AS $b$ SELECT '{}'::text[] $b$;
         CREATE FUNCTION evil.ownership_is_valid_strict(d jsonb) RETURNS boolean LANGUAGE sql AS $b$ SELECT true $b$;
         CREATE FUNCTION evil.ownership_is_valid_seed(d jsonb) RETURNS boolean LANGUAGE sql AS $b$ SELECT true $b$;
         CREATE FUNCTION evil.ownership_seed_percentages(d jsonb) RETURNS boolean LANGUAGE sql AS $b$ SELECT true $b$;
         CREATE FUNCTION evil.ownership_owner_ids(d jsonb) RETURNS bigint[] LANGUAGE sql AS $b$ SELECT '{}'::bigint[] $b$;
         -- Types named like the ones the SQL names: any use raises.
         CREATE DOMAIN evil.text AS pg_catalog.text CHECK (VALUE IS NULL);
         CREATE DOMAIN evil.jsonb AS pg_catalog.jsonb CHECK (VALUE IS NULL);
         CREATE DOMAIN evil.jsonpath AS pg_catalog.jsonpath CHECK (VALUE IS NULL);",
    )
    .unwrap();
    // (b) Tracers.
    let (functions, operators) = builtins_named();
    assert!(
        functions.len() >= 20 && operators.len() >= 10,
        "{functions:?} {operators:?}"
    );
    db.batch_execute(TRACER_MAKERS).unwrap();
    let made: i64 = db
        .query_one(
            "SELECT count(*) FROM pg_proc p
              WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f'
                AND p.proname = ANY($1)
                AND pg_temp.make_tracer(p.proname, pg_get_function_arguments(p.oid),
                                        pg_get_function_result(p.oid))",
            &[&functions],
        )
        .unwrap()
        .get(0);
    let ops: i64 = db
        .query_one(
            "SELECT count(*) FROM pg_operator o
              WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprname = ANY($1)
                AND pg_temp.make_operator_tracer(o.oprname, o.oprleft, o.oprright, o.oprresult)",
            &[&operators],
        )
        .unwrap()
        .get(0);
    // Every name has at least one tracer (aggregates aside: count and sum
    // are called by their qualified names only in set-based queries).
    let plain_functions: Vec<String> = db
        .query(
            "SELECT DISTINCT proname::text FROM pg_proc
              WHERE pronamespace = 'pg_catalog'::regnamespace AND prokind = 'f' AND proname = ANY($1)",
            &[&functions],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let traced: Vec<String> = db
        .query(
            "SELECT DISTINCT proname::text FROM pg_proc WHERE pronamespace = 'evil'::regnamespace",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let missing: Vec<&String> = plain_functions
        .iter()
        .filter(|f| !traced.contains(f))
        .collect();
    assert!(missing.is_empty(), "no tracer for {missing:?}");
    assert!(
        made > 50 && ops > 50,
        "{made} function and {ops} operator tracers"
    );
    let evil_ops: Vec<String> = db
        .query(
            "SELECT DISTINCT oprname::text FROM pg_operator WHERE oprnamespace = 'evil'::regnamespace",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let missing: Vec<&String> = operators.iter().filter(|o| !evil_ops.contains(o)).collect();
    assert!(missing.is_empty(), "no tracer for operators {missing:?}");

    // The answers of a plain session.
    let docs: Vec<coownership::Document> = generated_documents(3_000)
        .into_iter()
        .chain(limit_documents())
        .collect();
    // Written so that it names nothing through the search_path itself.
    const ANSWER: &str = "INSERT INTO public.answers
        SELECT u.i, public.ownership_strict_violations(u.d), public.ownership_is_valid_strict(u.d),
               public.ownership_is_valid_seed(u.d), public.ownership_owner_ids(u.d),
               CASE WHEN public.ownership_is_valid_strict(u.d)
                    THEN (SELECT pg_catalog.string_agg(a.owner_id::pg_catalog.text
                                     OPERATOR(pg_catalog.||) a.amount::pg_catalog.text, ',')
                            FROM public.ownership_apportion(u.d, 1234.57) AS a) END
          FROM pg_catalog.unnest($1::pg_catalog.jsonb[]) WITH ORDINALITY AS u(d, i)";
    db.execute(ANSWER, &[&docs]).unwrap();
    let plain: Vec<String> = answers(&mut db);
    db.batch_execute("TRUNCATE answers").unwrap();

    // The intruder, in a fresh session (PL/pgSQL compiles its functions
    // under the session's search_path on first use).
    let mut config = common::cfg("hostile_role");
    config.user("intruder");
    let mut intruder = config.connect(postgres::NoTls).unwrap();
    intruder
        .batch_execute("SET search_path = evil, pg_catalog, public")
        .unwrap();
    let bad = r#"{"association_type":"tenants_in_common","1":50,"2":60}"#;
    for sql in [
        format!("INSERT INTO client_products VALUES (1, '{bad}')"),
        format!("INSERT INTO public.client_products VALUES (1, '{bad}'::pg_catalog.jsonb)"),
    ] {
        let err = intruder.batch_execute(&sql).unwrap_err();
        assert_eq!(
            err.code(),
            Some(&postgres::error::SqlState::CHECK_VIOLATION),
            "{sql}: {err}"
        );
    }
    intruder
        .batch_execute(
            r#"INSERT INTO public.client_products VALUES (2, '{"association_type":"individual","7":100}'::pg_catalog.jsonb)"#,
        )
        .unwrap();
    let err = intruder
        .batch_execute(&format!(
            "UPDATE public.client_products SET ownership_details = '{bad}'::pg_catalog.jsonb \
             WHERE id OPERATOR(pg_catalog.=) 2"
        ))
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&postgres::error::SqlState::CHECK_VIOLATION),
        "{err}"
    );

    // Every answer as in the plain session.
    intruder.execute(ANSWER, &[&docs]).unwrap();
    let hostile = answers(&mut db);
    assert_eq!(hostile.len(), plain.len());
    let differ: Vec<_> = plain
        .iter()
        .zip(&hostile)
        .filter(|(a, b)| a != b)
        .take(5)
        .collect();
    assert!(
        differ.is_empty(),
        "answers change under the intruder's search_path: {differ:?}"
    );
}

fn answers(db: &mut postgres::Client) -> Vec<String> {
    db.query("SELECT row(a.*)::text FROM answers a ORDER BY i", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Makers of tracers: a function in `evil` with a built-in's name, arguments
/// and result that raises when called; an operator in `evil` with a
/// built-in's name and operand types, backed by such a function. Each
/// returns whether it made one (pseudo-types such as `internal` cannot be
/// declared; nothing calls those from SQL anyway).
const TRACER_MAKERS: &str = r#"
CREATE FUNCTION pg_temp.make_tracer(name text, args text, result text) RETURNS boolean LANGUAGE plpgsql AS $m$
BEGIN
    EXECUTE format('CREATE FUNCTION evil.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
        name, args, result,
        format('BEGIN RAISE EXCEPTION %L; END', 'tracer evil.' || name || ' was called'));
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END $m$;
CREATE SEQUENCE pg_temp.tracer_ids;
CREATE FUNCTION pg_temp.make_operator_tracer(op text, l oid, r oid, res oid) RETURNS boolean LANGUAGE plpgsql AS $m$
DECLARE
    f text := 'op_tracer_' || nextval('pg_temp.tracer_ids');
BEGIN
    IF l = 0 THEN
        EXECUTE format('CREATE FUNCTION evil.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L', f, r::regtype, res::regtype,
            format('BEGIN RAISE EXCEPTION %L; END', 'tracer operator evil.' || op || ' was called'));
        EXECUTE format('CREATE OPERATOR evil.%s (RIGHTARG = %s, FUNCTION = evil.%I)', op, r::regtype, f);
    ELSE
        EXECUTE format('CREATE FUNCTION evil.%I(%s, %s) RETURNS %s LANGUAGE plpgsql AS %L', f, l::regtype, r::regtype, res::regtype,
            format('BEGIN RAISE EXCEPTION %L; END', 'tracer operator evil.' || op || ' was called'));
        EXECUTE format('CREATE OPERATOR evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = evil.%I)', op, l::regtype, r::regtype, f);
    END IF;
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END $m$;
"#;
