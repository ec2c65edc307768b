#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

// The layers, each using only those listed before it (a test,
// `layers_point_down`, checks it): exact numbers, the typed model, the
// owner-key grammar, the JSON reader, the lossless document, the rules, then
// what builds on them (splits, money, the shipped SQL) and the integrations
// (serde, PostgreSQL).
mod number;
mod model;
mod owner_key;
mod reader;
mod document;
pub mod rules;
pub mod split;
pub mod apportion;
pub mod sql;
mod serde_impls;
#[cfg(any(feature = "postgres", feature = "sqlx"))]
mod codec;
#[cfg(feature = "postgres")]
pub mod pg;

// The repository README's Rust example, run as a doctest (only then is the
// file, outside the package, read).
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
mod repository_readme {}

pub use document::Document;
pub use model::{
    AssociationType, JointOwnership, ModelError, OwnerId, Ownership, Share, TenantsInCommon,
};
pub use reader::{ParseError, ParseErrorKind};
pub use rules::{Limits, ReadError, Rules, Violation, ViolationCode, Violations};
