//! Ratios from criterion's own measurements: after a group has run, each
//! function's median beside a baseline's, from the estimates criterion
//! writes (`<criterion home>/<group>/<function>/new/estimates.json`). The
//! benches report these ratios, never lone times.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

static STARTED: OnceLock<SystemTime> = OnceLock::new();

/// Whether criterion measures (`cargo bench`), rather than running each
/// function once (`cargo test --benches`, `--test`).
pub fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench") && !std::env::args().any(|a| a == "--test")
}

/// The products a bench works on: `COOWNERSHIP_BENCH_ROWS`, else `measured`
/// when criterion measures and `tried` when it only runs each function once.
pub fn rows(measured: u64, tried: u64) -> u64 {
    std::env::var("COOWNERSHIP_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring() { measured } else { tried })
}

/// Marks the start of a bench run: estimates written before it (by an
/// earlier run, for a group this run filtered out) are not reported.
pub fn start() {
    STARTED.get_or_init(SystemTime::now);
}

/// Where criterion writes its estimates, found the way criterion finds it:
/// `CRITERION_HOME`, else `CARGO_TARGET_DIR/criterion`, else the
/// workspace's `target/criterion`.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion")
}

/// The median criterion measured for `function` of `group` in this run, if
/// it measured one (not in `--test` mode).
pub fn median(group: &str, function: &str) -> Option<Duration> {
    let path = criterion_home()
        .join(group)
        .join(function)
        .join("new/estimates.json");
    if let Some(started) = STARTED.get() {
        let written = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
        if written < *started {
            return None;
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    let nanos = estimates["median"]["point_estimate"].as_f64()?;
    Some(Duration::from_secs_f64(nanos / 1e9))
}

/// Prints each function's median time and its ratio to `baseline`'s, for a
/// group that has just run; prints nothing in `--test` mode.
pub fn print_ratios(group: &str, baseline: &str, functions: &[&str]) {
    let Some(base) = median(group, baseline) else {
        return;
    };
    println!("\n{group}: median time, and time / {baseline}'s");
    for function in functions {
        if let Some(t) = median(group, function) {
            println!(
                "  {function:<40} {:>10.3} ms  {:>7.2}x",
                t.as_secs_f64() * 1e3,
                t.as_secs_f64() / base.as_secs_f64()
            );
        }
    }
}
