#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod document;
mod error;
mod owner_key;
mod ownership;
pub mod rules;
mod share;
mod wire;

pub use document::Document;
pub use error::{ModelError, ParseError, ParseErrorKind, ReadError};
pub use ownership::{AssociationType, JointOwnership, Ownership, TenantsInCommon};
pub use rules::{Limits, Rules, Violation, ViolationCode, Violations};
pub use share::{OwnerId, Share};
pub mod apportion;
#[cfg(feature = "postgres")]
pub mod pg;
#[cfg(any(feature = "postgres", feature = "sqlx"))]
mod pgwire;
pub mod split;
pub mod sql;
#[cfg(feature = "sqlx")]
mod sqlx_support;
