//! The strict rules for new writes (DESIGN.md §2). On success they also build
//! the typed [`Ownership`], so that checking and reading are one pass.

use std::collections::HashSet;

use crate::document::{is_owner_key, looks_like_owner_key, ASSOCIATION_TYPE, JOINT_OWNERS};
use crate::ownership::{JointOwnership, TenantsInCommon};
use crate::rules::{effective, shown, string_value, Violation, ViolationCode as C, Violations};
use crate::wire::number::{exact_i64, hundredths};
use crate::wire::parser::{Kind, Parser};
use crate::{AssociationType, Document, Limits, OwnerId, Ownership, Share};

pub(crate) fn check(doc: &Document, limits: &Limits) -> Result<Ownership, Violations> {
    let mut out = Vec::new();
    if let Some(size) = doc.stored_len_exceeds(limits.max_bytes) {
        out.push(Violation::new(
            C::DocumentTooLarge,
            "",
            format!(
                "document is {size} bytes as PostgreSQL stores it (d::text), the limit is {}",
                limits.max_bytes
            ),
        ));
    }
    if doc.depth() > limits.max_depth {
        out.push(Violation::new(
            C::DocumentTooDeep,
            "",
            format!(
                "values nest {} levels deep, the limit is {}",
                doc.depth(),
                limits.max_depth
            ),
        ));
    }
    if doc.has_duplicate_keys() {
        let mut seen = HashSet::new();
        let mut reported = HashSet::new();
        for e in doc.raw_entries() {
            let key = doc.key(e);
            if !seen.insert(key) && reported.insert(key) {
                out.push(Violation::new(
                    C::DuplicateKey,
                    key,
                    format!(
                        "key {key:?} appears more than once; only the last value would be stored"
                    ),
                ));
            }
        }
    }

    // association_type, joint_owners and the owner keys, in one pass.
    let mut assoc = None;
    let mut joint = None;
    let mut owner_count = 0usize;
    for e in effective(doc) {
        let key = doc.key(e);
        if key == ASSOCIATION_TYPE {
            assoc = Some(e);
        } else if key == JOINT_OWNERS {
            joint = Some(e);
        } else if is_owner_key(key) {
            owner_count += 1;
        } else if looks_like_owner_key(key) {
            out.push(Violation::new(
                C::MalformedOwnerKey,
                key,
                format!("key {key:?} looks like an owner id but is not one: owner keys are plain ASCII digits, without signs, spaces or separators"),
            ));
        }
    }
    let kind = match assoc {
        None => {
            out.push(Violation::new(
                C::MissingAssociationType,
                ASSOCIATION_TYPE,
                "no association_type key; expected individual, tenants_in_common or joint_ownership",
            ));
            None
        }
        Some(e) => {
            let kind = (e.kind == Kind::String)
                .then(|| AssociationType::from_wire(&string_value(doc.raw(e))))
                .flatten();
            if kind.is_none() {
                out.push(Violation::new(
                    C::InvalidAssociationType,
                    ASSOCIATION_TYPE,
                    format!(
                        "association_type is {}; expected \"individual\", \"tenants_in_common\" or \"joint_ownership\" exactly",
                        shown(doc.raw(e))
                    ),
                ));
            }
            kind
        }
    };
    if owner_count > limits.max_owners {
        out.push(Violation::new(
            C::TooManyOwners,
            "",
            format!(
                "{owner_count} owner keys, the limit is {}",
                limits.max_owners
            ),
        ));
    }

    // Owner keys and their shares.
    let is_joint = kind == Some(AssociationType::JointOwnership);
    let mut shares: Vec<(OwnerId, Share)> =
        Vec::with_capacity(if is_joint { 0 } else { owner_count });
    let mut shares_ok = true;
    for e in effective(doc) {
        let key = doc.key(e);
        if !is_owner_key(key) {
            continue;
        }
        let id = OwnerId::from_canonical_key(key);
        if id.is_none() {
            shares_ok = false;
            out.push(Violation::new(
                C::NonCanonicalOwnerKey,
                key,
                format!("owner key {key:?} is not a canonical owner id: expected a positive integer without leading zeros, at most 9223372036854775807"),
            ));
        }
        if is_joint {
            out.push(Violation::new(
                C::UnexpectedShare,
                key,
                format!("percentage key {key:?} in a joint ownership; joint owners belong in joint_owners"),
            ));
            continue;
        }
        match share(key, doc.raw(e), e.kind) {
            Ok(s) => {
                if let Some(id) = id {
                    shares.push((id, s));
                }
            }
            Err(v) => {
                shares_ok = false;
                out.push(v);
            }
        }
    }

    let ownership = match kind {
        None => None,
        Some(AssociationType::Individual) => {
            unexpected_joint_owners(joint, AssociationType::Individual, &mut out);
            if owner_count != 1 {
                out.push(Violation::new(
                    C::IndividualOwnerCount,
                    "",
                    format!("individual ownership needs exactly 1 owner key, found {owner_count}"),
                ));
                None
            } else {
                match shares.first() {
                    Some(&(id, s)) if s == Share::FULL => Some(Ownership::Individual(id)),
                    Some(&(id, s)) => {
                        out.push(Violation::new(
                            C::IndividualShareNot100,
                            id.to_string(),
                            format!("the individual owner {id} holds {s}, expected exactly 100.00"),
                        ));
                        None
                    }
                    None => None,
                }
            }
        }
        Some(AssociationType::TenantsInCommon) => {
            unexpected_joint_owners(joint, AssociationType::TenantsInCommon, &mut out);
            if owner_count < 2 {
                out.push(Violation::new(
                    C::TooFewOwners,
                    "",
                    format!("tenants in common need at least 2 owners, found {owner_count}"),
                ));
            }
            let total: u64 = shares
                .iter()
                .map(|&(_, s)| u64::from(s.basis_points()))
                .sum();
            if owner_count >= 1 && shares_ok && total != 10_000 {
                out.push(Violation::new(
                    C::TotalNot100,
                    "",
                    format!(
                        "shares total {}.{:02}, expected exactly 100.00",
                        total / 100,
                        total % 100
                    ),
                ));
            }
            if out.is_empty() {
                TenantsInCommon::new(shares).ok().map(Ownership::from)
            } else {
                None
            }
        }
        Some(AssociationType::JointOwnership) => joint_owners(doc, joint, limits, &mut out),
    };
    match (Violations::from_vec(out), ownership) {
        (None, Some(o)) => Ok(o),
        (Some(v), _) => Err(v),
        // Unreachable in practice: every path without an ownership records a violation.
        (None, None) => Err(Violations(vec![Violation::new(
            C::MissingAssociationType,
            ASSOCIATION_TYPE,
            "document does not describe an ownership",
        )])),
    }
}

