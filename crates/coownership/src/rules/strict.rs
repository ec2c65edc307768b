//! The strict rules for new writes (the design document, `docs/design.md`, §2). On success they also build
//! the typed [`Ownership`], so that checking and reading are one pass.

use std::collections::HashSet;

use crate::document::{is_owner_key, looks_like_owner_key, ASSOCIATION_TYPE, JOINT_OWNERS};
use crate::model::{JointOwnership, TenantsInCommon};
use crate::number::{exact_i64, hundredths};
use crate::reader::parser::{Entry, Kind, Parser};
use crate::rules::{effective, shown, string_value, Violation, ViolationCode as C, Violations};
use crate::{AssociationType, Document, Limits, OwnerId, Ownership, Share};

/// Checks `doc` and, when it passes, builds the typed ownership. The steps
/// run in this order, so violations are listed in it: the document's size
/// and depth, repeated keys, the members it has, `association_type`, the
/// number of owners, each owner key and share, then what the kind of
/// ownership needs.
pub(crate) fn check(doc: &Document, limits: &Limits) -> Result<Ownership, Violations> {
    let mut check = Check {
        doc,
        limits,
        out: Vec::new(),
    };
    check.size_and_depth();
    check.duplicate_keys();
    let members = check.members();
    let kind = check.association_type(members.association_type);
    check.owner_limit(members.owner_count);
    let is_joint = kind == Some(AssociationType::JointOwnership);
    let shares = check.owner_keys(is_joint, members.owner_count);
    let ownership = match kind {
        None => None,
        Some(AssociationType::Individual) => {
            check.unexpected_joint_owners(members.joint_owners, AssociationType::Individual);
            check.individual(members.owner_count, &shares)
        }
        Some(AssociationType::TenantsInCommon) => {
            check.unexpected_joint_owners(members.joint_owners, AssociationType::TenantsInCommon);
            check.tenants_in_common(members.owner_count, shares)
        }
        Some(AssociationType::JointOwnership) => check.joint_owners(members.joint_owners),
    };
    check.finish(ownership)
}

/// A check in progress: the document, its limits, and what it broke so far.
struct Check<'a> {
    doc: &'a Document,
    limits: &'a Limits,
    out: Vec<Violation>,
}

/// The members the rules look at, as `jsonb` would keep them.
struct Members<'a> {
    association_type: Option<&'a Entry>,
    joint_owners: Option<&'a Entry>,
    owner_count: usize,
}

/// The owners' shares, and whether every owner key and share was valid.
struct Shares {
    list: Vec<(OwnerId, Share)>,
    all_valid: bool,
}

impl<'a> Check<'a> {
    fn violation(&mut self, code: C, key: impl Into<String>, message: impl Into<String>) {
        self.out.push(Violation::new(code, key, message));
    }

    /// `document_too_large` and `document_too_deep`.
    fn size_and_depth(&mut self) {
        let (doc, limits) = (self.doc, self.limits);
        if let Some(size) = doc.stored_len_exceeds(limits.max_bytes) {
            self.violation(
                C::DocumentTooLarge,
                "",
                format!(
                    "document is {size} bytes as PostgreSQL stores it (d::text), the limit is {}",
                    limits.max_bytes
                ),
            );
        }
        if doc.depth() > limits.max_depth {
            self.violation(
                C::DocumentTooDeep,
                "",
                format!(
                    "values nest {} levels deep, the limit is {}",
                    doc.depth(),
                    limits.max_depth
                ),
            );
        }
    }

    /// `duplicate_key`, once per repeated key.
    fn duplicate_keys(&mut self) {
        let doc = self.doc;
        if !doc.has_duplicate_keys() {
            return;
        }
        let mut seen = HashSet::new();
        let mut reported = HashSet::new();
        for e in doc.raw_entries() {
            let key = doc.key(e);
            if !seen.insert(key) && reported.insert(key) {
                self.violation(
                    C::DuplicateKey,
                    key,
                    format!(
                        "key {key:?} appears more than once; only the last value would be stored"
                    ),
                );
            }
        }
    }

