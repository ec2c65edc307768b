//! Runs the built `coownership` binary on JSON Lines input.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coownership"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ownership binary runs");
    // The tool may exit (a usage error) before reading its input: a broken
    // pipe here is expected then, and the exit status tells the story.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["violations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["code"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

const MIXED: &[u8] = b"{\"association_type\": \"individual\", \"1\": 100.00}\n\
\n\
{\"association_type\": \"tenants_in_common\", \"1\": 50, \"2\": 60}\n\
this is not json\n\
   \n\
[1, 2]\n\
{\"association_type\": \"tenants_in_common\", \"1\": 33.335, \"2\": 66.665}\r\n\
\xff\xfe{}\n\
{\"association_type\": \"joint_ownership\", \"joint_owners\": [1, 2]}";

#[test]
fn validate_reports_every_line_and_goes_on() {
    let out = run(&["validate", "-"], MIXED);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results = lines(&out);
    let got: Vec<(u64, bool, Vec<String>)> = results
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["valid"].as_bool().unwrap(),
                codes(r),
            )
        })
        .collect();
    let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        vec![
            (1, true, vec![]),
            (3, false, s(&["total_not_100"])),
            (4, false, s(&["malformed_json"])),
            (6, false, s(&["not_an_object"])),
            (7, false, s(&["share_too_precise", "share_too_precise"])),
            (8, false, s(&["malformed_json"])),
            (9, true, vec![]),
        ]
    );
    // Valid lines carry nothing but the line number and the verdict.
    assert_eq!(results[0], serde_json::json!({"line": 1, "valid": true}));
    let v = &results[1]["violations"][0];
    assert_eq!(v["key"], "");
    assert!(v["message"].as_str().unwrap().contains("110.00"));
}

#[test]
fn seed_rules_are_selectable() {
    let out = run(&["validate", "--rules", "seed"], MIXED);
    assert_eq!(out.status.code(), Some(1));
    let valid: Vec<bool> = lines(&out)
        .iter()
        .map(|r| r["valid"].as_bool().unwrap())
        .collect();
    // 33.335 + 66.665 rounds to 100.01: inside the seed's window.
    assert_eq!(valid, [true, false, false, false, true, false, true]);
}

#[test]
fn exit_zero_when_all_valid_and_file_argument_works() {
    let dir = std::env::temp_dir().join(format!("coownership-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("good.jsonl");
    std::fs::write(
        &path,
        "{\"association_type\": \"individual\", \"7\": 100}\n{\"association_type\": \"joint_ownership\", \"joint_owners\": [1, 2]}\n",
    )
    .unwrap();
    let out = run(&["validate", path.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(lines(&out).len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn empty_input_is_valid_and_prints_nothing() {
    let out = run(&["validate"], b"\n\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn usage_and_io_errors_exit_2() {
    let out = run(&["validate", "/nonexistent/file.jsonl"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
    let out = run(&["validate", "--rules", "lenient"], b"");
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["frobnicate"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_shipped_example_file_gives_the_documented_verdicts() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/documents.jsonl"
    );
    let out = run(&["validate", path], b"");
    assert_eq!(out.status.code(), Some(1));
    let valid: Vec<(u64, bool)> = lines(&out)
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["valid"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        valid,
        [
            (1, true),
            (2, true),
            (3, true),
            (4, false),
            (5, false),
            (7, false),
            (8, false),
            (9, false),
            (10, false),
            (11, false)
        ]
    );
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn split_prints_the_canonical_document() {
    let out = run(&["split", "3"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "{\"association_type\":\"tenants_in_common\",\"1\":33.33,\"2\":33.33,\"3\":33.34}\n"
    );
    let out = run(&["split", "1"], b"");
    assert_eq!(
        stdout(&out),
        "{\"association_type\":\"individual\",\"1\":100.00}\n"
    );
    // With --owners the extra point goes to the last owner given, and N may be omitted.
    let out = run(&["split", "--owners", "30,10,20"], b"");
    assert_eq!(
        stdout(&out),
        "{\"association_type\":\"tenants_in_common\",\"10\":33.33,\"20\":33.34,\"30\":33.33}\n"
    );
    let out = run(&["split", "6", "--policy", "seed"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).ends_with("\"5\":16.67,\"6\":16.65}\n"));
}

#[test]
fn split_refuses_bad_requests_with_exit_2() {
    for args in [
        &["split", "0"][..],
        &["split", "10001"],
        &["split", "--owners", "1,2,1"],
        &["split", "155", "--policy", "seed"],
        &["split", "--owners", "1,abc"],
        &["split", "2", "--owners", "1,2,3"],
        &["split"],
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
    let out = run(&["split", "155", "--policy", "seed"], b"");
    assert!(String::from_utf8_lossy(&out.stderr).contains("155"));
}

#[test]
fn apportion_prints_parts_in_owner_order() {
    let doc = br#"{"association_type": "tenants_in_common", "3": 33.34, "1": 33.33, "2": 33.33}"#;
    let out = run(&["apportion", "--amount", "1000.00"], doc);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "[{\"owner\":1,\"amount\":\"333.30\"},{\"owner\":2,\"amount\":\"333.30\"},{\"owner\":3,\"amount\":\"333.40\"}]\n"
    );
    let out = run(
        &["apportion", "--amount", "-1", "--decimals", "0", "-"],
        doc,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "[{\"owner\":1,\"amount\":\"0\"},{\"owner\":2,\"amount\":\"0\"},{\"owner\":3,\"amount\":\"-1\"}]\n"
    );
}

#[test]
fn apportion_exit_codes() {
    let bad = br#"{"association_type": "tenants_in_common", "1": 50, "2": 60}"#;
    let out = run(&["apportion", "--amount", "10"], bad);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("total_not_100"));
    let out = run(&["apportion", "--amount", "10"], b"not json");
    assert_eq!(out.status.code(), Some(1));
    let good = br#"{"association_type": "individual", "1": 100}"#;
    for args in [
        &["apportion", "--amount", "1.001"][..],
        &["apportion", "--amount", "ten"],
        &["apportion", "--amount", "1_0.0_1"],
        &["apportion", "--amount", "+10"],
        &["apportion"],
        &["apportion", "--amount", "1", "--decimals", "40"],
    ] {
        let out = run(args, good);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn sql_prints_the_shipped_functions_and_the_constraint() {
    let out = run(&["sql"], b"");
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with(&coownership::sql::functions("public").unwrap()));
    assert!(text.contains(
        "CREATE OR REPLACE FUNCTION public.ownership_strict_violations(d pg_catalog.jsonb)"
    ));
    assert!(
        text.contains(&coownership::sql::check_constraint("client_products", "public").unwrap())
    );
    assert!(!text.contains("@extschema@"));

    // Another schema.
    let out = run(&["sql", "--schema", "portal"], b"");
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("CREATE OR REPLACE FUNCTION portal.ownership_is_valid_strict("));
    assert!(text.contains("CHECK (portal.ownership_is_valid_strict(ownership_details))"));
    assert!(!text.contains("public."));

    // A name that would need quoting (or smuggle SQL) is refused, with exit 2.
    for bad in ["Portal", "a;drop table x", "a b", ""] {
        let out = run(&["sql", "--schema", bad], b"");
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(out.stdout.is_empty(), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("invalid schema name"), "{bad:?}: {err}");
    }
}
