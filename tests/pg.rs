//! PostgreSQL as a peer: type round trips, the shipped CHECK functions, and
//! differential tests proving that the Rust rules and SQL agree.
#![cfg(feature = "postgres")]

mod common;

use std::collections::BTreeSet;

use coownership::{Document, OwnerId, Ownership, Rules, Share};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

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

// ---------------------------------------------------------------------------
// Differential tests

/// A document under construction: the pieces a mutation can change.
#[derive(Clone, Debug)]
struct Draft {
    assoc: Option<String>,
    owners: Vec<(String, String)>,
    joint: Option<Joint>,
    meta: Vec<(String, String)>,
    assoc_last: bool,
}

#[derive(Clone, Debug)]
enum Joint {
    Array(Vec<String>),
    Raw(String),
}

impl Draft {
    fn render(&self) -> String {
        let mut parts = Vec::new();
        let assoc = self
            .assoc
            .as_ref()
            .map(|a| format!("\"association_type\": {a}"));
        if !self.assoc_last {
            parts.extend(assoc.clone());
        }
        for (k, v) in &self.owners {
            parts.push(format!("{}: {v}", serde_json::Value::String(k.clone())));
        }
        match &self.joint {
            Some(Joint::Array(items)) => {
                parts.push(format!("\"joint_owners\": [{}]", items.join(", ")))
            }
            Some(Joint::Raw(raw)) => parts.push(format!("\"joint_owners\": {raw}")),
            None => {}
        }
        for (k, v) in &self.meta {
            parts.push(format!("{}: {v}", serde_json::Value::String(k.clone())));
        }
        if self.assoc_last {
            parts.extend(assoc);
        }
        format!("{{{}}}", parts.join(", "))
    }
}