    /// `association_type`, `joint_owners` and the owner keys, in one pass;
    /// `malformed_owner_key` for keys that look like owner ids but are not.
    fn members(&mut self) -> Members<'a> {
        let doc = self.doc;
        let mut members = Members {
            association_type: None,
            joint_owners: None,
            owner_count: 0,
        };
        for e in effective(doc) {
            let key = doc.key(e);
            if key == ASSOCIATION_TYPE {
                members.association_type = Some(e);
            } else if key == JOINT_OWNERS {
                members.joint_owners = Some(e);
            } else if is_owner_key(key) {
                members.owner_count += 1;
            } else if looks_like_owner_key(key) {
                self.violation(
                    C::MalformedOwnerKey,
                    key,
                    format!("key {key:?} looks like an owner id but is not one: owner keys are plain ASCII digits, without signs, spaces or separators"),
                );
            }
        }
        members
    }

    /// The kind of ownership, or `missing_association_type` /
    /// `invalid_association_type`.
    fn association_type(&mut self, entry: Option<&Entry>) -> Option<AssociationType> {
        let doc = self.doc;
        let Some(e) = entry else {
            self.violation(
                C::MissingAssociationType,
                ASSOCIATION_TYPE,
                "no association_type key; expected individual, tenants_in_common or joint_ownership",
            );
            return None;
        };
        let kind = (e.kind == Kind::String)
            .then(|| AssociationType::from_wire(&string_value(doc.raw(e))))
            .flatten();
        if kind.is_none() {
            self.violation(
                C::InvalidAssociationType,
                ASSOCIATION_TYPE,
                format!(
                    "association_type is {}; expected \"individual\", \"tenants_in_common\" or \"joint_ownership\" exactly",
                    shown(doc.raw(e))
                ),
            );
        }
        kind
    }

    /// `too_many_owners` for owner keys.
    fn owner_limit(&mut self, owner_count: usize) {
        if owner_count > self.limits.max_owners {
            let limit = self.limits.max_owners;
            self.violation(
                C::TooManyOwners,
                "",
                format!("{owner_count} owner keys, the limit is {limit}"),
            );
        }
    }

    /// Each owner key (`non_canonical_owner_key`; `unexpected_share` in a
    /// joint ownership) and its share.
    fn owner_keys(&mut self, is_joint: bool, owner_count: usize) -> Shares {
        let doc = self.doc;
        let mut shares = Shares {
            list: Vec::with_capacity(if is_joint { 0 } else { owner_count }),
            all_valid: true,
        };
        for e in effective(doc) {
            let key = doc.key(e);
            if !is_owner_key(key) {
                continue;
            }
            let id = OwnerId::from_canonical_key(key);
            if id.is_none() {
                shares.all_valid = false;
                self.violation(
                    C::NonCanonicalOwnerKey,
                    key,
                    format!("owner key {key:?} is not a canonical owner id: expected a positive integer without leading zeros, at most 9223372036854775807"),
                );
            }
            if is_joint {
                self.violation(
                    C::UnexpectedShare,
                    key,
                    format!("percentage key {key:?} in a joint ownership; joint owners belong in joint_owners"),
                );
                continue;
            }
            match share(key, doc.raw(e), e.kind) {
                Ok(s) => {
                    if let Some(id) = id {
                        shares.list.push((id, s));
                    }
                }
                Err(v) => {
                    shares.all_valid = false;
                    self.out.push(v);
                }
            }
        }
        shares
    }

    /// `unexpected_joint_owners` outside a joint ownership.
    fn unexpected_joint_owners(&mut self, joint: Option<&Entry>, kind: AssociationType) {
        if joint.is_some() {
            self.violation(
                C::UnexpectedJointOwners,
                JOINT_OWNERS,
                format!("joint_owners in a {kind} document; only joint_ownership has joint owners"),
            );
        }
    }

    /// Exactly one owner, holding 100.00.
    fn individual(&mut self, owner_count: usize, shares: &Shares) -> Option<Ownership> {
        if owner_count != 1 {
            self.violation(
                C::IndividualOwnerCount,
                "",
                format!("individual ownership needs exactly 1 owner key, found {owner_count}"),
            );
            return None;
        }
        match shares.list.first() {
            Some(&(id, s)) if s == Share::FULL => Some(Ownership::Individual(id)),
            Some(&(id, s)) => {
                self.violation(
                    C::IndividualShareNot100,
                    id.to_string(),
                    format!("the individual owner {id} holds {s}, expected exactly 100.00"),
                );
                None
            }
            None => None,
        }
    }

    /// Two or more owners whose shares total exactly 100.00.
    fn tenants_in_common(&mut self, owner_count: usize, shares: Shares) -> Option<Ownership> {
        if owner_count < 2 {
            self.violation(
                C::TooFewOwners,
                "",
                format!("tenants in common need at least 2 owners, found {owner_count}"),
            );
        }
        let total: u64 = shares
            .list
            .iter()
            .map(|&(_, s)| u64::from(s.basis_points()))
            .sum();
        if owner_count >= 1 && shares.all_valid && total != 10_000 {
            self.violation(
                C::TotalNot100,
                "",
                format!(
                    "shares total {}.{:02}, expected exactly 100.00",
                    total / 100,
                    total % 100
                ),
            );
        }
        if self.out.is_empty() {
            TenantsInCommon::new(shares.list).ok().map(Ownership::from)
        } else {
            None
        }
    }

    /// A `joint_owners` array of two or more distinct owner ids.
    fn joint_owners(&mut self, joint: Option<&Entry>) -> Option<Ownership> {
        joint_owners(self.doc, joint, self.limits, &mut self.out)
    }

    /// The verdict: the ownership, or every violation.
    fn finish(self, ownership: Option<Ownership>) -> Result<Ownership, Violations> {
        match (Violations::from_vec(self.out), ownership) {
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

/// `joint_owners`: an array of two or more distinct positive owner ids,
/// within the owner limit.
fn joint_owners(
    doc: &Document,
    joint: Option<&Entry>,
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
    let ids = joint_owner_ids(raw, &elements, out);
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

/// The owner ids among the elements of a `joint_owners` array (`raw`), in
/// order; `invalid_joint_owner` and `duplicate_joint_owner` for the rest.
fn joint_owner_ids(
    raw: &str,
    elements: &[(Kind, std::ops::Range<usize>)],
    out: &mut Vec<Violation>,
) -> Vec<OwnerId> {
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
    ids
}
