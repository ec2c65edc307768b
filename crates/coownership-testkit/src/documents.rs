//! Generated ownership documents for the differential tests: valid ones of
//! every kind, near misses of each rule, every regression ever found, and
//! the documents at and past each limit.
#![allow(dead_code)]

use coownership::Document;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

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
                parts.push(format!("\"joint_owners\": [{}]", items.join(", ")));
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

// Long: one arm per kind of mutation, each a few lines; split up, the
// list of what the generator can do would no longer read in one place.
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
        "1e131071",
        "-1e-16383",
        "0e99999",
        "100.0000000000000000000000000000000000000",
    ];
    match kind {
        // A share ±0.01.
        0 => {
            if let Some(i) = pick(d.owners.len()) {
                if let Some(x) = d.owners[i].1.parse::<f64>().ok().filter(|x| x.abs() < 1e6) {
                    let bp = (x * 100.0).round() as i64 + if v.is_multiple_of(2) { 1 } else { -1 };
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
                        items[i] = format!("{}.0", items[i]);
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
                });
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
                SUSPECT_KEYS[usize::from(v / 4) % SUSPECT_KEYS.len()].to_owned(),
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
const REGRESSIONS: &str = include_str!("../fixtures/differential_regressions.jsonl");

/// Keys that look like owner ids and are not: signs, separators, and digits
/// with a Unicode space before or after (each White_Space code point that is
/// not ASCII), digits of other scripts, and, for contrast, keys that are
/// metadata (a zero-width space is not White_Space; `½` is not a decimal
/// digit).
const SUSPECT_KEYS: &[&str] = &[
    " 12",
    "+5",
    "-1",
    "1.5",
    "1,000",
    "7 ",
    "\u{85}12",
    "12\u{85}",
    "\u{a0}12",
    "12\u{a0}",
    "\u{1680}3",
    "\u{2000}4",
    "4\u{2007}",
    "\u{200a}5",
    "5\u{2028}",
    "\u{2029}6",
    "6\u{202f}",
    "\u{205f}7",
    "7\u{3000}",
    "\u{b}8",
    "8\u{c}",
    "١٢٣",
    "１２",
    "\u{200b}12",
    "12\u{feff}",
    "½",
    "٣.٥",
    "12\u{a0}34",
];

/// Documents at and just past each limit of `Limits::DEFAULT`: owners
/// (tenants in common and joint), nesting depth, and size as stored.
pub fn limit_documents() -> Vec<Document> {
    let tic = |n: usize| {
        // n owners: shares of 0.01 and one that makes the total 100.00.
        let mut s = String::from(r#"{"association_type":"tenants_in_common""#);
        for i in 1..n {
            s.push_str(&format!(r#","{i}":0.01"#));
        }
        let last = 10_000 - (n as i64 - 1);
        s.push_str(&format!(r#","{n}":{}.{:02}}}"#, last / 100, last % 100));
        s
    };
    let joint = |n: usize| {
        let ids: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        format!(
            r#"{{"association_type":"joint_ownership","joint_owners":[{}]}}"#,
            ids.join(",")
        )
    };
    let deep = |levels: usize| {
        format!(
            r#"{{"association_type":"individual","1":100,"note":{}{}}}"#,
            "[".repeat(levels - 1),
            "]".repeat(levels - 1)
        )
    };
    // A note that brings the stored size ({"1": 100, "note": "…", ...}) to n.
    let sized = |n: usize| {
        let base = r#"{"1": 100, "note": "", "association_type": "individual"}"#.len();
        format!(
            r#"{{"association_type":"individual","1":100,"note":"{}"}}"#,
            "x".repeat(n - base)
        )
    };
    let max = coownership::Limits::DEFAULT;
    [
        tic(max.max_owners),
        tic(max.max_owners + 1),
        joint(max.max_owners),
        joint(max.max_owners + 1),
        deep(max.max_depth),
        deep(max.max_depth + 1),
        sized(max.max_bytes),
        sized(max.max_bytes + 1),
        // Short in text, long once stored: 1e131071 prints 131,072 digits.
        format!(
            r#"{{"association_type":"individual","1":100,"n":[{}]}}"#,
            ["1e131071"; 4].join(",")
        ),
        format!(
            r#"{{"association_type":"individual","1":100,"n":[{}]}}"#,
            ["1e131071"; 3].join(",")
        ),
    ]
    .iter()
    .map(|t| Document::parse(t).unwrap_or_else(|e| panic!("limit case: {e}")))
    .collect()
}

pub fn generated_documents(n: usize) -> Vec<Document> {
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
