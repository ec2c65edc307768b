//! The core's modules form layers that only point down: each uses only the
//! modules `lib.rs` declares before it (the names it re-exports count as
//! their module's). So no module imports one that imports it back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Identifiers in `text`, in order.
fn identifiers(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The modules `lib.rs` declares, in order, and the module each re-exported
/// name comes from.
fn declared() -> (Vec<String>, BTreeMap<String, String>) {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let mut order = Vec::new();
    let mut exported = BTreeMap::new();
    for line in lib.lines().map(str::trim) {
        let line = line.strip_prefix("pub ").unwrap_or(line);
        if let Some(name) = line.strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) {
            order.push(name.to_owned());
        } else if let Some(path) = line.strip_prefix("use ") {
            let words = identifiers(path);
            if let Some((module, names)) = words.split_first() {
                for name in names {
                    exported.insert((*name).to_owned(), (*module).to_owned());
                }
            }
        }
    }
    (order, exported)
}

/// The source of a file without its tests and comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every name a file reaches through `crate::`: `crate::a::b` gives `a`,
/// `use crate::{A, b::C}` gives `A` and `b`.
fn crate_references(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                if let Some(first) = identifiers(item).first() {
                    found.push((*first).to_owned());
                }
            }
        } else if let Some(first) = identifiers(rest).first() {
            found.push((*first).to_owned());
        }
    }
    found
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layers_point_down() {
    let (order, exported) = declared();
    assert!(order.len() >= 10, "lib.rs declares {order:?}");
    let rank = |m: &str| order.iter().position(|o| o == m);
    let mut all = Vec::new();
    files(&src(), &mut all);
    let mut upward = Vec::new();
    for path in &all {
        let relative = path.strip_prefix(src()).unwrap();
        let top = relative.iter().next().unwrap().to_string_lossy();
        let module = top.trim_end_matches(".rs");
        if module == "lib" {
            continue;
        }
        let own = rank(module).unwrap_or_else(|| panic!("{module} is not declared in lib.rs"));
        for name in crate_references(&code(path)) {
            let target = if rank(&name).is_some() {
                name.clone()
            } else if let Some(m) = exported.get(&name) {
                m.clone()
            } else {
                continue;
            };
            if target != module && rank(&target).unwrap() > own {
                upward.push(format!(
                    "{} uses {name} (module {target})",
                    relative.display()
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "modules that reach up a layer (lib.rs declares the order):\n{}",
        upward.join("\n")
    );
}

/// The check sees what it must: a reference up a layer in a made-up file.
#[test]
fn the_layer_check_reads_references() {
    let code = "use crate::{Document, rules::Rules};\nfn f() { crate::sql::functions(\"x\"); }";
    assert_eq!(crate_references(code), ["Document", "rules", "sql"]);
}
