//! The seed rules: what PostgreSQL decides for the legacy `client_products`
//! CHECK. Accept means the CHECK expression is TRUE or NULL; reject means it
//! is FALSE or raises an error. Each violation names the clause that fails.

use crate::document::{is_owner_key, ASSOCIATION_TYPE, JOINT_OWNERS};
use crate::number::hundredths;
use crate::reader::parser::{Kind, Parser};
use crate::rules::{effective, shown, string_value, Violation, ViolationCode as C, Violations};
use crate::{AssociationType, Document};

/// What `(d->key)::numeric` gives for a JSON `null`: an error up to
/// PostgreSQL 17, SQL NULL from 18 on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NullShare {
    /// PostgreSQL 13 to 17: `cannot cast jsonb null to type numeric`.
    Error,
    /// PostgreSQL 18 and later: NULL, which makes the running total NULL.
    SqlNull,
}

/// Checks `doc` as the seed's CHECK would: the `association_type` first,
/// then what its kind needs.
pub(crate) fn check(doc: &Document, null_share: NullShare) -> Result<(), Violations> {
    let mut out = Vec::new();
    let Some(kind) = association_type(doc, &mut out) else {
        return Violations::from_vec(out).map_or(Ok(()), Err);
    };
    match kind {
        AssociationType::TenantsInCommon => tenants_in_common(doc, null_share, &mut out),
        AssociationType::JointOwnership => joint_ownership(doc, &mut out),
        AssociationType::Individual => {
            let n = effective(doc).filter(|e| is_owner_key(doc.key(e))).count();
            if n > 1 {
                out.push(Violation::new(
                    C::IndividualOwnerCount,
                    "",
                    format!("individual ownership with {n} owner keys, at most 1 allowed"),
                ));
            }
        }
    }
    Violations::from_vec(out).map_or(Ok(()), Err)
}

/// The kind of ownership, or `None`: with a violation when the key is
/// missing or not one of the three names, without one when it is `null`
/// (`d->>'association_type'` is SQL NULL, so the `IN (...)` is NULL and the
/// function returns TRUE: the whole CHECK is NULL, which passes).
fn association_type(doc: &Document, out: &mut Vec<Violation>) -> Option<AssociationType> {
    let Some(assoc) = effective(doc).find(|e| doc.key(e) == ASSOCIATION_TYPE) else {
        out.push(Violation::new(
            C::MissingAssociationType,
            ASSOCIATION_TYPE,
            "no association_type key",
        ));
        return None;
    };
    let kind = match assoc.kind {
        Kind::Null => return None,
        Kind::String => AssociationType::from_wire(&string_value(doc.raw(assoc))),
        _ => None,
    };
    if kind.is_none() {
        out.push(Violation::new(
            C::InvalidAssociationType,
            ASSOCIATION_TYPE,
            format!(
                "association_type {} is not individual, tenants_in_common or joint_ownership",
                shown(doc.raw(assoc))
            ),
        ));
    }
    kind
}

/// Each share cast to `numeric` and rounded to 2 decimals, within 0..=100,
/// and a total from 99.99 to 100.01.
fn tenants_in_common(doc: &Document, null_share: NullShare, out: &mut Vec<Violation>) {
    let (mut count, mut total, mut bad) = (0usize, 0u64, false);
    // A NULL share makes `total_percentage` NULL for good, and the final
    // `BETWEEN` with it: the total is then never checked.
    let mut total_is_null = false;
    for e in effective(doc).filter(|e| is_owner_key(doc.key(e))) {
        count += 1;
        if e.kind == Kind::Null && null_share == NullShare::SqlNull {
            total_is_null = true;
            continue;
        }
        match share(doc.key(e), doc.raw(e), e.kind) {
            Ok(v) => total += v,
            Err(v) => {
                bad = true;
                out.push(v);
            }
        }
    }
    if count == 0 {
        out.push(Violation::new(
            C::TooFewOwners,
            "",
            "tenants in common without any owner key",
        ));
    } else if !bad && !total_is_null && !(9_999..=10_001).contains(&total) {
        out.push(Violation::new(
            C::TotalNot100,
            "",
            format!(
                "shares total {}.{:02}, outside the tolerated 99.99 to 100.01",
                total / 100,
                total % 100
            ),
        ));
    }
}

/// One share in hundredths, as `ROUND((d->key)::numeric, 2)` gives it, or
/// the violation.
fn share(key: &str, raw: &str, kind: Kind) -> Result<u64, Violation> {
    let Some(h) = (kind == Kind::Number)
        .then(|| hundredths(raw.as_bytes()))
        .flatten()
    else {
        return Err(Violation::new(
            C::ShareNotANumber,
            key,
            format!(
                "share of owner {key:?} is {}, which cannot be cast to numeric",
                kind.name()
            ),
        ));
    };
    match h.value {
        _ if h.rounded_negative() => Err(Violation::new(
            C::ShareNegative,
            key,
            format!(
                "share of owner {key:?} is {}, below 0 after rounding to 2 decimals",
                shown(raw)
            ),
        )),
        Some(v) if v <= 10_000 => Ok(u64::from(v)),
        _ => Err(Violation::new(
            C::ShareAbove100,
            key,
            format!(
                "share of owner {key:?} is {}, above 100 after rounding to 2 decimals",
                shown(raw)
            ),
        )),
    }
}

/// A `joint_owners` array of at least two elements (of any kind).
fn joint_ownership(doc: &Document, out: &mut Vec<Violation>) {
    match effective(doc).find(|e| doc.key(e) == JOINT_OWNERS) {
        None => out.push(Violation::new(
            C::MissingJointOwners,
            JOINT_OWNERS,
            "joint ownership without a joint_owners key",
        )),
        Some(e) if e.kind != Kind::Array => out.push(Violation::new(
            C::JointOwnersNotArray,
            JOINT_OWNERS,
            format!("joint_owners is {}, expected an array", e.kind.name()),
        )),
        Some(e) => {
            let n = Parser::array_elements(doc.raw(e)).len();
            if n < 2 {
                out.push(Violation::new(
                    C::TooFewOwners,
                    JOINT_OWNERS,
                    format!("joint_owners has {n} element(s), needs at least 2"),
                ));
            }
        }
    }
}