/// One share: a JSON number, exact to the hundredth, in (0, 100].
fn share(key: &str, raw: &str, kind: Kind) -> Result<Share, Violation> {
    let h = match kind {
        Kind::Number => hundredths(raw.as_bytes()),
        _ => None,
    };
    let Some(h) = h else {
        return Err(Violation::new(
            C::ShareNotANumber,
            key,
            format!(
                "share of owner {key:?} is {}, expected a number",
                kind.name()
            ),
        ));
    };
    if h.negative || h.is_zero() {
        return Err(Violation::new(
            C::ShareNotPositive,
            key,
            format!(
                "share of owner {key:?} is {}, expected more than 0",
                shown(raw)
            ),
        ));
    }
    if h.magnitude_above_100() {
        return Err(Violation::new(
            C::ShareAbove100,
            key,
            format!(
                "share of owner {key:?} is {}, expected at most 100",
                shown(raw)
            ),
        ));
    }
    match h.value {
        Some(v) if h.exact => {
            Ok(Share::from_basis_points(v as u16).expect("checked: at most 100.00"))
        }
        _ => Err(Violation::new(
            C::ShareTooPrecise,
            key,
            format!(
                "share of owner {key:?} is {}, which is not a whole number of hundredths (0.01 %)",
                shown(raw)
            ),
        )),
    }
}

fn unexpected_joint_owners(
    joint: Option<&crate::wire::parser::Entry>,
    kind: AssociationType,
    out: &mut Vec<Violation>,
) {
    if joint.is_some() {
        out.push(Violation::new(
            C::UnexpectedJointOwners,
            JOINT_OWNERS,
            format!("joint_owners in a {kind} document; only joint_ownership has joint owners"),
        ));
    }
}

fn joint_owners(
    doc: &Document,
    joint: Option<&crate::wire::parser::Entry>,
    limits: &Limits,
    out: &mut Vec<Violation>,
) -> Option<Ownership> {
    let Some(e) = joint else {
        out.push(Violation::new(
            C::MissingJointOwners,
            JOINT_OWNERS,
            "joint ownership without a joint_owners array",
        ));
        return None;
    };
    if e.kind != Kind::Array {
        out.push(Violation::new(
            C::JointOwnersNotArray,
            JOINT_OWNERS,
            format!(
                "joint_owners is {}, expected an array of owner ids",
                e.kind.name()
            ),
        ));
        return None;
    }
    let raw = doc.raw(e);
    let elements = Parser::array_elements(raw);
    if elements.len() > limits.max_owners {
        out.push(Violation::new(
            C::TooManyOwners,
            JOINT_OWNERS,
            format!(
                "{} joint owners, the limit is {}",
                elements.len(),
                limits.max_owners
            ),
        ));
    }
    let mut ids = Vec::with_capacity(elements.len());
    let mut seen = HashSet::with_capacity(elements.len());
    for (i, (kind, span)) in elements.iter().enumerate() {
        let text = &raw[span.clone()];
        let id = (*kind == Kind::Number)
            .then(|| exact_i64(text.as_bytes()))
            .flatten()
            .and_then(|v| OwnerId::new(v).ok());
        match id {
            None => out.push(Violation::new(
                C::InvalidJointOwner,
                format!("joint_owners[{i}]"),
                format!(
                    "joint owner {} is not a positive integer owner id",
                    shown(text)
                ),
            )),
            Some(id) if !seen.insert(id) => out.push(Violation::new(
                C::DuplicateJointOwner,
                format!("joint_owners[{i}]"),
                format!("joint owner {id} appears more than once"),
            )),
            Some(id) => ids.push(id),
        }
    }
    if elements.len() < 2 {
        out.push(Violation::new(
            C::TooFewOwners,
            JOINT_OWNERS,
            format!(
                "joint_owners has {} element(s), needs at least 2",
                elements.len()
            ),
        ));
    }
    if out.is_empty() {
        JointOwnership::new(ids).ok().map(Ownership::from)
    } else {
        None
    }
}
