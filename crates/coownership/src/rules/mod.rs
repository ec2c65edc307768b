//! The two rule sets: [`Rules::Strict`] for new writes and [`Rules::Seed`],
//! which reproduces the legacy database CHECK verdict for verdict.

use std::borrow::Cow;

use crate::document::Document;
use crate::reader::parser::{unescape, Entry};

mod apply;
pub(crate) mod seed;
pub(crate) mod strict;

pub use apply::ReadError;
mod violation;

pub use violation::{Violation, ViolationCode, Violations};

/// Which rules a document is checked against.
///
/// ```
/// use coownership::{Document, Rules};
///
/// // A legacy row: the seed's CHECK lets a NULL association_type through.
/// let legacy = Document::parse(r#"{"association_type": null}"#)?;
/// assert!(legacy.validate(Rules::Seed).is_ok());
/// assert!(legacy.validate(Rules::Strict).is_err());
/// # Ok::<(), coownership::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Rules {
    /// The rule for new writes (the design document, `docs/design.md`, §2 "strict"): exact shares, totals
    /// of exactly 100.00, canonical owner ids, no loopholes.
    #[default]
    Strict,
    /// The legacy `client_products` CHECK (`valid_product_ownership_details_precise`
    /// with `validate_ownership_percentages_precise`), verdict for verdict,
    /// quirks included: rounding half away from zero, the 99.99..=100.01
    /// window, and a NULL `association_type` passing. This is the verdict of
    /// PostgreSQL 13 to 17 (the portal runs 17.5); see [`Rules::SeedPg18`].
    Seed,
    /// The same legacy CHECK as PostgreSQL 18 and later evaluate it. Since 18,
    /// casting a JSON `null` to `numeric` gives SQL NULL instead of an error,
    /// so a tenants-in-common share of `null` no longer rejects the row: it
    /// makes the seed function's running total NULL, and with it the final
    /// total check, which then passes. Every other clause is unchanged.
    ///
    /// ```
    /// use coownership::{Document, Rules};
    ///
    /// let doc = Document::parse(r#"{"association_type": "tenants_in_common", "1": null, "2": 40}"#)?;
    /// assert!(doc.validate(Rules::Seed).is_err()); // PostgreSQL 13-17: cannot cast jsonb null
    /// assert!(doc.validate(Rules::SeedPg18).is_ok()); // 18: the total is NULL, the CHECK passes
    /// # Ok::<(), coownership::ParseError>(())
    /// ```
    SeedPg18,
}

impl Rules {
    /// `strict`, `seed` or `seed-pg18`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rules::Strict => "strict",
            Rules::Seed => "seed",
            Rules::SeedPg18 => "seed-pg18",
        }
    }
}

impl std::str::FromStr for Rules {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(Rules::Strict),
            "seed" => Ok(Rules::Seed),
            "seed-pg18" => Ok(Rules::SeedPg18),
            other => Err(format!(
                "unknown rules {other:?}: expected strict, seed or seed-pg18"
            )),
        }
    }
}

/// Size limits for the strict rules; exceeding one is a violation
/// (`document_too_large`, `document_too_deep`, `too_many_owners`). The
/// shipped SQL applies [`Limits::DEFAULT`] (its `ownership_limits()`).
///
/// The defaults hold any real product comfortably (10,000 owners is also the
/// most an equal split supports) while keeping one document's cost bounded.
///
/// ```
/// use coownership::{Document, Limits, Rules};
///
/// let doc = Document::parse(r#"{"association_type":"tenants_in_common","1":50.00,"2":50.00}"#)?;
/// let tight = Limits { max_owners: 1, ..Limits::default() };
/// let err = doc.validate_with(Rules::Strict, &tight).unwrap_err();
/// assert!(err.codes().any(|c| c == "too_many_owners"));
/// # Ok::<(), coownership::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest document in bytes, as PostgreSQL prints it once stored
    /// ([`Document::stored_len`](crate::Document::stored_len), the SQL's
    /// `octet_length(d::text)`), so that Rust and the database measure the
    /// same thing whatever the writer's spacing. Default: 524,288 (512 KiB).
    pub max_bytes: usize,
    /// Most owners (owner keys, or `joint_owners` elements). Default: 10,000.
    pub max_owners: usize,
    /// Deepest nesting of containers, the document itself counting 1 (so
    /// metadata may nest 63 levels by default). Default: 64.
    pub max_depth: usize,
}

impl Limits {
    /// The default limits.
    pub const DEFAULT: Limits = Limits {
        max_bytes: 512 * 1024,
        max_owners: 10_000,
        max_depth: 64,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// The entries PostgreSQL's `jsonb` would keep: for a repeated key, the last.
pub(crate) fn effective(doc: &Document) -> impl Iterator<Item = &Entry> + '_ {
    let superseded = doc.superseded();
    doc.raw_entries()
        .iter()
        .enumerate()
        .filter(move |(i, _)| superseded.as_ref().map_or(true, |s| !s[*i]))
        .map(|(_, e)| e)
}

/// The value of a JSON string literal (with its quotes).
pub(crate) fn string_value(raw: &str) -> Cow<'_, str> {
    let body = &raw[1..raw.len() - 1];
    if body.contains('\\') {
        Cow::Owned(unescape(body.as_bytes()))
    } else {
        Cow::Borrowed(body)
    }
}

/// Short text for a value in a message: the raw JSON, cut at 40 characters.
pub(crate) fn shown(raw: &str) -> String {
    let mut chars = raw.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}
