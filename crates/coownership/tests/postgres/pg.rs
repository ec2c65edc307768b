//! PostgreSQL as a peer: type round trips, the shipped CHECK functions, and
//! differential tests proving that the Rust rules and SQL agree.

use coownership_testkit as common;

use std::collections::BTreeSet;

use common::documents::{generated_documents, limit_documents};
use coownership::{Document, OwnerId, Ownership, Rules, Share};

// ---------------------------------------------------------------------------
// Types

#[test]
fn documents_round_trip_through_jsonb_and_json() {
    let Some(mut db) = common::database("types_round_trip") else {
        return;
    };
    let text = r#"{"association_type": "tenants_in_common", "1": 33.30, "2": 66.70, "note": {"by": "migration", "at": [2024, 1.50]}}"#;
    let doc = Document::parse(text).unwrap();

    // As a bound parameter.
    let back: Document = db.query_one("SELECT $1::jsonb", &[&doc]).unwrap().get(0);
    assert_eq!(back.get("1"), Some("33.30"), "two decimals survive: {back}");
    assert_eq!(back.get("2"), Some("66.70"));
    // jsonb orders object keys its own way; the metadata's content is intact.
    let note =
        |d: &Document| serde_json::from_str::<serde_json::Value>(d.get("note").unwrap()).unwrap();
    assert_eq!(note(&back), note(&doc));
    assert!(back.get("note").unwrap().contains("1.50"));
    assert_eq!(back.to_ownership().unwrap(), doc.to_ownership().unwrap());
    // json keeps the text byte for byte.
    let back: Document = db.query_one("SELECT $1::json", &[&doc]).unwrap().get(0);
    assert_eq!(back.as_str(), text);

    // As a literal.
    let lit: Document = db
        .query_one(&format!("SELECT '{text}'::jsonb"), &[])
        .unwrap()
        .get(0);
    assert_eq!(lit.get("1"), Some("33.30"));

    // NULL.
    let none: Option<Document> = db.query_one("SELECT NULL::jsonb", &[]).unwrap().get(0);
    assert!(none.is_none());
    let none: Option<Ownership> = db.query_one("SELECT NULL::json", &[]).unwrap().get(0);
    assert!(none.is_none());

    // Stored in a table and read back, metadata and decimals intact.
    db.batch_execute("CREATE TABLE t (d jsonb)").unwrap();
    db.execute("INSERT INTO t VALUES ($1)", &[&doc]).unwrap();
    let stored: Document = db.query_one("SELECT d FROM t", &[]).unwrap().get(0);
    assert_eq!(stored.to_ownership().unwrap(), doc.to_ownership().unwrap());
    assert_eq!(stored.get("2"), Some("66.70"));
    assert_eq!(note(&stored), note(&doc));
}