fn is_number(s: &str) -> bool {
    s.starts_with(|c: char| c == '-' || c.is_ascii_digit())
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn percent(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", bp.abs() / 100, bp.abs() % 100)
}

/// Valid documents of every kind, some with metadata.
fn valid_draft() -> impl Strategy<Value = Draft> {
    let meta = prop::collection::vec(
        prop_oneof![
            Just(("note".to_owned(), "\"no_previous_ownership\"".to_owned())),
            Just((
                "source".to_owned(),
                "{\"system\": \"legacy\", \"ids\": [1, 2.50]}".to_owned()
            )),
            Just(("updated_by".to_owned(), "42".to_owned())),
        ],
        0..2,
    );
    let owners = |n: std::ops::Range<usize>| prop::collection::btree_set(1u64..100_000, n);
    let kind = prop_oneof![
        owners(1..2).prop_map(|ids| (
            "\"individual\"",
            ids.into_iter()
                .map(|i| (i.to_string(), "100.00".to_owned()))
                .collect::<Vec<_>>(),
            None
        )),
        (2usize..7)
            .prop_flat_map(move |n| (
                owners(n..n + 1),
                prop::collection::btree_set(1i64..10_000, n - 1)
            ))
            .prop_map(|(ids, cuts)| {
                let mut last = 0;
                let shares: Vec<i64> = cuts
                    .into_iter()
                    .chain([10_000])
                    .map(|c| {
                        let s = c - last;
                        last = c;
                        s
                    })
                    .collect();
                (
                    "\"tenants_in_common\"",
                    ids.into_iter()
                        .zip(shares)
                        .map(|(i, s)| (i.to_string(), percent(s)))
                        .collect(),
                    None,
                )
            }),
        owners(2..5).prop_map(|ids| (
            "\"joint_ownership\"",
            Vec::new(),
            Some(Joint::Array(
                ids.into_iter().map(|i| i.to_string()).collect()
            ))
        )),
    ];
    (kind, meta, any::<bool>()).prop_map(|((assoc, owners, joint), meta, assoc_last)| Draft {
        assoc: Some(assoc.to_owned()),
        owners,
        joint,
        meta,
        assoc_last,
    })
}

/// One near-miss change, chosen by `kind`, at position `at`, flavoured by `v`.
fn mutate(d: &mut Draft, kind: u8, at: usize, v: u8) {
    let pick = |len: usize| if len == 0 { None } else { Some(at % len) };
    let numbers = [
        "1e400",
        "-1e400",
        "1e-400",
        "-0",
        "0",
        "-0.01",
        "100.01",
        "100.004",
        "99.995",
        "0.5e2",
        "1E2",
        "33.335",
        "-50",
        "9223372036854775808",
        "123456789012345678901234567890",
    ];
    match kind {
        // A share ±0.01.
        0 => {
            if let Some(i) = pick(d.owners.len()) {
                if let Some(x) = d.owners[i].1.parse::<f64>().ok().filter(|x| x.abs() < 1e6) {
                    let bp = (x * 100.0).round() as i64 + if v % 2 == 0 { 1 } else { -1 };
                    d.owners[i].1 = percent(bp);
                }
            }
        }
        // A third decimal.
        1 => {
            if let Some(i) = pick(d.owners.len()) {
                if is_number(&d.owners[i].1) && d.owners[i].1.contains('.') {
                    d.owners[i].1.push(char::from(b'0' + v % 10));
                }
            }
        }
        // A string, null, boolean, array or object where a share belongs.
        2 => {
            if let Some(i) = pick(d.owners.len()) {
                let s = d.owners[i].1.clone();
                d.owners[i].1 = match v % 5 {
                    0 => json_string(&s),
                    1 => "null".to_owned(),
                    2 => "true".to_owned(),
                    3 => format!("[{s}]"),
                    _ => format!("{{\"v\": {s}}}"),
                };
            }
        }
        // An extra owner.
        3 => d.owners.push((
            (100_000 + at % 1000).to_string(),
            percent(i64::from(v) * 37 % 10_001),
        )),
        // A missing owner.
        4 => {
            if let Some(i) = pick(d.owners.len()) {
                d.owners.remove(i);
            }
        }
        // "007"-style and other non-canonical keys.
        5 => {
            if let Some(i) = pick(d.owners.len()) {
                d.owners[i].0 = match v % 3 {
                    0 => format!("0{}", d.owners[i].0),
                    1 => "0".to_owned(),
                    _ => "9223372036854775808".to_owned(),
                };
            }
        }
        // Joint owners: duplicates, bad elements, not an array.
        6 => match &mut d.joint {
            Some(Joint::Array(items)) if !items.is_empty() => {
                let i = at % items.len();
                match v % 6 {
                    0 => {
                        let dup = items[i].clone();
                        items.push(dup);
                    }
                    1 => items[i] = json_string(&items[i]),
                    2 => items[i] = "1.5".to_owned(),
                    3 => items[i] = "0".to_owned(),
                    4 if is_number(&items[i]) && !items[i].contains(['.', 'e', 'E']) => {
                        items[i] = format!("{}.0", items[i])
                    }
                    4 => items[i] = "2.0".to_owned(),
                    _ => {
                        items.truncate(1);
                    }
                }
            }
            _ => {
                d.joint = Some(match v % 5 {
                    0 => Joint::Raw("null".to_owned()),
                    1 => Joint::Raw("\"1,2\"".to_owned()),
                    2 => Joint::Raw("{\"0\": 1, \"1\": 2}".to_owned()),
                    3 => Joint::Raw("7".to_owned()),
                    _ => Joint::Array(vec!["1".to_owned(), "2".to_owned()]),
                })
            }
        },
        // association_type: null, mistyped, missing, or switched.
        7 => {
            d.assoc = match v % 8 {
                0 => Some("null".to_owned()),
                1 => Some("\"Individual\"".to_owned()),
                2 => Some("\" individual\"".to_owned()),
                3 => Some("1".to_owned()),
                4 => None,
                5 => Some("\"individual\"".to_owned()),
                6 => Some("\"tenants_in_common\"".to_owned()),
                _ => Some("\"joint_ownership\"".to_owned()),
            }
        }
        // Huge, tiny, negative and oddly spelled numbers.
        8 => {
            if let Some(i) = pick(d.owners.len()) {
                d.owners[i].1 = numbers[usize::from(v) % numbers.len()].to_owned();
            } else if let Some(Joint::Array(items)) = &mut d.joint {
                if let Some(i) = pick(items.len()) {
                    items[i] = numbers[usize::from(v) % numbers.len()].to_owned();
                }
            }
        }
        // Metadata keys, including ones that look reserved.
        9 => d.meta.push(match v % 4 {
            0 => ("note".to_owned(), "null".to_owned()),
            1 => ("joint_owners_note".to_owned(), "[1, 2]".to_owned()),
            2 => ("12a".to_owned(), "50".to_owned()),
            _ => (
                [" 12", "+5", "-1", "1.5", "1,000", "7 "][usize::from(v / 4) % 6].to_owned(),
                "50".to_owned(),
            ),
        }),
        // A repeated key (jsonb keeps the last).
        _ => {
            if let Some(i) = pick(d.owners.len()) {
                let (k, _) = d.owners[i].clone();
                d.owners.push((k, percent(i64::from(v) * 41 % 10_001)));
            } else {
                d.meta
                    .push(("association_type".to_owned(), "\"individual\"".to_owned()));
            }
        }
    }
}

fn document_text() -> impl Strategy<Value = String> {
    (
        valid_draft(),
        prop::collection::vec((0u8..11, any::<usize>(), any::<u8>()), 0..4),
    )
        .prop_map(|(mut d, muts)| {
            for (k, at, v) in muts {
                mutate(&mut d, k, at, v);
            }
            d.render()
        })
}

/// Every disagreement ever found, kept as a fixed regression case.
const REGRESSIONS: &str = include_str!("fixtures/differential_regressions.jsonl");

fn generated_documents(n: usize) -> Vec<Document> {
    let mut runner = TestRunner::new(Config::default());
    let strategy = document_text();
    let mut docs: Vec<Document> = REGRESSIONS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("//"))
        .map(|l| Document::parse(l).unwrap_or_else(|e| panic!("regression case {l}: {e}")))
        .collect();
    while docs.len() < n {
        let text = strategy.new_tree(&mut runner).unwrap().current();
        docs.push(Document::parse(&text).unwrap_or_else(|e| panic!("generated {text}: {e}")));
    }
    docs
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
    let docs = generated_documents(documents_per_run());
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

#[test]
fn rust_strict_agrees_with_the_shipped_sql() {
    let Some(mut db) = common::database("differential_strict") else {
        return;
    };
    coownership::pg::install(&mut db).unwrap();
    differential(
        &mut db,
        "SELECT i, ownership_strict_violations(d) FROM unnest($1::jsonb[]) WITH ORDINALITY AS u(d, i) ORDER BY i",
        |doc, row| {
            let sql: Vec<String> = row.get(1);
            let sql = codes_set(sql.iter().map(String::as_str));
            // SQL sees jsonb, which has no duplicate keys, and checks no sizes.
            let rust = match doc.validate(Rules::Strict) {
                Ok(()) => BTreeSet::new(),
                Err(v) => codes_set(
                    v.codes()
                        .filter(|c| !matches!(*c, "duplicate_key" | "document_too_large" | "document_too_deep")),
                ),
            };
            if rust == sql {
                Ok(rust.is_empty())
            } else {
                Err(format!("rust: {rust:?}\n    sql:  {sql:?}"))
            }
        },
    );
}

#[test]
fn rust_seed_agrees_with_the_seeds_own_check() {
    let Some(mut db) = common::database("differential_seed") else {
        return;
    };
    db.batch_execute(include_str!("fixtures/seed_check.sql"))
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
