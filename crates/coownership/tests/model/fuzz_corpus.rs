//! Replays the fuzz targets' committed corpus and every crash input ever
//! found (`fuzz/regressions/<target>/`) on the stable toolchain, with the
//! same checks the fuzz targets make (`fuzz/checks.rs`).

// The fuzz targets include the same file at their crate root, where its
// items must be `pub`.
#[allow(unreachable_pub)]
mod checks {
    include!("../../../../fuzz/checks.rs");
}

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut count = 0;
    for dir in [
        root.join("corpus").join(target),
        root.join("regressions").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                let data = std::fs::read(&path).unwrap();
                let result = std::panic::catch_unwind(|| check(&data));
                assert!(result.is_ok(), "{} fails its fuzz check", path.display());
                count += 1;
            }
        }
    }
    assert!(count > 0, "no corpus for {target}");
}

#[test]
fn parse_validate_corpus() {
    replay("parse_validate", checks::check_parse_validate);
}

#[test]
fn split_corpus() {
    replay("split", checks::check_split);
}

#[test]
fn apportion_corpus() {
    replay("apportion", checks::check_apportion);
}

#[test]
fn parse_amount_corpus() {
    replay("parse_amount", checks::check_parse_amount);
}
