//! Property tests for the model, the wire format and the rules.

use std::collections::BTreeSet;

use coownership::{Document, JointOwnership, OwnerId, Ownership, Rules, Share, TenantsInCommon};
use proptest::prelude::*;

fn owner_id() -> impl Strategy<Value = OwnerId> {
    prop_oneof![1i64..1000, 1i64..=i64::MAX].prop_map(|i| OwnerId::new(i).unwrap())
}

/// `n` positive basis-point shares totalling 10000, from `n - 1` distinct cuts.
fn partition(n: usize) -> impl Strategy<Value = Vec<u16>> {
    prop::collection::btree_set(1u16..10_000, n - 1).prop_map(|cuts| {
        let mut parts = Vec::with_capacity(cuts.len() + 1);
        let mut last = 0;
        for c in cuts.into_iter().chain([10_000]) {
            parts.push(c - last);
            last = c;
        }
        parts
    })
}

fn distinct_owners(n: usize) -> impl Strategy<Value = Vec<OwnerId>> {
    prop::collection::btree_set(owner_id(), n).prop_map(|s| s.into_iter().collect())
}

fn tenants() -> impl Strategy<Value = Vec<(OwnerId, Share)>> {
    (2usize..12).prop_flat_map(|n| {
        (distinct_owners(n), partition(n)).prop_map(|(ids, parts)| {
            ids.into_iter()
                .zip(parts)
                .map(|(o, p)| (o, Share::from_basis_points(p).unwrap()))
                .collect()
        })
    })
}

fn any_ownership() -> impl Strategy<Value = Ownership> {
    prop_oneof![
        owner_id().prop_map(Ownership::individual),
        tenants().prop_map(|t| TenantsInCommon::new(t).unwrap().into()),
        (2usize..8)
            .prop_flat_map(|n| distinct_owners(n).prop_shuffle())
            .prop_map(|ids| JointOwnership::new(ids).unwrap().into()),
    ]
}

/// A number spelled in one of the ways JSON allows.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..20_000).prop_map(|bp| format!("{}.{:02}", bp / 100, bp % 100)),
        (-200i64..20_000).prop_map(|v| v.to_string()),
        (0u32..200_000).prop_map(|v| format!("{}.{:03}", v / 1000, v % 1000)),
        (0u32..10_000, -3i32..4).prop_map(|(m, e)| format!("{m}e{e}")),
        Just("1e400".to_owned()),
        Just("-1e400".to_owned()),
        Just("1e-400".to_owned()),
        Just("-0".to_owned()),
        Just("9".repeat(60)),
    ]
}

fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => number_text(),
        1 => Just("null".to_owned()),
        1 => Just("true".to_owned()),
        1 => number_text().prop_map(|n| format!("\"{n}\"")),
        1 => Just("[1, 2]".to_owned()),
        1 => Just("{\"x\": [[{}]]}".to_owned()),
    ]
}

fn key_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (1u32..50).prop_map(|v| v.to_string()),
        1 => Just("007".to_owned()),
        1 => Just("0".to_owned()),
        1 => Just("99999999999999999999".to_owned()),
        1 => Just("note".to_owned()),
        1 => Just("joint_owners".to_owned()),
        1 => "[a-z ]{0,6}",
    ]
}

fn association_text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => Just(Some("\"individual\"".to_owned())),
        3 => Just(Some("\"tenants_in_common\"".to_owned())),
        3 => Just(Some("\"joint_ownership\"".to_owned())),
        1 => Just(Some("null".to_owned())),
        1 => Just(Some("\"Individual\"".to_owned())),
        1 => Just(Some("7".to_owned())),
        1 => Just(None),
    ]
}

fn joint_text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        2 => prop::collection::vec(prop_oneof![number_text(), Just("\"1\"".to_owned())], 0..5)
            .prop_map(|v| Some(format!("[{}]", v.join(",")))),
        1 => Just(Some("null".to_owned())),
        1 => Just(Some("\"1,2\"".to_owned())),
    ]
}

/// Object documents built from realistic and hostile pieces.
fn any_document_text() -> impl Strategy<Value = String> {
    (
        association_text(),
        prop::collection::vec((key_text(), value_text()), 0..6),
        joint_text(),
    )
        .prop_map(|(assoc, members, joint)| {
            let mut parts = Vec::new();
            if let Some(a) = assoc {
                parts.push(format!("\"association_type\": {a}"));
            }
            for (k, v) in members {
                parts.push(format!("{}: {v}", serde_json::Value::String(k)));
            }
            if let Some(j) = joint {
                parts.push(format!("\"joint_owners\": {j}"));
            }
            format!("{{{}}}", parts.join(", "))
        })
}

