//! The typed model: owner ids, shares, and [`Ownership`] in its three kinds,
//! with constructors that refuse invalid states ([`ModelError`]). It knows
//! nothing of JSON text or of the rule sets.

mod error;
mod ownership;
mod share;

pub use error::ModelError;
pub(crate) use ownership::first_duplicate;
pub use ownership::{AssociationType, JointOwnership, Ownership, TenantsInCommon};
pub use share::{OwnerId, Share};
