//! Validates JSON Lines documents under both rule sets and prints each
//! verdict with its violation codes.
//!
//! ```sh
//! cargo run -p coownership --example validate                 # the repository's examples/documents.jsonl
//! cargo run -p coownership --example validate -- my_rows.jsonl
//! ```

use std::error::Error;
use std::path::PathBuf;

use coownership::{Document, Rules};

fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/documents.jsonl"),
        PathBuf::from,
    );
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let verdict = |rules: Rules| match Document::parse(line) {
            Err(e) => format!("not a document ({})", e.code()),
            Ok(doc) => match doc.validate(rules) {
                Ok(()) => "valid".to_owned(),
                Err(violations) => violations.codes().collect::<Vec<_>>().join(", "),
            },
        };
        println!(
            "line {:>2}: strict: {:<40} seed: {}",
            number + 1,
            verdict(Rules::Strict),
            verdict(Rules::Seed)
        );
    }
    Ok(())
}
