//! What every coownership crate's tests share (never published):
//!
//! - [`server`](mod@server): one throwaway PostgreSQL server per test process
//!   ([`server::TempServer`], unix only), and a fresh database per test;
//! - [`documents`](mod@documents): generated ownership documents for the differential tests;
//! - [`fixtures`]: the seed's own SQL, to compare against;
//! - [`bench`](mod@bench): ratios from criterion's measurements, for the benches;
//! - helpers that many tests repeat (the hand-made legacy data, reading the
//!   stored documents back, a default migration).
#![allow(missing_docs, clippy::print_stderr)]

pub mod bench;
pub mod documents;
pub mod fixtures;
#[cfg(unix)]
pub mod server;

// The helpers start the server, which is unix-only.
#[cfg(unix)]
mod database;
#[cfg(unix)]
pub use database::*;
