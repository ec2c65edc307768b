//! One test per violation code, for each rule set that reports it, plus the
//! seed's own examples and the documents each rule set must accept.

use coownership::{Document, Limits, Rules, ViolationCode};

fn codes(rules: Rules, json: &str) -> Vec<&'static str> {
    let doc = Document::parse(json).unwrap_or_else(|e| panic!("{json}: {e}"));
    match doc.validate(rules) {
        Ok(()) => Vec::new(),
        Err(v) => v.codes().collect(),
    }
}

fn strict(json: &str) -> Vec<&'static str> {
    codes(Rules::Strict, json)
}

fn seed(json: &str) -> Vec<&'static str> {
    codes(Rules::Seed, json)
}

const NONE: [&str; 0] = [];

#[test]
fn the_wire_format_examples_are_valid_under_both() {
    for json in [
        r#"{"association_type": "individual", "123": 100.00}"#,
        r#"{"association_type": "tenants_in_common", "123": 33.33, "456": 33.33, "789": 33.34}"#,
        r#"{"association_type": "joint_ownership", "joint_owners": [123, 456]}"#,
        r#"{"association_type": "individual", "123": 100, "note": {"any": ["thing", 1.5]}}"#,
    ] {
        assert_eq!(strict(json), NONE, "{json}");
        assert_eq!(seed(json), NONE, "{json}");
    }
    // The migration's "no owners" document is a legacy shape: seed only.
    let none = r#"{"association_type": "individual", "note": "no_previous_ownership"}"#;
    assert_eq!(seed(none), NONE);
    assert_eq!(strict(none), ["individual_owner_count"]);
}

#[test]
fn seed_phase_5_constraint_testing_examples() {
    // seed, Phase 5 "Constraint Testing": 50/60 must be rejected ...
    let over = r#"{"association_type": "tenants_in_common", "123": 50.00, "456": 60.00}"#;
    assert_eq!(seed(over), ["total_not_100"]);
    assert_eq!(strict(over), ["total_not_100"]);
    // ... and 33.33/33.33/33.34 in either order accepted.
    for json in [
        r#"{"association_type": "tenants_in_common", "123": 33.33, "456": 33.33, "789": 33.34}"#,
        r#"{"association_type": "tenants_in_common", "123": 33.33, "456": 33.34, "789": 33.33}"#,
    ] {
        assert_eq!(seed(json), NONE);
        assert_eq!(strict(json), NONE);
    }
}

