//! [`Violation`], [`ViolationCode`] and [`Violations`].

use std::fmt;

use thiserror::Error;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, )*) => {
        /// What a [`Violation`] is about. [`as_str`](ViolationCode::as_str)
        /// gives the stable snake_case code used in machine-readable output
        /// and by the shipped SQL functions.
        ///
        /// Each variant says which rule set reports it: **strict**, **seed**
        /// or both. See the design document (`docs/design.md` in the repository) §2 for the full semantics.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ViolationCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ViolationCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ViolationCode] = &[$(ViolationCode::$variant,)*];

            /// The stable snake_case code.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( ViolationCode::$variant => $code, )*
                }
            }

            /// The code for a snake_case string, if it is one.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $( $code => Some(ViolationCode::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// `missing_association_type` (both): the document has no `association_type` key.
    MissingAssociationType = "missing_association_type",
    /// `invalid_association_type` (both): `association_type` is not one of
    /// `individual`, `tenants_in_common`, `joint_ownership` (exact spelling).
    /// Strict also rejects a non-string such as `null`; the seed lets `null`
    /// through, because its CHECK evaluates to NULL, which passes.
    InvalidAssociationType = "invalid_association_type",
    /// `duplicate_key` (strict): a key appears more than once in the text, so
    /// storing it as `jsonb` would silently drop all but the last value.
    DuplicateKey = "duplicate_key",
    /// `non_canonical_owner_key` (strict): an owner key (`^[0-9]+$`) that is not
    /// a canonical positive `BIGINT` id: `"0"`, `"007"`, or larger than
    /// 9223372036854775807.
    NonCanonicalOwnerKey = "non_canonical_owner_key",
    /// `malformed_owner_key` (strict): a key that looks like an owner id but
    /// is not plain ASCII digits: ASCII digits with a sign, spaces (Unicode's
    /// White_Space, such as U+00A0) or separators (`"+12"`, `" 12"`,
    /// `"12\u{a0}"`, `"1.5"`, `"1,000"`). The seed treats such a key as
    /// metadata and so would silently ignore the owner. The SQL recognises
    /// exactly the same keys, whatever the database's locale; a key of other
    /// digits (`"١٢٣"`) is metadata in both.
    MalformedOwnerKey = "malformed_owner_key",
    /// `share_not_a_number` (both): an owner's share is a string, `null`, a
    /// boolean, an array or an object. The seed raises an error casting it to
    /// `numeric` (tenants in common only).
    ShareNotANumber = "share_not_a_number",
    /// `share_not_positive` (strict): a share is zero or negative.
    ShareNotPositive = "share_not_positive",
    /// `share_negative` (seed): a share rounded to two decimals is below zero.
    ShareNegative = "share_negative",
    /// `share_above_100` (both): a share is above 100 (for the seed: after
    /// rounding to two decimals).
    ShareAbove100 = "share_above_100",
    /// `share_too_precise` (strict): a share is not a whole number of
    /// hundredths (`33.335`); it is never rounded.
    ShareTooPrecise = "share_too_precise",
    /// `individual_owner_count` (both): strict needs exactly one owner key in
    /// an individual ownership; the seed allows at most one.
    IndividualOwnerCount = "individual_owner_count",
    /// `individual_share_not_100` (strict): the individual owner's share is not
    /// exactly 100.00.
    IndividualShareNot100 = "individual_share_not_100",
    /// `too_few_owners` (both): tenants in common with fewer than two owners
    /// (seed: none at all), or `joint_owners` with fewer than two elements.
    TooFewOwners = "too_few_owners",
    /// `total_not_100` (both): tenants-in-common shares do not total exactly
    /// 100.00 (seed: the rounded total is outside 99.99..=100.01). Only
    /// reported when every share is itself valid.
    TotalNot100 = "total_not_100",
    /// `unexpected_joint_owners` (strict): `joint_owners` in an individual or
    /// tenants-in-common document.
    UnexpectedJointOwners = "unexpected_joint_owners",
    /// `missing_joint_owners` (both): a joint ownership without `joint_owners`.
    MissingJointOwners = "missing_joint_owners",
    /// `joint_owners_not_array` (both): `joint_owners` is not a JSON array.
    JointOwnersNotArray = "joint_owners_not_array",
    /// `invalid_joint_owner` (strict): an element of `joint_owners` is not a
    /// positive integer id of at most 9223372036854775807.
    InvalidJointOwner = "invalid_joint_owner",
    /// `duplicate_joint_owner` (strict): the same id twice in `joint_owners`.
    DuplicateJointOwner = "duplicate_joint_owner",
    /// `unexpected_share` (strict): a percentage (owner) key in a joint
    /// ownership, whose owners are undivided.
    UnexpectedShare = "unexpected_share",
    /// `document_too_large` (strict): the document as PostgreSQL stores it
    /// exceeds [`Limits::max_bytes`](crate::Limits) bytes.
    DocumentTooLarge = "document_too_large",
    /// `document_too_deep` (strict): containers nest deeper than [`Limits::max_depth`](crate::Limits).
    DocumentTooDeep = "document_too_deep",
    /// `too_many_owners` (strict): more owners than [`Limits::max_owners`](crate::Limits).
    TooManyOwners = "too_many_owners",
}

impl fmt::Display for ViolationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for ViolationCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One way in which a document breaks the rules.
///
/// ```
/// use coownership::{Document, Rules, ViolationCode};
///
/// let doc = Document::parse(r#"{"association_type":"tenants_in_common","1":"50","2":50}"#)?;
/// let violations = doc.validate(Rules::Strict).unwrap_err();
/// let v = violations.iter().next().unwrap();
/// assert_eq!(v.code(), ViolationCode::ShareNotANumber);
/// assert_eq!(v.key(), "1");
/// assert_eq!(v.to_string(), r#"share_not_a_number at "1": share of owner "1" is a string, expected a number"#);
/// # Ok::<(), coownership::ParseError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{code} at {key:?}: {message}")]
pub struct Violation {
    code: ViolationCode,
    key: String,
    message: String,
}

impl Violation {
    pub(crate) fn new(
        code: ViolationCode,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Violation {
            code,
            key: key.into(),
            message: message.into(),
        }
    }

    /// What kind of violation this is; `code().as_str()` is the stable string.
    pub fn code(&self) -> ViolationCode {
        self.code
    }

    /// The key (or `joint_owners[i]` element) it concerns; empty when it
    /// concerns the document as a whole.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A human-readable explanation a support engineer can act on.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Every violation of one document, in the order the document was checked;
/// never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violations(pub(crate) Vec<Violation>);

impl Violations {
    /// Wraps a non-empty list; `None` when there is nothing wrong.
    pub(crate) fn from_vec(v: Vec<Violation>) -> Option<Self> {
        if v.is_empty() {
            None
        } else {
            Some(Violations(v))
        }
    }

    /// The violations, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Violation> {
        self.0.iter()
    }

    /// How many violations (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The codes as strings, in order (with repeats).
    pub fn codes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|v| v.code.as_str())
    }

    /// Whether any violation has this code.
    pub fn contains(&self, code: ViolationCode) -> bool {
        self.0.iter().any(|v| v.code == code)
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            fmt::Display::fmt(v, f)?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

impl IntoIterator for Violations {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Violations {
    type Item = &'a Violation;
    type IntoIter = std::slice::Iter<'a, Violation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
