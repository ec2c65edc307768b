//! The typed ownership model. Every value of these types is valid: the
//! constructors check the invariants, and nothing can change them afterwards.

use std::fmt;

use rust_decimal::Decimal;

use crate::{ModelError, OwnerId, Share};

/// The three kinds of ownership, as written in `association_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AssociationType {
    /// One owner holds 100 %.
    Individual,
    /// Two or more owners with percentage shares totalling 100.00 %.
    TenantsInCommon,
    /// Two or more owners holding the product jointly (undivided).
    JointOwnership,
}

impl AssociationType {
    /// All three, in wire-format order.
    pub const ALL: [AssociationType; 3] = [
        AssociationType::Individual,
        AssociationType::TenantsInCommon,
        AssociationType::JointOwnership,
    ];

    /// The wire name: `individual`, `tenants_in_common` or `joint_ownership`.
    pub fn as_str(self) -> &'static str {
        match self {
            AssociationType::Individual => "individual",
            AssociationType::TenantsInCommon => "tenants_in_common",
            AssociationType::JointOwnership => "joint_ownership",
        }
    }

    /// The type for an exact wire name (case and spaces matter).
    pub fn from_wire(name: &str) -> Option<Self> {
        AssociationType::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

impl fmt::Display for AssociationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Who owns a product and in what shares; valid by construction.
///
/// Build one with [`Ownership::individual`], [`TenantsInCommon::new`] or
/// [`JointOwnership::new`], or read one from a stored document with
/// [`Document::to_ownership`](crate::Document::to_ownership) (which applies the
/// strict rules). [`Ownership::to_json`] writes the canonical wire format.
///
/// ```
/// use coownership::{Ownership, OwnerId, Share, TenantsInCommon};
///
/// let tic = TenantsInCommon::new([
///     (OwnerId::new(456)?, "66.67".parse::<Share>()?),
///     (OwnerId::new(123)?, "33.33".parse::<Share>()?),
/// ])?;
/// let ownership = Ownership::from(tic);
/// assert_eq!(
///     ownership.to_json(),
///     r#"{"association_type":"tenants_in_common","123":33.33,"456":66.67}"#
/// );
/// assert_eq!(Ownership::parse(&ownership.to_json())?, ownership);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ownership {
    /// One owner at 100.00 %.
    Individual(OwnerId),
    /// Two or more owners whose shares total exactly 100.00 %.
    TenantsInCommon(TenantsInCommon),
    /// Two or more distinct joint owners.
    JointOwnership(JointOwnership),
}

impl Ownership {
    /// One owner holding 100.00 %.
    pub fn individual(owner: OwnerId) -> Self {
        Ownership::Individual(owner)
    }

    /// The kind of ownership.
    pub fn association_type(&self) -> AssociationType {
        match self {
            Ownership::Individual(_) => AssociationType::Individual,
            Ownership::TenantsInCommon(_) => AssociationType::TenantsInCommon,
            Ownership::JointOwnership(_) => AssociationType::JointOwnership,
        }
    }

    /// The number of owners (always at least 1).
    pub fn len(&self) -> usize {
        match self {
            Ownership::Individual(_) => 1,
            Ownership::TenantsInCommon(t) => t.shares.len(),
            Ownership::JointOwnership(j) => j.owners.len(),
        }
    }

    /// Always `false`: every ownership has at least one owner.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The owners in canonical order (ascending id; joint owners as given).
    pub fn owners(&self) -> impl Iterator<Item = OwnerId> + '_ {
        let (one, tic, joint) = match self {
            Ownership::Individual(o) => (Some(*o), None, None),
            Ownership::TenantsInCommon(t) => (None, Some(t.shares.iter().map(|&(o, _)| o)), None),
            Ownership::JointOwnership(j) => (None, None, Some(j.owners.iter().copied())),
        };
        one.into_iter()
            .chain(tic.into_iter().flatten())
            .chain(joint.into_iter().flatten())
    }

    /// Each owner's economic share as an exact decimal percentage; joint
    /// owners' undivided interest is reported as an equal split of 100, which
    /// is not in general a whole number of hundredths (`100/3`).
    pub fn economic_shares(&self) -> Vec<(OwnerId, Decimal)> {
        match self {
            Ownership::Individual(o) => vec![(*o, Decimal::ONE_HUNDRED)],
            Ownership::TenantsInCommon(t) => {
                t.shares.iter().map(|&(o, s)| (o, s.to_decimal())).collect()
            }
            Ownership::JointOwnership(j) => {
                let each = Decimal::ONE_HUNDRED / Decimal::from(j.owners.len());
                j.owners.iter().map(|&o| (o, each)).collect()
            }
        }
    }

    /// The canonical wire form: `association_type` first, owner keys ascending
    /// by id with exactly two decimals, or `joint_owners`; no whitespace.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(48 + 16 * self.len());
        self.write_json_members(&mut out);
        out.push('}');
        out
    }

    /// Writes `{` and every member of the canonical form, without the closing brace,
    /// so that a document can append its metadata.
    pub(crate) fn write_json_members(&self, out: &mut String) {
        out.push_str("{\"association_type\":\"");
        out.push_str(self.association_type().as_str());
        out.push('"');
        let id = |out: &mut String, o: OwnerId| {
            use fmt::Write;
            let _ = write!(out, "{o}");
        };
        match self {
            Ownership::Individual(o) => {
                out.push_str(",\"");
                id(out, *o);
                out.push_str("\":100.00");
            }
            Ownership::TenantsInCommon(t) => {
                for &(o, s) in &t.shares {
                    out.push_str(",\"");
                    id(out, o);
                    out.push_str("\":");
                    s.write_to(out);
                }
            }
            Ownership::JointOwnership(j) => {
                out.push_str(",\"joint_owners\":[");
                for (i, &o) in j.owners.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    id(out, o);
                }
                out.push(']');
            }
        }
    }
}

