//! The pure part of the migration: one product's legacy owner rows in, its
//! `ownership_details` document out. No database here, so every rule is
//! unit-testable.

use std::collections::HashSet;

use crate::split::{equal_split, SplitError, SplitPolicy};
use crate::{AssociationType, OwnerId, Ownership};

/// The document written for a product that had no owner rows (as the seed does).
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
}

impl ProductPlan {
    /// The association type written.
    pub fn association_type(&self) -> AssociationType {
        self.ownership
            .as_ref()
            .map_or(AssociationType::Individual, Ownership::association_type)
    }

    /// The document text to store (canonical form).
    pub fn document(&self) -> String {
        match &self.ownership {
            Some(o) => o.to_json(),
            None => NO_PREVIOUS_OWNERSHIP.to_owned(),
        }
    }
}

/// Plans one product from its owner ids in `(created_at, product_owner_id)`
/// order (`None` for a NULL `product_owner_id`).
///
/// 0 owners: `individual` with `note: no_previous_ownership`; 1: `individual`
/// at 100.00; 2 or more: `tenants_in_common` by `policy`. The same owner twice
/// counts once, at its first position.
///
/// ```
/// use coownership::migrate::plan::plan_product;
/// use coownership::split::SplitPolicy;
///
/// let plan = plan_product(&[Some(7), Some(3), Some(7)], SplitPolicy::Balanced)?;
/// assert_eq!(plan.document(), r#"{"association_type":"tenants_in_common","3":50.00,"7":50.00}"#);
/// assert_eq!(plan.duplicates.len(), 1);
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let p = plan_product(&[], SplitPolicy::Balanced).unwrap();
        assert_eq!(p.document(), NO_PREVIOUS_OWNERSHIP);
        let p = plan_product(&[Some(5)], SplitPolicy::Seed).unwrap();
        assert_eq!(
            p.document(),
            r#"{"association_type":"individual","5":100.00}"#
        );
        let p = plan_product(&[Some(5), None, Some(-1), Some(6)], SplitPolicy::Seed).unwrap();
        assert_eq!(p.invalid_owner_ids, [None, Some(-1)]);
        assert_eq!(p.owners.len(), 2);
        // The last owner in order gets the remainder.
        let p = plan_product(&[Some(9), Some(1), Some(5)], SplitPolicy::Balanced).unwrap();
        assert_eq!(
            p.document(),
            r#"{"association_type":"tenants_in_common","1":33.33,"5":33.34,"9":33.33}"#
        );
    }
}
