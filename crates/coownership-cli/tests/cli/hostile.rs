//! Hostile input: every case gets a specific violation code or a parse error,
//! never a panic, a stack overflow, or memory out of proportion to the input;
//! and the CLI answers every line and goes on.

use coownership::{Document, Rules};

/// What a case must give under the strict rules.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// A parse error with this code (`malformed_json` or `not_an_object`).
    Parse(&'static str),
    /// Valid.
    Valid,
    /// Invalid, with (at least) this violation code.
    Violation(&'static str),
}
use Verdict::*;

fn individual(share: &str) -> Vec<u8> {
    format!(r#"{{"association_type":"individual","1":{share}}}"#).into_bytes()
}

fn with_key(key: &str) -> Vec<u8> {
    format!(
        r#"{{"association_type":"individual","1":100,{}:1}}"#,
        serde_json::Value::String(key.into())
    )
    .into_bytes()
}

/// A valid individual document whose metadata nests `levels` arrays deep
/// (the document is one level more).
fn nested(levels: usize) -> Vec<u8> {
    format!(
        r#"{{"association_type":"individual","1":100,"note":{}{}}}"#,
        "[".repeat(levels),
        "]".repeat(levels)
    )
    .into_bytes()
}

/// Every case as one line of bytes (no newline inside), with its verdict.
fn cases() -> Vec<(&'static str, Vec<u8>, Verdict)> {
    let many_owners = {
        let mut s = String::from(r#"{"association_type":"tenants_in_common""#);
        for i in 1..=100_000 {
            s.push_str(&format!(r#","{i}":0.01"#));
        }
        s.push('}');
        s.into_bytes()
    };
    let deep = format!(
        r#"{{"association_type":"individual","1":100,"note":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    )
    .into_bytes();
    let huge = format!(
        r#"{{"association_type":"individual","1":100,"note":"{}"}}"#,
        "x".repeat(1_000_000)
    )
    .into_bytes();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&individual("100"));
    vec![
        (
            "not JSON",
            b"this is not json".to_vec(),
            Parse("malformed_json"),
        ),
        (
            "truncated",
            br#"{"association_type":"individual","1":100"#.to_vec(),
            Parse("malformed_json"),
        ),
        (
            "trailing comma",
            br#"{"association_type":"individual","1":100,}"#.to_vec(),
            Parse("malformed_json"),
        ),
        ("a JSON array", b"[1,2]".to_vec(), Parse("not_an_object")),
        (
            "a JSON string",
            br#""individual""#.to_vec(),
            Parse("not_an_object"),
        ),
        ("a JSON number", b"100".to_vec(), Parse("not_an_object")),
        ("JSON null", b"null".to_vec(), Parse("not_an_object")),
        (
            "invalid UTF-8",
            b"{\"association_type\":\"individual\",\"1\":100,\"n\":\"\xff\xfe\"}".to_vec(),
            Parse("malformed_json"),
        ),
        ("a byte-order mark", bom, Parse("malformed_json")),
        (
            "a lone surrogate",
            br#"{"association_type":"individual","1":100,"n":"\ud800"}"#.to_vec(),
            Parse("malformed_json"),
        ),
        (
            "a raw control character",
            b"{\"association_type\":\"individual\",\"1\":100,\"n\":\"a\x01b\"}".to_vec(),
            Parse("malformed_json"),
        ),
        ("a 1 MB document", huge, Violation("document_too_large")),
        (
            "100,000 owner keys",
            many_owners,
            Violation("too_many_owners"),
        ),
        // jsonb cannot store these, so no rule set may accept them.
        (
            "metadata nested 100,000 deep (beyond what PostgreSQL parses)",
            deep,
            Parse("document_too_deep"),
        ),
        (
            "metadata nested 1,000 deep (the most parsed)",
            nested(999),
            Violation("document_too_deep"),
        ),
        (
            "metadata nested 1,001 deep",
            nested(1000),
            Parse("document_too_deep"),
        ),
        (
            "\\u0000 in a string",
            br#"{"association_type":"individual","1":100,"n":"a\u0000b"}"#.to_vec(),
            Parse("nul_character"),
        ),
        (
            "\\u0000 in a key",
            br#"{"association_type":"individual","1":100,"\u0000":1}"#.to_vec(),
            Parse("nul_character"),
        ),
        (
            "1e999999",
            individual("1e999999"),
            Parse("number_out_of_range"),
        ),
        (
            "1e131072",
            individual("1e131072"),
            Parse("number_out_of_range"),
        ),
        (
            "1e-16384",
            individual("1e-16384"),
            Parse("number_out_of_range"),
        ),
        (
            "0e-99999 (a zero PostgreSQL cannot scale)",
            individual("0e-99999"),
            Parse("number_out_of_range"),
        ),
        (
            "1e999999 in metadata",
            br#"{"association_type":"individual","1":100,"n":[1e999999]}"#.to_vec(),
            Parse("number_out_of_range"),
        ),
        ("1e400", individual("1e400"), Violation("share_above_100")),
        ("-0", individual("-0"), Violation("share_not_positive")),
        (
            "1e-400",
            individual("1e-400"),
            Violation("share_too_precise"),
        ),
        ("0.1e3 (exactly 100)", individual("0.1e3"), Valid),
        (
            "a 500-digit number",
            individual(&"7".repeat(500)),
            Violation("share_above_100"),
        ),
        (
            "a 500-digit fraction",
            individual(&format!("0.{}", "3".repeat(499))),
            Violation("share_too_precise"),
        ),
        (
            "a 40-digit owner key",
            format!(
                r#"{{"association_type":"individual","{}":100}}"#,
                "1".repeat(40)
            )
            .into_bytes(),
            Violation("non_canonical_owner_key"),
        ),
        ("NaN", individual("NaN"), Parse("malformed_json")),
        ("Infinity", individual("Infinity"), Parse("malformed_json")),
        (
            "-Infinity",
            individual("-Infinity"),
            Parse("malformed_json"),
        ),
        (
            "\"NaN\" as a string",
            individual(r#""NaN""#),
            Violation("share_not_a_number"),
        ),
        (
            "a string share",
            individual(r#""100""#),
            Violation("share_not_a_number"),
        ),
        (
            "a boolean share",
            individual("true"),
            Violation("share_not_a_number"),
        ),
        (
            "an array share",
            individual("[100]"),
            Violation("share_not_a_number"),
        ),
        (
            "an object share",
            individual(r#"{"value":100}"#),
            Violation("share_not_a_number"),
        ),
        (
            "a null share",
            individual("null"),
            Violation("share_not_a_number"),
        ),
        (
            "the same key twice",
            br#"{"association_type":"individual","1":100,"1":100}"#.to_vec(),
            Violation("duplicate_key"),
        ),
        (
            "association_type twice",
            br#"{"association_type":"individual","association_type":"individual","1":100}"#
                .to_vec(),
            Violation("duplicate_key"),
        ),
        (
            "a key with a space",
            with_key(" 12"),
            Violation("malformed_owner_key"),
        ),
        (
            "a key with a plus sign",
            with_key("+12"),
            Violation("malformed_owner_key"),
        ),
        (
            "a key with a minus sign",
            with_key("-12"),
            Violation("malformed_owner_key"),
        ),
        (
            "a key of Arabic-Indic digits",
            with_key("١٢٣"),
            Violation("malformed_owner_key"),
        ),
        (
            "a key of fullwidth digits",
            with_key("１２３"),
            Violation("malformed_owner_key"),
        ),
        (
            "association_type upper case",
            br#"{"association_type":"INDIVIDUAL","1":100}"#.to_vec(),
            Violation("invalid_association_type"),
        ),
        (
            "association_type padded",
            br#"{"association_type":" individual ","1":100}"#.to_vec(),
            Violation("invalid_association_type"),
        ),
        (
            "association_type null",
            br#"{"association_type":null,"1":100}"#.to_vec(),
            Violation("invalid_association_type"),
        ),
    ]
}

fn verdict(bytes: &[u8]) -> Result<Vec<&'static str>, &'static str> {
    let doc = Document::from_slice(bytes).map_err(|e| e.code())?;
    // Both rule sets run on everything; neither may panic.
    let _ = doc.validate(Rules::Seed);
    Ok(match doc.validate(Rules::Strict) {
        Ok(()) => Vec::new(),
        Err(v) => v.codes().collect(),
    })
}

#[test]
fn every_hostile_input_gets_a_specific_answer() {
    for (name, bytes, want) in cases() {
        let got = verdict(&bytes);
        match (&want, &got) {
            (Parse(code), Err(got)) => assert_eq!(code, got, "{name}"),
            (Valid, Ok(codes)) => assert!(codes.is_empty(), "{name}: {codes:?}"),
            (Violation(code), Ok(codes)) => assert!(codes.contains(code), "{name}: {codes:?}"),
            _ => panic!("{name}: expected {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn empty_input_is_a_parse_error() {
    for input in [&b""[..], b"   ", b"\n"] {
        let err = Document::from_slice(input).unwrap_err();
        assert_eq!(err.code(), "malformed_json");
        assert_eq!(
            err.to_string(),
            "empty input at byte 0".replace("byte 0", &format!("byte {}", err.offset()))
        );
    }
}

#[test]
fn the_cli_answers_every_hostile_line_and_goes_on() {
    use std::process::Command;

    let cases = cases();
    let dir = std::env::temp_dir().join(format!("coownership-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hostile.jsonl");
    let mut input = Vec::new();
    for (_, bytes, _) in &cases {
        input.extend_from_slice(bytes);
        input.push(b'\n');
    }
    std::fs::write(&path, &input).unwrap();
    // Peak memory too: /usr/bin/time is part of Debian's base system here;
    // without it, run the tool directly.
    let time = std::path::Path::new("/usr/bin/time").exists();
    let mut cmd = if time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-v").arg(env!("CARGO_BIN_EXE_coownership"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_coownership"))
    };
    let out = cmd.arg("validate").arg(&path).output().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cases.len(), "one result line per input line");
    for (i, ((name, bytes, want), line)) in cases.iter().zip(&lines).enumerate() {
        assert_eq!(line["line"], i + 1, "{name}");
        let codes: Vec<&str> = line["violations"]
            .as_array()
            .map(|a| a.iter().map(|v| v["code"].as_str().unwrap()).collect())
            .unwrap_or_default();
        // The CLI reads no line past the size limit: such a line gets that answer alone.
        if bytes.len() > coownership::Limits::DEFAULT.max_bytes {
            assert_eq!(codes, ["document_too_large"], "{name}");
            continue;
        }
        match want {
            Valid => assert_eq!(line["valid"], true, "{name}"),
            Parse(code) | Violation(code) => assert!(codes.contains(code), "{name}: {codes:?}"),
        }
    }
    if time {
        let kb = peak_kb(&out.stderr);
        // The input is about 3.4 MB; allow generous headroom, but a copy per
        // nesting level or per owner would blow far past it.
        assert!(
            kb < 64 * 1024,
            "peak memory {kb} kB for {} bytes of input",
            input.len()
        );
    }
}

/// A line far past `Limits::max_bytes` is answered `document_too_large` and
/// not kept in memory; the next line is read as usual, under either rules.
#[test]
fn validate_memory_is_bounded_whatever_the_line_length() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    assert!(
        std::path::Path::new("/usr/bin/time").exists(),
        "/usr/bin/time measures the peak memory (.ci/run installs it)"
    );
    for rules in ["strict", "seed"] {
        let mut child = Command::new("/usr/bin/time")
            .arg("-v")
            .arg(env!("CARGO_BIN_EXE_coownership"))
            .args(["validate", "--rules", rules, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            // A 200 MB line: an object with one long string of metadata.
            stdin
                .write_all(b"{\"association_type\": \"individual\", \"1\": 100, \"note\": \"")
                .unwrap();
            let block = vec![b'x'; 1 << 20];
            for _ in 0..200 {
                stdin.write_all(&block).unwrap();
            }
            stdin.write_all(b"\"}\n").unwrap();
            stdin
                .write_all(br#"{"association_type": "individual", "1": 100}"#)
                .unwrap();
            stdin.write_all(b"\n").unwrap();
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{stdout}");
        assert_eq!(
            lines[0]["violations"][0]["code"], "document_too_large",
            "{rules}"
        );
        assert_eq!(lines[1]["valid"], true, "{rules}: {stdout}");
        let kb = peak_kb(&out.stderr);
        assert!(
            kb < 32 * 1024,
            "{rules}: peak memory {kb} kB for a 200 MB line"
        );
    }
}

/// The peak memory `/usr/bin/time -v` reports on standard error, in kB.
fn peak_kb(stderr: &[u8]) -> u64 {
    String::from_utf8_lossy(stderr)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("peak memory from /usr/bin/time")
}
