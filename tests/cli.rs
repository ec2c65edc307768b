//! Runs the built `ownership` binary on JSON Lines input.
#![cfg(feature = "cli")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ownership"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ownership binary runs");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
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
    let dir = std::env::temp_dir().join(format!("ownership-cli-{}", std::process::id()));
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
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/documents.jsonl");
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