#[test]
fn ownership_round_trips_and_refuses_invalid_rows() {
    let Some(mut db) = common::database("types_ownership") else {
        return;
    };
    let o =
        Ownership::parse(r#"{"association_type":"joint_ownership","joint_owners":[7,3]}"#).unwrap();
    for ty in ["jsonb", "json"] {
        let back: Ownership = db
            .query_one(&format!("SELECT $1::{ty}"), &[&o])
            .unwrap()
            .get(0);
        assert_eq!(back, o);
    }
    let err = db
        .query_one(
            r#"SELECT '{"association_type":"tenants_in_common","1":50,"2":60}'::jsonb"#,
            &[],
        )
        .unwrap()
        .try_get::<_, Ownership>(0)
        .unwrap_err();
    let source = common::error_source(&err);
    assert!(source.contains("total_not_100"), "{err}: {source}");
    // The same row is still readable as a Document.
    let doc: Document = db
        .query_one(
            r#"SELECT '{"association_type":"tenants_in_common","1":50,"2":60}'::jsonb"#,
            &[],
        )
        .unwrap()
        .get(0);
    assert!(doc.validate(Rules::Seed).is_err());
    // A non-object is refused by the Document decoder.
    assert!(db
        .query_one("SELECT '[1]'::jsonb", &[])
        .unwrap()
        .try_get::<_, Document>(0)
        .is_err());
    // accepts() is exact: text is not json.
    assert!(db
        .query_one("SELECT '{}'::text", &[])
        .unwrap()
        .try_get::<_, Document>(0)
        .is_err());
}

#[test]
fn shares_round_trip_through_numeric() {
    let Some(mut db) = common::database("types_share") else {
        return;
    };
    for bp in [0u16, 1, 3330, 5000, 9999, 10_000] {
        let s = Share::from_basis_points(bp).unwrap();
        let back: Share = db.query_one("SELECT $1::numeric", &[&s]).unwrap().get(0);
        assert_eq!(back, s);
        let text: String = db
            .query_one("SELECT ($1::numeric)::text", &[&s])
            .unwrap()
            .get(0);
        assert_eq!(text, s.to_string());
    }
    let s: Share = db.query_one("SELECT 33.3::numeric", &[]).unwrap().get(0);
    assert_eq!(s.to_string(), "33.30");
    for bad in ["33.335", "100.01", "-1"] {
        let row = db
            .query_one(&format!("SELECT {bad}::numeric"), &[])
            .unwrap();
        assert!(row.try_get::<_, Share>(0).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------
// Shipped SQL

#[test]
fn shipped_check_constraint_guards_client_products() {
    let Some(mut db) = common::database("shipped_check") else {
        return;
    };
    coownership::pg::install(&mut db).unwrap();
    coownership::pg::install(&mut db).unwrap(); // idempotent
    db.batch_execute(
        "CREATE TABLE client_products (id bigint PRIMARY KEY, ownership_details jsonb)",
    )
    .unwrap();
    db.batch_execute(&coownership::sql::check_constraint("client_products", "public").unwrap())
        .unwrap();
    let ok = Ownership::individual(OwnerId::new(5).unwrap());
    db.execute("INSERT INTO client_products VALUES (1, $1)", &[&ok])
        .unwrap();
    let bad =
        Document::parse(r#"{"association_type":"tenants_in_common","1":50,"2":50.01}"#).unwrap();
    let err = db
        .execute("INSERT INTO client_products VALUES (2, $1)", &[&bad])
        .unwrap_err();
    assert_eq!(
        err.code(),
        Some(&postgres::error::SqlState::CHECK_VIOLATION),
        "{err}"
    );
    let codes: Vec<String> = db
        .query_one("SELECT ownership_strict_violations($1)", &[&bad])
        .unwrap()
        .get(0);
    assert_eq!(codes, ["total_not_100"]);
    let valid: bool = db
        .query_one("SELECT ownership_is_valid_strict($1)", &[&ok])
        .unwrap()
        .get(0);
    assert!(valid);
}

fn codes_set<'a>(codes: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    codes.into_iter().map(str::to_owned).collect()
}

/// Documents per run; `COOWNERSHIP_DIFFERENTIAL_DOCS` asks for a longer run.
fn documents_per_run() -> usize {
    std::env::var("COOWNERSHIP_DIFFERENTIAL_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12_000)
}
const BATCH: usize = 2_000;

/// Sends every generated document to the server through `query` (which gets
/// the batch as `$1::jsonb[]` and returns `(i, verdict)` rows in order), and
/// asks `judge` for each `(document, row)`: `Some(accepted)` when Rust and SQL
/// agree, `Err(description)` when they do not. Fails listing disagreements,
/// and if the documents do not exercise both verdicts.
fn differential(
    db: &mut postgres::Client,
    query: &str,
    mut judge: impl FnMut(&Document, &postgres::Row) -> Result<bool, String>,
) {
    let mut docs = generated_documents(documents_per_run());
    docs.extend(limit_documents());
    let (mut accepted, mut disagreements) = (0, Vec::new());
    for chunk in docs.chunks(BATCH) {
        let rows = db.query(query, &[&chunk]).unwrap();
        assert_eq!(rows.len(), chunk.len());
        for (doc, row) in chunk.iter().zip(rows) {
            match judge(doc, &row) {
                Ok(ok) => accepted += usize::from(ok),
                Err(e) => disagreements.push(format!("{doc}\n    {e}")),
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} documents disagree, e.g.:\n{}",
        disagreements.len(),
        docs.len(),
        disagreements[..disagreements.len().min(10)].join("\n")
    );
    assert!(
        accepted > docs.len() / 10 && accepted < docs.len() * 9 / 10,
        "the generator must exercise both verdicts: {accepted} accepted of {}",
        docs.len()
    );
}

/// Rust's strict codes against `ownership_strict_violations`, and the
/// verdict against `ownership_is_valid_strict` (the CHECK's fast path).
fn strict_differential(db: &mut postgres::Client) {
    coownership::pg::install(db).unwrap();
    differential(
        db,
        "SELECT i, ownership_strict_violations(d), ownership_is_valid_strict(d) \
         FROM unnest($1::jsonb[]) WITH ORDINALITY AS u(d, i) ORDER BY i",
        |doc, row| {
            let sql: Vec<String> = row.get(1);
            let sql = codes_set(sql.iter().map(String::as_str));
            let fast: bool = row.get(2);
            // SQL sees jsonb, which has no duplicate keys; every other code,
            // the limits included, is the same.
            let rust = match doc.validate(Rules::Strict) {
                Ok(()) => BTreeSet::new(),
                Err(v) => codes_set(v.codes().filter(|c| *c != "duplicate_key")),
            };
            if rust == sql && fast == sql.is_empty() {
                Ok(rust.is_empty())
            } else {
                Err(format!(
                    "rust: {rust:?}\n    sql:  {sql:?}\n    ownership_is_valid_strict: {fast}"
                ))
            }
        },
    );
}

#[test]
fn rust_strict_agrees_with_the_shipped_sql() {
    let Some(mut db) = common::database("differential_strict") else {
        return;
    };
    strict_differential(&mut db);
}

/// The same in a database whose default collation and character classes
/// are not C's: ICU's Turkish from PostgreSQL 15 on (13 and 14 cannot make
/// ICU a database's default), the libc locale C.utf8 before. The shipped SQL
/// names its characters, so nothing changes.
#[test]
fn rust_strict_agrees_with_the_shipped_sql_in_a_non_c_locale() {
    let Some(mut admin) = common::database("differential_locale_admin") else {
        return;
    };
    let locale = if common::server_major(&mut admin) >= 15 {
        "LOCALE_PROVIDER icu ICU_LOCALE 'tr-TR' LOCALE 'C.utf8'"
    } else {
        "LOCALE 'C.utf8'"
    };
    admin
        .batch_execute("DROP DATABASE IF EXISTS differential_locale")
        .unwrap();
    admin
        .batch_execute(&format!(
            "CREATE DATABASE differential_locale TEMPLATE template0 ENCODING 'UTF8' {locale}"
        ))
        .unwrap();
    let mut db = common::server()
        .unwrap()
        .connect("differential_locale")
        .unwrap();
    // The locale matters: character classes see beyond ASCII (with ICU,
    // U+00A0 is a [[:space:]], as the old SQL found to its cost).
    let (alpha, nbsp_is_space): (bool, bool) = {
        let row = db
            .query_one(
                "SELECT E'\\u00e9' ~ '[[:alpha:]]', E'\\u00a0' ~ '[[:space:]]'",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(alpha, "the database's character classes are C's");
    assert!(
        nbsp_is_space || common::server_major(&mut db) < 15,
        "the database is not ICU's"
    );
    strict_differential(&mut db);
}

#[test]
fn rust_seed_agrees_with_the_seeds_own_check() {
    let Some(mut db) = common::database("differential_seed") else {
        return;
    };
    db.batch_execute(coownership_testkit::fixtures::SEED_CHECK_SQL)
        .unwrap();
    coownership::pg::install(&mut db).unwrap();
    // Accept = the CHECK lets the row in (TRUE or NULL); reject = FALSE or an
    // error. Each insert runs in its own subtransaction, so one error does
    // not abort the batch.
    db.batch_execute(
        "CREATE FUNCTION seed_accepts(d jsonb) RETURNS boolean LANGUAGE plpgsql AS $$
         BEGIN
             INSERT INTO seed_check_probe VALUES (d);
             RETURN true;
         EXCEPTION WHEN others THEN
             RETURN false;
         END $$",
    )
    .unwrap();
    // PostgreSQL 18 casts a jsonb null to a NULL numeric instead of failing.
    let rules = if common::server_major(&mut db) >= 18 {
        Rules::SeedPg18
    } else {
        Rules::Seed
    };
    differential(
        &mut db,
        "SELECT i, seed_accepts(d), coalesce(ownership_is_valid_seed(d), true) \
         FROM unnest($1::jsonb[]) WITH ORDINALITY AS u(d, i) ORDER BY i",
        |doc, row| {
            let sql: bool = row.get(1);
            let shipped: bool = row.get(2);
            let rust = doc.validate(rules);
            if rust.is_ok() == sql && shipped == sql {
                Ok(sql)
            } else {
                Err(format!(
                    "rust: {rust:?}\n    seed sql accepts: {sql}\n    shipped ownership_is_valid_seed accepts: {shipped}"
                ))
            }
        },
    );
}

/// The tests run on the server they were asked to run on: with
/// `COOWNERSHIP_PG_BINDIR`, the major of that directory's `postgres`.
#[test]
fn the_server_is_the_one_asked_for() {
    let Some(mut db) = common::database("which_server") else {
        return;
    };
    let major = common::server_major(&mut db);
    eprintln!("testing on PostgreSQL {major}");
    assert!(major >= 13, "PostgreSQL {major} is not supported");
    if let Some(dir) = std::env::var_os("COOWNERSHIP_PG_BINDIR").filter(|d| !d.is_empty()) {
        let out = std::process::Command::new(std::path::Path::new(&dir).join("postgres"))
            .arg("--version")
            .output()
            .unwrap();
        let version = String::from_utf8_lossy(&out.stdout);
        let want: u32 = version
            .split_whitespace()
            .last()
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("cannot read a major from {version:?}"));
        assert_eq!(major, want, "COOWNERSHIP_PG_BINDIR gives {version}");
    }
}

/// JSONTestSuite-style cases: every escape, number form and structure the
/// grammar allows, each inside a document (so that the crate parses it), and
/// the forms PostgreSQL refuses.
fn json_suite_cases() -> Vec<String> {
    let strings = [
        r#""""#,
        r#""\b\f\n\r\t\/\\\"""#,
        r#""\u0001\u001f\u007f\u0080\u00ff""#,
        r#""\u2028\u2029\ufeff\uffff""#,
        r#""\ud834\udd1e \uD83D\uDE00""#,
        "\"é ü 中文 😀\"",
        r#""\u00e9 vs é""#,
        r#""a\u0000b""#,
        r#""\u0000""#,
    ];
    let numbers = [
        "0",
        "-0",
        "-0.0",
        "0e0",
        "0E+0",
        "1.0e+2",
        "123e-10",
        "1E400",
        "-1e400",
        "1e131071",
        "1e131072",
        "9.99e131071",
        "1e-16383",
        "1e-16384",
        "0e-16383",
        "0.0e-16383",
        "0e1073741822",
        "0e1073741823",
        "0e-1073741823",
        "12345678901234567890123456789",
        "1.000000000000000000000000000000000000000000000000000",
        "0.1e-16382",
        "-1e-16383",
    ];
    let mut docs = Vec::new();
    for v in strings.iter().chain(numbers.iter()) {
        docs.push(format!(
            r#"{{"association_type":"individual","1":100,"v":{v}}}"#
        ));
        docs.push(format!(
            r#"{{"association_type":"individual","1":100,"v":[{v},{{"w":{v}}}]}}"#
        ));
        docs.push(format!(r#"{{"association_type":"individual","1":{v}}}"#));
    }
    for key in strings {
        docs.push(format!(
            r#"{{"association_type":"individual",{key}:1,"1":100}}"#
        ));
    }
    docs.extend([
        "{}".to_owned(),
        r#"{"a":{},"b":[],"c":[[]],"d":{"e":{}}}"#.to_owned(),
        " \t\n\r{ \"a\" : [ 1 , 2 ] } \t\n\r".to_owned(),
        r#"{"a":1,"a":2,"b":{"c":1,"c":[1,2],"c":{"d":1,"d":2}}}"#.to_owned(),
        r#"{"":"","\"":"\\"}"#.to_owned(),
        r#"{"n":[true,false,null]}"#.to_owned(),
    ]);
    for depth in [63, 64, 65, 998, 999, 1000] {
        docs.push(format!(
            r#"{{"association_type":"individual","1":100,"n":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        ));
        docs.push(format!(
            r#"{{"association_type":"individual","1":100,"n":{}1{}}}"#,
            r#"{"a":"#.repeat(depth),
            "}".repeat(depth)
        ));
    }
    docs
}

/// The fuzz corpus and regressions of the document parser.
fn fuzz_corpus_texts() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut texts = Vec::new();
    for target in ["parse_validate", "apportion"] {
        for dir in [
            root.join("corpus").join(target),
            root.join("regressions").join(target),
        ] {
            for entry in std::fs::read_dir(&dir).into_iter().flatten() {
                let data = std::fs::read(entry.unwrap().path()).unwrap();
                texts.push(String::from_utf8_lossy(&data).into_owned());
            }
        }
    }
    texts
}

/// A document the crate reads is one `jsonb` stores, and its stored size is
/// `Document::stored_len` (the measure of `Limits::max_bytes`); what the crate
/// refuses as unstorable, PostgreSQL refuses too. Over the generated
/// documents, the limit documents, the fuzz corpus and JSONTestSuite-style
/// cases.
#[test]
fn every_document_the_crate_reads_is_one_jsonb_stores() {
    let Some(mut db) = common::database("storable") else {
        return;
    };
    let major = common::server_major(&mut db);
    db.batch_execute(
        "CREATE FUNCTION pg_temp.stored_len(t text) RETURNS integer LANGUAGE plpgsql AS $$
         BEGIN
             RETURN octet_length(t::jsonb::text);
         EXCEPTION WHEN others THEN
             RETURN NULL;
         END $$",
    )
    .unwrap();
    let mut texts: Vec<String> = generated_documents(documents_per_run())
        .iter()
        .chain(limit_documents().iter())
        .map(|d| d.as_str().to_owned())
        .collect();
    let suite = json_suite_cases();
    let corpus = fuzz_corpus_texts();
    assert!(
        corpus.len() >= 10,
        "the fuzz corpus is missing: {}",
        corpus.len()
    );
    texts.extend(suite.iter().cloned());
    // A raw NUL byte cannot even be sent as text (nor is it JSON).
    texts.extend(corpus.into_iter().filter(|t| !t.contains('\0')));
    let (mut stored, mut refused, mut wrong) = (0, 0, Vec::new());
    for chunk in texts.chunks(BATCH) {
        let rows = db
            .query(
                "SELECT pg_temp.stored_len(t) FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i",
                &[&chunk],
            )
            .unwrap();
        for (text, row) in chunk.iter().zip(rows) {
            let pg: Option<i32> = row.get(0);
            match (Document::parse(text), pg) {
                (Ok(doc), Some(n)) if doc.stored_len() == n as usize => stored += 1,
                (Ok(doc), pg) => wrong.push(format!(
                    "{}: the crate reads it (stored_len {}), PostgreSQL: {pg:?}",
                    short(text),
                    doc.stored_len()
                )),
                // 16 and later also take an exponent of exactly 2^30 - 1,
                // which 13 to 15 refuse; the crate refuses it everywhere.
                (Err(e), Some(_))
                    if e.code() == "number_out_of_range"
                        && major >= 16
                        && text.contains("e1073741823") =>
                {
                    refused += 1;
                }
                (Err(e), Some(_))
                    if matches!(e.code(), "nul_character" | "number_out_of_range") =>
                {
                    wrong.push(format!(
                        "{}: the crate says {}, PostgreSQL stores it",
                        short(text),
                        e.code()
                    ));
                }
                (Err(e), None) if matches!(e.code(), "nul_character" | "number_out_of_range") => {
                    refused += 1;
                }
                (Err(_), _) => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // The cases reach both sides of every storage limit.
    assert!(
        stored > texts.len() / 2 && refused >= 10,
        "{stored} stored, {refused} refused"
    );
}

fn short(text: &str) -> String {
    let head: String = text.chars().take(120).collect();
    if head.len() < text.len() {
        format!("{head}… ({} bytes)", text.len())
    } else {
        head
    }
}
