//! The `ownership` command-line tool: a thin layer over the library.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use ownership::{Document, Rules};
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "ownership",
    version,
    about = "Validate, split and migrate product ownership documents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate JSON Lines documents (one per line; blank lines skipped).
    ///
    /// Prints one JSON line per document: {"line":N,"valid":true} or
    /// {"line":N,"valid":false,"violations":[{"code":…,"key":…,"message":…}]}.
    /// Exit status: 0 when every document is valid, 1 when any is not, 2 on a
    /// usage or I/O error.
    Validate {
        /// The rule set.
        #[arg(long, value_enum, default_value_t = RulesArg::Strict)]
        rules: RulesArg,
        /// Input file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesArg {
    Strict,
    Seed,
}

impl From<RulesArg> for Rules {
    fn from(r: RulesArg) -> Rules {
        match r {
            RulesArg::Strict => Rules::Strict,
            RulesArg::Seed => Rules::Seed,
        }
    }
}

/// A failure that ends the command with exit status 2.
struct Fatal(String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { rules, file } => validate(rules.into(), file),
    };
    match result {
        Ok(code) => code,
        Err(Fatal(msg)) => {
            eprintln!("ownership: {msg}");
            ExitCode::from(2)
        }
    }
}

fn open_input(file: Option<PathBuf>) -> Result<Box<dyn BufRead>, Fatal> {
    match file {
        None => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) => {
            let f =
                File::open(&p).map_err(|e| Fatal(format!("cannot open {}: {e}", p.display())))?;
            Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
        }
    }
}

fn validate(rules: Rules, file: Option<PathBuf>) -> Result<ExitCode, Fatal> {
    let mut input = open_input(file)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut any_invalid = false;
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| Fatal(format!("cannot read input: {e}")))?;
        if n == 0 {
            break;
        }
        number += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let violations: Vec<serde_json::Value> = match Document::from_slice(text) {
            Err(e) => vec![json!({"code": e.code(), "key": "", "message": e.to_string()})],
            Ok(doc) => match doc.validate(rules) {
                Ok(()) => Vec::new(),
                Err(vs) => vs
                    .iter()
                    .map(|v| json!({"code": v.code().as_str(), "key": v.key(), "message": v.message()}))
                    .collect(),
            },
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
