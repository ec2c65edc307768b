//! Splitting 100 % equally among owners, with the remainder corrected so that
//! the total is exactly 100.00 % for every owner count.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use thiserror::Error;

use crate::model::first_duplicate;
use crate::{OwnerId, Ownership, Share, TenantsInCommon};

/// The most owners an equal split supports: beyond 10,000 a share would be
/// below 0.01 %.
pub const MAX_SPLIT_OWNERS: usize = 10_000;

/// How 100 % is divided among `n` owners.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SplitPolicy {
    /// `10000 / n` basis points each, and the **last** `10000 mod n` owners
    /// one basis point (0.01 %) more. Exact for every `n` in `1..=10000`; no
    /// two shares differ by more than 0.01. Equal to [`Seed`](SplitPolicy::Seed)
    /// for `n <= 5`.
    #[default]
    Balanced,
    /// The seed's Phase 3 formula: every owner but the last gets
    /// `ROUND(100.0 / n, 2)` (half away from zero), the last gets
    /// `100.00 - r * (n - 1)`. Kept to reproduce migrations already run with
    /// the seed's SQL. It skews as `n` grows and, for many counts (the first is
    /// 155), would give an owner a zero or negative share: that is an error.
    Seed,
}

impl SplitPolicy {
    /// `balanced` or `seed`.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitPolicy::Balanced => "balanced",
            SplitPolicy::Seed => "seed",
        }
    }
}

impl fmt::Display for SplitPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for SplitPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "balanced" => Ok(SplitPolicy::Balanced),
            "seed" => Ok(SplitPolicy::Seed),
            other => Err(format!(
                "unknown split policy {other:?}: expected balanced or seed"
            )),
        }
    }
}

/// Why an equal split could not be made.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SplitError {
    /// No owners were given.
    #[error("cannot split among zero owners")]
    NoOwners,
    /// The same owner was given twice.
    #[error("owner {0} is listed more than once")]
    DuplicateOwner(OwnerId),
    /// More than [`MAX_SPLIT_OWNERS`] owners.
    #[error("cannot split among {0} owners: at most 10000 (a share cannot be below 0.01)")]
    TooManyOwners(usize),
    /// The seed formula would give an owner a zero or negative share.
    #[error(
        "the seed formula breaks for {owners} owners: it would give an owner a share of {share}"
    )]
    SeedShareNotPositive {
        /// The owner count.
        owners: usize,
        /// The share the seed's SQL would have written (zero or negative).
        share: Decimal,
    },
}

/// Splits 100 % equally among `owners`, in the given order.
///
/// One owner gives [`Ownership::Individual`]; two or more give
/// [`Ownership::TenantsInCommon`]. Where the policy gives owners different
/// shares, the order decides who gets which (see [`SplitPolicy`]).
///
/// ```
/// use coownership::split::{equal_split, SplitError, SplitPolicy};
/// use coownership::OwnerId;
///
/// let owners: Vec<OwnerId> = (1..=3).map(|i| OwnerId::new(i).unwrap()).collect();
/// let o = equal_split(&owners, SplitPolicy::Balanced)?;
/// assert_eq!(
///     o.to_json(),
///     r#"{"association_type":"tenants_in_common","1":33.33,"2":33.33,"3":33.34}"#
/// );
///
/// let many: Vec<OwnerId> = (1..=155).map(|i| OwnerId::new(i).unwrap()).collect();
/// assert!(equal_split(&many, SplitPolicy::Balanced).is_ok());
/// assert!(matches!(
///     equal_split(&many, SplitPolicy::Seed),
///     Err(SplitError::SeedShareNotPositive { owners: 155, .. })
/// ));
/// # Ok::<(), SplitError>(())
/// ```
pub fn equal_split(owners: &[OwnerId], policy: SplitPolicy) -> Result<Ownership, SplitError> {
    let n = owners.len();
    if n == 0 {
        return Err(SplitError::NoOwners);
    }
    if n > MAX_SPLIT_OWNERS {
        return Err(SplitError::TooManyOwners(n));
    }
    if let Some(dup) = first_duplicate(owners) {
        return Err(SplitError::DuplicateOwner(dup));
    }
    if n == 1 {
        return Ok(Ownership::Individual(owners[0]));
    }
    let shares = split_basis_points(n, policy)?;
    let tic = TenantsInCommon::new(owners.iter().copied().zip(shares.map(|bp| {
        Share::from_basis_points(bp).expect("each part of an equal split is at most 100.00")
    })))
    .expect("an equal split of distinct owners totals 100.00 with positive shares");
    Ok(tic.into())
}

/// The basis points of each of `n` owners (`2..=10000`), in owner order.
fn split_basis_points(
    n: usize,
    policy: SplitPolicy,
) -> Result<impl Iterator<Item = u16>, SplitError> {
    let full = u32::from(Share::FULL_BASIS_POINTS);
    let count = n as u32;
    let (each, last_from, plus, last) = match policy {
        SplitPolicy::Balanced => {
            let q = full / count;
            let r = full % count;
            // Owners from index n - r on get one more.
            (q, count - r, 1, None)
        }
        SplitPolicy::Seed => {
            let (r, last) = seed_split(n);
            let bad = if r <= Decimal::ZERO { r } else { last };
            if bad <= Decimal::ZERO {
                return Err(SplitError::SeedShareNotPositive {
                    owners: n,
                    share: bad,
                });
            }
            let to_bp = |d: Decimal| -> u32 {
                (d * Decimal::ONE_HUNDRED)
                    .trunc()
                    .try_into()
                    .expect("a positive seed share below 100")
            };
            (to_bp(r), count, 0, Some(to_bp(last)))
        }
    };
    Ok((0..count).map(move |i| {
        let bp = match last {
            Some(l) if i + 1 == count => l,
            _ if i >= last_from => each + plus,
            _ => each,
        };
        bp as u16
    }))
}

/// The seed's formula, exactly: `(ROUND(100.0 / n, 2), 100.00 - r * (n - 1))`.
pub(crate) fn seed_split(n: usize) -> (Decimal, Decimal) {
    let r = (Decimal::ONE_HUNDRED / Decimal::from(n as u64))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let last = Decimal::ONE_HUNDRED - r * Decimal::from(n as u64 - 1);
    (r, last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_gives_the_extra_points_to_the_last_owners() {
        let parts: Vec<u16> = split_basis_points(3, SplitPolicy::Balanced)
            .unwrap()
            .collect();
        assert_eq!(parts, [3333, 3333, 3334]);
        let parts: Vec<u16> = split_basis_points(7, SplitPolicy::Balanced)
            .unwrap()
            .collect();
        assert_eq!(parts, [1428, 1428, 1428, 1429, 1429, 1429, 1429]);
    }
}
