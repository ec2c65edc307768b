//! The lifecycle library on a real PostgreSQL server (a throwaway one per
//! test run, see `coownership-testkit`).

mod autovacuum;
mod reporting;
mod sql_safety;