#[test]
fn missing_association_type() {
    assert_eq!(strict(r#"{"1": 100}"#), ["missing_association_type",]);
    assert_eq!(seed(r#"{"1": 100}"#), ["missing_association_type"]);
    assert_eq!(seed("{}"), ["missing_association_type"]);
}

#[test]
fn invalid_association_type() {
    for t in [
        r#""Individual""#,
        r#"" individual""#,
        r#""joint""#,
        "1",
        "true",
        "[]",
        "{}",
    ] {
        let json = format!(r#"{{"association_type": {t}, "1": 100}}"#);
        assert_eq!(strict(&json), ["invalid_association_type"], "{json}");
        assert_eq!(seed(&json), ["invalid_association_type"], "{json}");
    }
    // The seed's NULL loophole: strict closes it.
    let null = r#"{"association_type": null, "1": "x", "2": -5}"#;
    assert_eq!(seed(null), NONE);
    assert!(strict(null).contains(&"invalid_association_type"));
    // Escapes are decoded before comparing, as PostgreSQL's ->> does.
    let escaped = r#"{"association_type": "indiv\u0069dual", "1": 100}"#;
    assert_eq!(seed(escaped), NONE);
    assert_eq!(strict(escaped), NONE);
}

#[test]
fn duplicate_key() {
    let json = r#"{"association_type": "individual", "1": 50, "1": 100}"#;
    assert_eq!(strict(json), ["duplicate_key"]);
    // jsonb keeps the last value, and so does the seed.
    assert_eq!(seed(json), NONE);
    let json = r#"{"association_type": "individual", "1": 100, "1": 50}"#;
    assert_eq!(strict(json), ["duplicate_key", "individual_share_not_100"]);
}

#[test]
fn non_canonical_owner_key() {
    for key in ["007", "0", "9223372036854775808", "00"] {
        let json = format!(r#"{{"association_type": "tenants_in_common", "{key}": 50, "2": 50}}"#);
        assert_eq!(strict(&json), ["non_canonical_owner_key"], "{json}");
        assert_eq!(seed(&json), NONE, "{json}");
    }
    // "007" and "7" are two different keys to the seed.
    let json = r#"{"association_type": "individual", "007": 100, "7": 100}"#;
    assert_eq!(seed(json), ["individual_owner_count"]);
    assert_eq!(
        strict(r#"{"association_type": "individual", "9223372036854775807": 100}"#),
        NONE
    );
}

#[test]
fn malformed_owner_key() {
    for key in ["+12", " 12", "12 ", "-1", "1.5", "1,000", "١٢٣", "１２"] {
        let json = format!(
            r#"{{"association_type": "individual", "1": 100, {}: 5}}"#,
            serde_json::Value::String(key.into())
        );
        assert_eq!(strict(&json), ["malformed_owner_key"], "{json}");
        assert_eq!(seed(&json), NONE, "{json}");
    }
    // Keys with letters are metadata.
    for key in ["12a", "note", "v2", "+", " "] {
        let json = format!(
            r#"{{"association_type": "individual", "1": 100, {}: 5}}"#,
            serde_json::Value::String(key.into())
        );
        assert_eq!(strict(&json), NONE, "{json}");
    }
}

#[test]
fn share_not_a_number() {
    for v in [r#""50""#, "null", "true", "[50]", r#"{"v": 50}"#] {
        let json = format!(r#"{{"association_type": "tenants_in_common", "1": {v}, "2": 50}}"#);
        assert_eq!(strict(&json), ["share_not_a_number"], "{json}");
        assert_eq!(seed(&json), ["share_not_a_number"], "{json}");
    }
    // The seed never looks at an individual's value.
    let json = r#"{"association_type": "individual", "1": "all of it"}"#;
    assert_eq!(seed(json), NONE);
    assert_eq!(strict(json), ["share_not_a_number"]);
}

#[test]
fn share_not_positive() {
    for v in ["0", "-0", "0.00", "-10", "-0.001"] {
        let json = format!(r#"{{"association_type": "tenants_in_common", "1": {v}, "2": 100}}"#);
        assert_eq!(strict(&json), ["share_not_positive"], "{json}");
    }
}

#[test]
fn share_negative() {
    let json = r#"{"association_type": "tenants_in_common", "1": -10, "2": 110}"#;
    assert_eq!(seed(json), ["share_negative", "share_above_100"]);
    // -0.004 rounds to 0.00, which the seed accepts.
    let json = r#"{"association_type": "tenants_in_common", "1": -0.004, "2": 100}"#;
    assert_eq!(seed(json), NONE);
    let json = r#"{"association_type": "tenants_in_common", "1": -0.005, "2": 100}"#;
    assert_eq!(seed(json), ["share_negative"]);
}

#[test]
fn share_above_100() {
    for v in ["100.01", "1e400", "1000", "100.001"] {
        let json = format!(r#"{{"association_type": "tenants_in_common", "1": {v}, "2": 1}}"#);
        assert_eq!(strict(&json), ["share_above_100"], "{json}");
    }
    let json = r#"{"association_type": "tenants_in_common", "1": 100.006}"#;
    assert_eq!(seed(json), ["share_above_100"]);
    // 100.004 rounds to 100.00: the seed accepts it, strict does not.
    let json = r#"{"association_type": "tenants_in_common", "1": 100.004}"#;
    assert_eq!(seed(json), NONE);
    assert_eq!(strict(json), ["share_above_100", "too_few_owners"]);
}

#[test]
fn share_too_precise() {
    let json = r#"{"association_type": "tenants_in_common", "1": 33.335, "2": 66.665}"#;
    assert_eq!(strict(json), ["share_too_precise", "share_too_precise"]);
    assert_eq!(seed(json), NONE); // 33.34 + 66.67 = 100.01, inside the window
    let json = r#"{"association_type": "tenants_in_common", "1": 1e-400, "2": 100}"#;
    assert_eq!(strict(json), ["share_too_precise"]);
    // Exact values in unusual spellings are fine.
    let json = r#"{"association_type": "tenants_in_common", "1": 0.5e2, "2": 50.000}"#;
    assert_eq!(strict(json), NONE);
}

#[test]
fn individual_owner_count() {
    let two = r#"{"association_type": "individual", "1": 50, "2": 50}"#;
    assert_eq!(strict(two), ["individual_owner_count"]);
    assert_eq!(seed(two), ["individual_owner_count"]);
    let none = r#"{"association_type": "individual"}"#;
    assert_eq!(strict(none), ["individual_owner_count"]);
    assert_eq!(seed(none), NONE);
}

#[test]
fn individual_share_not_100() {
    let json = r#"{"association_type": "individual", "1": 99.99}"#;
    assert_eq!(strict(json), ["individual_share_not_100"]);
    assert_eq!(seed(json), NONE);
}

#[test]
fn too_few_owners() {
    let one = r#"{"association_type": "tenants_in_common", "1": 100}"#;
    assert_eq!(strict(one), ["too_few_owners"]);
    assert_eq!(seed(one), NONE);
    let none = r#"{"association_type": "tenants_in_common", "note": 1}"#;
    assert_eq!(strict(none), ["too_few_owners"]);
    assert_eq!(seed(none), ["too_few_owners"]);
    let joint = r#"{"association_type": "joint_ownership", "joint_owners": [1]}"#;
    assert_eq!(strict(joint), ["too_few_owners"]);
    assert_eq!(seed(joint), ["too_few_owners"]);
}

#[test]
fn total_not_100() {
    let json = r#"{"association_type": "tenants_in_common", "1": 50, "2": 49.99}"#;
    assert_eq!(strict(json), ["total_not_100"]);
    assert_eq!(seed(json), NONE); // 99.99 is inside the seed's window
    let json = r#"{"association_type": "tenants_in_common", "1": 50, "2": 49.98}"#;
    assert_eq!(seed(json), ["total_not_100"]);
    let json = r#"{"association_type": "tenants_in_common", "1": 50, "2": 50.02}"#;
    assert_eq!(seed(json), ["total_not_100"]);
}

#[test]
fn unexpected_joint_owners() {
    let json = r#"{"association_type": "individual", "1": 100, "joint_owners": [1, 2]}"#;
    assert_eq!(strict(json), ["unexpected_joint_owners"]);
    assert_eq!(seed(json), NONE);
    let json = r#"{"association_type": "tenants_in_common", "1": 50, "2": 50, "joint_owners": []}"#;
    assert_eq!(strict(json), ["unexpected_joint_owners"]);
}

#[test]
fn missing_joint_owners() {
    let json = r#"{"association_type": "joint_ownership"}"#;
    assert_eq!(strict(json), ["missing_joint_owners"]);
    assert_eq!(seed(json), ["missing_joint_owners"]);
}

#[test]
fn joint_owners_not_array() {
    for v in ["null", "1", r#""1,2""#, r#"{"0": 1, "1": 2}"#] {
        let json = format!(r#"{{"association_type": "joint_ownership", "joint_owners": {v}}}"#);
        assert_eq!(strict(&json), ["joint_owners_not_array"], "{json}");
        assert_eq!(seed(&json), ["joint_owners_not_array"], "{json}");
    }
}

#[test]
fn invalid_joint_owner() {
    let json = r#"{"association_type": "joint_ownership", "joint_owners": [1, "2", 0, -3, 1.5, null, 9223372036854775808]}"#;
    assert_eq!(strict(json), ["invalid_joint_owner"; 6]);
    assert_eq!(seed(json), NONE); // the seed never looks at the elements
    let keys: Vec<String> = Document::parse(json)
        .unwrap()
        .validate(Rules::Strict)
        .unwrap_err()
        .iter()
        .map(|v| v.key().to_owned())
        .collect();
    assert_eq!(keys[0], "joint_owners[1]");
    // Integers are judged by value: 2.0 is owner 2.
    let json = r#"{"association_type": "joint_ownership", "joint_owners": [1, 2.0]}"#;
    assert_eq!(strict(json), NONE);
}

#[test]
fn duplicate_joint_owner() {
    let json = r#"{"association_type": "joint_ownership", "joint_owners": [5, 6, 5]}"#;
    assert_eq!(strict(json), ["duplicate_joint_owner"]);
    assert_eq!(seed(json), NONE);
}

#[test]
fn unexpected_share() {
    let json = r#"{"association_type": "joint_ownership", "joint_owners": [5, 6], "5": 50}"#;
    assert_eq!(strict(json), ["unexpected_share"]);
    assert_eq!(seed(json), NONE);
}

#[test]
fn document_too_large() {
    let note = "x".repeat(Limits::DEFAULT.max_bytes);
    let json = format!(r#"{{"association_type": "individual", "1": 100, "note": "{note}"}}"#);
    assert_eq!(strict(&json), ["document_too_large"]);
    assert_eq!(seed(&json), NONE);
}

#[test]
fn too_many_owners() {
    let limits = Limits {
        max_owners: 2,
        ..Limits::default()
    };
    let doc = Document::parse(
        r#"{"association_type": "tenants_in_common", "1": 33.33, "2": 33.33, "3": 33.34}"#,
    )
    .unwrap();
    let v = doc.validate_with(Rules::Strict, &limits).unwrap_err();
    assert_eq!(v.codes().collect::<Vec<_>>(), ["too_many_owners"]);
    let doc =
        Document::parse(r#"{"association_type": "joint_ownership", "joint_owners": [1, 2, 3]}"#)
            .unwrap();
    let v = doc.validate_with(Rules::Strict, &limits).unwrap_err();
    assert_eq!(v.codes().collect::<Vec<_>>(), ["too_many_owners"]);
    assert!(doc.validate_with(Rules::Seed, &limits).is_ok());
}

#[test]
fn every_code_is_documented_and_round_trips() {
    for &code in ViolationCode::ALL {
        assert_eq!(ViolationCode::from_code(code.as_str()), Some(code));
        assert!(code
            .as_str()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit()));
    }
    let readme = include_str!("../../README.md");
    for &code in ViolationCode::ALL {
        assert!(
            readme.contains(&format!("`{}`", code.as_str())),
            "{code} missing from README"
        );
    }
}

#[test]
fn all_violations_are_reported_not_the_first() {
    let json = r#"{"association_type": "individual", "007": "x", "2": 5, "joint_owners": 1, "note": 1, "note": 2}"#;
    assert_eq!(
        strict(json),
        [
            "duplicate_key",
            "non_canonical_owner_key",
            "share_not_a_number",
            "unexpected_joint_owners",
            "individual_owner_count"
        ]
    );
}

#[test]
fn metadata_survives_and_canonical_form_is_fixed() {
    let doc = Document::parse(
        r#" { "note" : [1, {"a": 2}], "789": 33.34, "association_type": "tenants_in_common", "123": 33.33, "456": 33.330 } "#,
    )
    .unwrap();
    assert_eq!(
        doc.to_canonical().unwrap(),
        r#"{"association_type":"tenants_in_common","123":33.33,"456":33.33,"789":33.34,"note":[1, {"a": 2}]}"#
    );
    assert_eq!(
        doc.metadata().collect::<Vec<_>>(),
        [("note", r#"[1, {"a": 2}]"#)]
    );
    let again = Document::parse(doc.as_str()).unwrap();
    assert_eq!(again, doc);
}

#[test]
fn serde_goes_through_the_exact_text() {
    let json = r#"[{"association_type": "individual", "1": 100.000, "note": [1.10]}, {"association_type": "joint_ownership", "joint_owners": [2, 3]}]"#;
    let docs: Vec<Document> = serde_json::from_str(json).unwrap();
    assert_eq!(docs[0].get("1"), Some("100.000"));
    assert_eq!(docs[0].get("note"), Some("[1.10]"));
    assert_eq!(
        serde_json::to_string(&docs).unwrap(),
        r#"[{"association_type": "individual", "1": 100.000, "note": [1.10]},{"association_type": "joint_ownership", "joint_owners": [2, 3]}]"#
    );
    let owned: Vec<coownership::Ownership> = serde_json::from_str(json).unwrap();
    assert_eq!(
        serde_json::to_string(&owned).unwrap(),
        r#"[{"association_type":"individual","1":100.00},{"association_type":"joint_ownership","joint_owners":[2,3]}]"#
    );
    // A number too precise for f64 is still judged exactly.
    let err = serde_json::from_str::<coownership::Ownership>(
        r#"{"association_type": "individual", "1": 100.0000000000000000001}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("share_above_100"), "{err}");
    let err =
        serde_json::from_str::<coownership::Ownership>(r#"{"association_type": "x"}"#).unwrap_err();
    assert!(
        err.to_string().contains("invalid_association_type"),
        "{err}"
    );
}

/// PostgreSQL 18 casts a jsonb `null` to a NULL numeric: in the seed's
/// function a null share then makes the running total, and the final total
/// check, NULL (which a CHECK lets through); every other clause still holds.
#[test]
fn seed_pg18_differs_from_seed_only_on_null_shares() {
    let pg18 = |json: &str| codes(Rules::SeedPg18, json);
    for (json, before_18, from_18) in [
        // A null share: an error up to 17, no total check from 18.
        (
            r#"{"association_type": "tenants_in_common", "1": null, "2": 40}"#,
            vec!["share_not_a_number"],
            vec![],
        ),
        // Only null shares: still owners, so not "too few".
        (
            r#"{"association_type": "tenants_in_common", "1": null}"#,
            vec!["share_not_a_number"],
            vec![],
        ),
        // Another share out of range still rejects.
        (
            r#"{"association_type": "tenants_in_common", "1": null, "2": 140}"#,
            vec!["share_not_a_number", "share_above_100"],
            vec!["share_above_100"],
        ),
        // A string share is an error on every version.
        (
            r#"{"association_type": "tenants_in_common", "1": null, "2": "50"}"#,
            vec!["share_not_a_number", "share_not_a_number"],
            vec!["share_not_a_number"],
        ),
        // No null: the same verdict.
        (
            r#"{"association_type": "tenants_in_common", "1": 50, "2": 40}"#,
            vec!["total_not_100"],
            vec!["total_not_100"],
        ),
        // An individual's value is never cast.
        (
            r#"{"association_type": "individual", "1": null}"#,
            vec![],
            vec![],
        ),
    ] {
        assert_eq!(seed(json), before_18, "seed: {json}");
        assert_eq!(pg18(json), from_18, "seed-pg18: {json}");
    }
    assert_eq!("seed-pg18".parse::<Rules>(), Ok(Rules::SeedPg18));
    assert_eq!(Rules::SeedPg18.as_str(), "seed-pg18");
}