impl fmt::Display for Ownership {
    /// Writes the canonical JSON form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl From<TenantsInCommon> for Ownership {
    fn from(t: TenantsInCommon) -> Self {
        Ownership::TenantsInCommon(t)
    }
}

impl From<JointOwnership> for Ownership {
    fn from(j: JointOwnership) -> Self {
        Ownership::JointOwnership(j)
    }
}

/// Two or more owners with positive shares that total exactly 100.00 %.
///
/// The shares are kept sorted by owner id, which is the canonical order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TenantsInCommon {
    shares: Vec<(OwnerId, Share)>,
}

impl TenantsInCommon {
    /// Checks and builds: at least two distinct owners, every share positive,
    /// total exactly 100.00 %.
    pub fn new(shares: impl IntoIterator<Item = (OwnerId, Share)>) -> Result<Self, ModelError> {
        let mut shares: Vec<(OwnerId, Share)> = shares.into_iter().collect();
        shares.sort_unstable_by_key(|&(o, _)| o);
        if shares.len() < 2 {
            return Err(ModelError::TooFewOwners {
                kind: "tenants_in_common",
                min: 2,
                got: shares.len(),
            });
        }
        if let Some(w) = shares.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ModelError::DuplicateOwner(w[0].0));
        }
        if let Some(&(o, _)) = shares.iter().find(|(_, s)| *s == Share::ZERO) {
            return Err(ModelError::ZeroShare(o));
        }
        let total: u64 = shares
            .iter()
            .map(|(_, s)| u64::from(s.basis_points()))
            .sum();
        if total != u64::from(Share::FULL_BASIS_POINTS) {
            return Err(ModelError::TotalNot100(Decimal::new(total as i64, 2)));
        }
        Ok(TenantsInCommon { shares })
    }

    /// The owners and their shares, ascending by owner id.
    pub fn shares(&self) -> &[(OwnerId, Share)] {
        &self.shares
    }

    /// The share of one owner, if they are a tenant.
    pub fn share_of(&self, owner: OwnerId) -> Option<Share> {
        self.shares
            .binary_search_by_key(&owner, |&(o, _)| o)
            .ok()
            .map(|i| self.shares[i].1)
    }
}

/// Two or more distinct owners holding a product jointly, in the given order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JointOwnership {
    owners: Vec<OwnerId>,
}

impl JointOwnership {
    /// Checks and builds: at least two owners, no owner twice.
    pub fn new(owners: impl IntoIterator<Item = OwnerId>) -> Result<Self, ModelError> {
        let owners: Vec<OwnerId> = owners.into_iter().collect();
        if owners.len() < 2 {
            return Err(ModelError::TooFewOwners {
                kind: "joint_ownership",
                min: 2,
                got: owners.len(),
            });
        }
        if let Some(dup) = first_duplicate(&owners) {
            return Err(ModelError::DuplicateOwner(dup));
        }
        Ok(JointOwnership { owners })
    }

    /// The joint owners, in the order given.
    pub fn owners(&self) -> &[OwnerId] {
        &self.owners
    }
}

/// The first owner (in order) that appears again later; linear time.
pub(crate) fn first_duplicate(owners: &[OwnerId]) -> Option<OwnerId> {
    if owners.len() <= 16 {
        return owners
            .iter()
            .enumerate()
            .find(|&(i, o)| owners[..i].contains(o))
            .map(|(_, &o)| o);
    }
    let mut seen = std::collections::HashSet::with_capacity(owners.len());
    owners.iter().copied().find(|o| !seen.insert(*o))
}
