//! The core on a real PostgreSQL server (a throwaway one per test run, see
//! `coownership-testkit`): the codecs, the shipped SQL against Rust, money in
//! SQL, and sqlx.

mod money;
mod pg;
mod sqlx;
