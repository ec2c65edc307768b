//! `coownership validate`: JSON Lines in, one verdict per line out.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use coownership::{Document, Rules};
use serde_json::json;

use super::input::open_input;
use crate::args::RulesArg;
use crate::Fatal;

/// The arguments of `coownership validate`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The rule set.
    #[arg(long, value_enum, default_value_t = RulesArg::Strict)]
    pub(crate) rules: RulesArg,
    /// Input file; `-` or nothing reads standard input.
    pub(crate) file: Option<PathBuf>,
}

/// Validates every line; exit status 1 when any document is invalid.
pub(crate) fn run(args: Args) -> Result<ExitCode, Fatal> {
    let rules: Rules = args.rules.into();
    let mut input = open_input(args.file)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut any_invalid = false;
    let limit = coownership::Limits::DEFAULT.max_bytes;
    loop {
        line.clear();
        let (n, too_long) = read_line_bounded(&mut input, &mut line, limit)
            .map_err(|e| Fatal(format!("cannot read input: {e}")))?;
        if n == 0 {
            break;
        }
        number += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if !too_long && text.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let violations: Vec<serde_json::Value> = if too_long {
            vec![json!({
                "code": coownership::ViolationCode::DocumentTooLarge.as_str(),
                "key": "",
                "message": format!("the line is longer than {limit} bytes; it was not read further"),
            })]
        } else {
            document_violations(text, rules)
        };
        let result = if violations.is_empty() {
            json!({"line": number, "valid": true})
        } else {
            any_invalid = true;
            json!({"line": number, "valid": false, "violations": violations})
        };
        writeln!(out, "{result}")?;
    }
    out.flush()?;
    Ok(if any_invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads one line (up to and including its newline) into `line`, keeping at
/// most `limit` bytes of it: past that, the rest of the line is read and
/// dropped, so memory stays bounded whatever the input. Returns the bytes
/// consumed (0 at the end) and whether the line was too long.
fn read_line_bounded(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    limit: usize,
) -> io::Result<(usize, bool)> {
    let (mut consumed, mut too_long) = (0, false);
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok((consumed, too_long));
        }
        let (n, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        // The newline and a carriage return do not count against the limit.
        if !too_long && line.len() + n > limit + 2 {
            too_long = true;
            line.clear();
        }
        if !too_long {
            line.extend_from_slice(&buf[..n]);
        }
        input.consume(n);
        consumed += n;
        if done {
            return Ok((consumed, too_long));
        }
    }
}

/// Every violation of one document under `rules`, as the JSON the CLI prints.
fn document_violations(text: &[u8], rules: Rules) -> Vec<serde_json::Value> {
    match Document::from_slice(text) {
        Err(e) => vec![json!({"code": e.code(), "key": "", "message": e.to_string()})],
        Ok(doc) => match doc.validate(rules) {
            Ok(()) => Vec::new(),
            Err(vs) => vs
                .iter()
                .map(|v| json!({"code": v.code().as_str(), "key": v.key(), "message": v.message()}))
                .collect(),
        },
    }
}
