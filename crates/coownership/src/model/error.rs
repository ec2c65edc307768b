//! [`ModelError`]: a value that a typed constructor refuses.

use thiserror::Error;

/// A value that a typed constructor refuses.
///
/// ```
/// use coownership::{ModelError, OwnerId, Share, TenantsInCommon};
///
/// let a = OwnerId::new(1)?;
/// let half = Share::from_basis_points(5000)?;
/// let err = TenantsInCommon::new([(a, half), (a, half)]).unwrap_err();
/// assert_eq!(err, ModelError::DuplicateOwner(a));
/// # Ok::<(), ModelError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// An owner id that is not a positive `BIGINT` in canonical form.
    #[error("invalid owner id {0:?}: expected a positive integer without sign or leading zeros, at most 9223372036854775807")]
    InvalidOwnerId(String),
    /// A share that is not a whole number of hundredths in `0..=100`.
    #[error(
        "invalid share {0:?}: expected a percentage from 0.00 to 100.00 with at most two decimals"
    )]
    InvalidShare(String),
    /// The same owner appears twice.
    #[error("owner {0} appears more than once")]
    DuplicateOwner(super::OwnerId),
    /// Fewer owners than the kind of ownership needs.
    #[error("{kind} needs at least {min} owners, got {got}")]
    TooFewOwners {
        /// `tenants_in_common` or `joint_ownership`.
        kind: &'static str,
        /// The minimum.
        min: usize,
        /// How many were given.
        got: usize,
    },
    /// A tenant in common with a zero share.
    #[error("owner {0} has a zero share; every tenant in common needs a positive share")]
    ZeroShare(super::OwnerId),
    /// A metadata key that is reserved (an owner key, `association_type`,
    /// `joint_owners`) or already present.
    #[error("{0:?} cannot be added as metadata: it is reserved or already present")]
    ReservedKey(String),
    /// Shares of tenants in common that do not total exactly 100.00.
    #[error("shares total {0}, expected exactly 100.00")]
    TotalNot100(rust_decimal::Decimal),
}
