//! The pure part of the migration: one product's legacy owner rows in, its
//! `ownership_details` document out. No database here, so every rule is
//! unit-testable.

use std::collections::HashSet;

use coownership::split::{equal_split, SplitError, SplitPolicy};
use coownership::{AssociationType, OwnerId, Ownership};

/// The document the seed writes for a product that had no owner rows, and
/// so `--policy seed` too. Under the strict rules it is invalid (it claims an
/// individual owner who does not exist); the balanced policy writes NULL.
pub const NO_PREVIOUS_OWNERSHIP: &str =
    r#"{"association_type":"individual","note":"no_previous_ownership"}"#;

/// What the legacy rows of one product become.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductPlan {
    /// The owners after removing repeats, in `(created_at, product_owner_id)` order.
    pub owners: Vec<OwnerId>,
    /// Owners that appeared more than once (each listed once per extra row).
    pub duplicates: Vec<OwnerId>,
    /// Link rows skipped because their owner id is NULL or not positive.
    pub invalid_owner_ids: Vec<Option<i64>>,
    /// The typed ownership; `None` for a product without owners.
    pub ownership: Option<Ownership>,
    /// The policy planned with, which decides the no-owner document.
    pub policy: SplitPolicy,
}

impl ProductPlan {
    /// The association type written; `None` when the document is NULL.
    pub fn association_type(&self) -> Option<AssociationType> {
        match (&self.ownership, self.policy) {
            (Some(o), _) => Some(o.association_type()),
            (None, SplitPolicy::Seed) => Some(AssociationType::Individual),
            (None, SplitPolicy::Balanced) => None,
        }
    }

    /// The document text to store (canonical form); `None` for NULL: a
    /// product without owners under the balanced policy. (The seed policy
    /// writes the seed's [`NO_PREVIOUS_OWNERSHIP`] there.)
    pub fn document(&self) -> Option<String> {
        match (&self.ownership, self.policy) {
            (Some(o), _) => Some(o.to_json()),
            (None, SplitPolicy::Seed) => Some(NO_PREVIOUS_OWNERSHIP.to_owned()),
            (None, SplitPolicy::Balanced) => None,
        }
    }
}

/// Plans one product from its owner ids in `(created_at, product_owner_id)`
/// order (`None` for a NULL `product_owner_id`).
///
/// 0 owners: no document (NULL) under the balanced policy, the seed's
/// `individual` with `note: no_previous_ownership` under the seed policy; 1:
/// `individual` at 100.00; 2 or more: `tenants_in_common` by `policy`. The same owner twice
/// counts once, at its first position.
///
/// ```
/// use coownership_postgres::plan::plan_product;
/// use coownership::split::SplitPolicy;
///
/// let plan = plan_product(&[Some(7), Some(3), Some(7)], SplitPolicy::Balanced)?;
/// assert_eq!(
///     plan.document().as_deref(),
///     Some(r#"{"association_type":"tenants_in_common","3":50.00,"7":50.00}"#)
/// );
/// assert_eq!(plan.duplicates.len(), 1);
/// assert_eq!(plan_product(&[], SplitPolicy::Balanced)?.document(), None);
/// # Ok::<(), coownership::split::SplitError>(())
/// ```
pub fn plan_product(
    owner_rows: &[Option<i64>],
    policy: SplitPolicy,
) -> Result<ProductPlan, SplitError> {
    let mut owners: Vec<OwnerId> = Vec::with_capacity(owner_rows.len());
    let mut duplicates = Vec::new();
    let mut invalid_owner_ids = Vec::new();
    // Groups are small; a linear scan beats hashing until they are not.
    let mut seen: Option<HashSet<OwnerId>> = (owner_rows.len() > 32).then(HashSet::new);
    for &row in owner_rows {
        let Some(id) = row.and_then(|id| OwnerId::new(id).ok()) else {
            invalid_owner_ids.push(row);
            continue;
        };
        let repeated = match &mut seen {
            Some(seen) => !seen.insert(id),
            None => owners.contains(&id),
        };
        if repeated {
            duplicates.push(id);
        } else {
            owners.push(id);
        }
    }
    let ownership = if owners.is_empty() {
        None
    } else {
        Some(equal_split(&owners, policy)?)
    };
    Ok(ProductPlan {
        owners,
        duplicates,
        invalid_owner_ids,
        ownership,
        policy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let p = plan_product(&[], SplitPolicy::Balanced).unwrap();
        assert_eq!(p.document(), None);
        assert_eq!(p.association_type(), None);
        let p = plan_product(&[None], SplitPolicy::Seed).unwrap();
        assert_eq!(p.document().as_deref(), Some(NO_PREVIOUS_OWNERSHIP));
        let p = plan_product(&[Some(5)], SplitPolicy::Seed).unwrap();
        assert_eq!(
            p.document().as_deref(),
            Some(r#"{"association_type":"individual","5":100.00}"#)
        );
        let p = plan_product(&[Some(5), None, Some(-1), Some(6)], SplitPolicy::Seed).unwrap();
        assert_eq!(p.invalid_owner_ids, [None, Some(-1)]);
        assert_eq!(p.owners.len(), 2);
        // The last owner in order gets the remainder.
        let p = plan_product(&[Some(9), Some(1), Some(5)], SplitPolicy::Balanced).unwrap();
        assert_eq!(
            p.document().as_deref(),
            Some(r#"{"association_type":"tenants_in_common","1":33.33,"5":33.34,"9":33.33}"#)
        );
    }
}
