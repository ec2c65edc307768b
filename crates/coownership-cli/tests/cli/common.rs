//! The test kit, and running the built binary.

pub(crate) use coownership_testkit::*;

/// Runs the built `coownership` binary, with no standard input.
pub(crate) fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_coownership"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the coownership binary runs")
}

/// Runs the CLI and checks that it exits 0; returns what it printed.
#[track_caller]
pub(crate) fn succeeds(args: &[&str]) -> std::process::Output {
    let out = cli(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs the CLI and checks that it exits 2 with `message` on standard error.
#[track_caller]
pub(crate) fn fails(args: &[&str], message: &str) {
    let out = cli(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(message), "{args:?}: {stderr}");
}