fn tic_json(shares: &[(u64, i64)]) -> String {
    let mut s = String::from(r#"{"association_type": "tenants_in_common""#);
    for (id, bp) in shares {
        let sign = if *bp < 0 { "-" } else { "" };
        s.push_str(&format!(
            r#", "{id}": {sign}{}.{:02}"#,
            bp.abs() / 100,
            bp.abs() % 100
        ));
    }
    s.push('}');
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn canonical_json_round_trips(o in any_ownership()) {
        let json = o.to_json();
        let doc = Document::parse(&json).unwrap();
        prop_assert_eq!(doc.to_ownership().unwrap(), o.clone());
        prop_assert_eq!(doc.to_canonical().unwrap(), json.clone());
        prop_assert!(doc.validate(Rules::Seed).is_ok());
        let via_serde: Ownership = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(via_serde, o);
    }

    #[test]
    fn documents_never_panic_and_strict_implies_seed(json in any_document_text()) {
        let doc = Document::parse(&json).unwrap();
        let strict = doc.validate(Rules::Strict);
        let seed = doc.validate(Rules::Seed);
        if strict.is_ok() {
            prop_assert!(seed.is_ok(), "strict accepts but seed rejects {}: {:?}", json, seed);
            // And what strict accepts reads back as the same typed value.
            let o = doc.to_ownership().unwrap();
            prop_assert_eq!(Ownership::parse(&o.to_json()).unwrap(), o);
        }
        if let Err(v) = strict {
            prop_assert!(!v.is_empty());
        }
    }

    #[test]
    fn arbitrary_json_values_never_panic(v in arbitrary_json()) {
        let text = v.to_string();
        if let Ok(doc) = Document::parse(&text) {
            let _ = doc.validate(Rules::Strict);
            let _ = doc.validate(Rules::Seed);
            prop_assert!(v.is_object());
            let from_value = Document::from_value(&v).unwrap();
            prop_assert_eq!(from_value.as_str(), text.as_str());
        } else {
            prop_assert!(!v.is_object());
        }
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,64}", bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(doc) = Document::parse(&s) {
            let _ = doc.validate(Rules::Strict);
            let _ = doc.validate(Rules::Seed);
        }
        if let Ok(doc) = Document::from_slice(&bytes) {
            let _ = doc.validate(Rules::Strict);
            let _ = doc.validate(Rules::Seed);
        }
    }

    #[test]
    fn whole_hundredths_totalling_100_are_accepted_and_any_nudge_is_not(
        (ids, parts) in (2usize..10).prop_flat_map(|n| (prop::collection::btree_set(1u64..10_000, n), partition(n))),
        which in any::<prop::sample::Index>(),
        up in any::<bool>(),
    ) {
        let ids: Vec<u64> = ids.into_iter().collect();
        let shares: Vec<(u64, i64)> = ids.iter().copied().zip(parts.iter().map(|&p| i64::from(p))).collect();
        let json = tic_json(&shares);
        let doc = Document::parse(&json).unwrap();
        prop_assert!(doc.validate(Rules::Strict).is_ok(), "{}", json);
        prop_assert!(doc.validate(Rules::Seed).is_ok(), "{}", json);

        let mut nudged = shares.clone();
        let i = which.index(nudged.len());
        nudged[i].1 += if up { 1 } else { -1 };
        let json = tic_json(&nudged);
        prop_assert!(Document::parse(&json).unwrap().validate(Rules::Strict).is_err(), "{}", json);
    }
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("association_type".to_owned()),
                        Just("joint_owners".to_owned()),
                        "[0-9]{1,3}",
                        "\\PC{0,6}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

#[test]
fn btree_set_of_ids_is_sorted_canonical_order() {
    // The canonical order of tenants is ascending id, whatever the input order.
    let a = OwnerId::new(2).unwrap();
    let b = OwnerId::new(10).unwrap();
    let half = Share::from_basis_points(5000).unwrap();
    let t = TenantsInCommon::new([(b, half), (a, half)]).unwrap();
    let order: BTreeSet<_> = t.shares().iter().map(|(o, _)| *o).collect();
    assert_eq!(
        t.shares().iter().map(|(o, _)| *o).collect::<Vec<_>>(),
        order.into_iter().collect::<Vec<_>>()
    );
    assert_eq!(
        Ownership::from(t).to_json(),
        r#"{"association_type":"tenants_in_common","2":50.00,"10":50.00}"#
    );
}
