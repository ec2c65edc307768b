//! The `coownership` command end to end, on a throwaway PostgreSQL server
//! (see `coownership-testkit`): one test binary, one module per subject.

mod commands;
mod common;
mod hostile;
mod lifecycle;
mod migrate;
mod operator;
