//! [`Document`]: an ownership document exactly as stored, metadata and all.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use crate::number::exact_i64;
use crate::reader::parser::{Entry, Key, Kind, Parser};
use crate::reader::{ParseError, ParseErrorKind};
use crate::{ModelError, Ownership};

/// An ownership document as stored in `ownership_details`: any JSON object.
///
/// A `Document` keeps the exact text it was parsed from, so nothing is lost:
/// metadata keys (`note`, …), the spelling of every number, even duplicate keys
/// are all still there for [`as_str`](Document::as_str). It may break the
/// rules (legacy rows often do); [`validate`](Document::validate) says how, and
/// [`to_ownership`](Document::to_ownership) gives the typed [`Ownership`] when
/// it follows the strict rules.
///
/// ```
/// use coownership::{Document, Ownership, OwnerId, Rules};
///
/// let doc = Document::parse(
///     r#"{"association_type": "individual", "123": 100.00, "note": "migrated"}"#,
/// )?;
/// doc.validate(Rules::Strict)?;
/// assert_eq!(doc.to_ownership()?, Ownership::individual(OwnerId::new(123)?));
/// assert_eq!(doc.get("note"), Some(r#""migrated""#));
///
/// // Canonical form: fixed key order, two decimals, metadata kept verbatim.
/// assert_eq!(
///     doc.to_canonical()?,
///     r#"{"association_type":"individual","123":100.00,"note":"migrated"}"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Document {
    text: Box<str>,
    entries: Vec<Entry>,
    depth: usize,
    /// Some number has an exponent (so PostgreSQL may print it much longer).
    exponent: bool,
    duplicates: bool,
}

/// Keys whose meaning the wire format defines; every other non-owner key is metadata.
pub(crate) const ASSOCIATION_TYPE: &str = "association_type";
pub(crate) const JOINT_OWNERS: &str = "joint_owners";

pub(crate) use crate::owner_key::{is_owner_key, looks_like_owner_key};

fn is_metadata_key(key: &str) -> bool {
    key != ASSOCIATION_TYPE && key != JOINT_OWNERS && !is_owner_key(key)
}

impl Document {
    /// The deepest nesting [`parse`](Self::parse) accepts, the document
    /// itself counting 1: PostgreSQL's JSON parser stops at its stack limit,
    /// which deeper documents may reach (the strict rules allow far less:
    /// [`Limits::max_depth`](crate::Limits)).
    pub const MAX_NESTING: usize = crate::reader::parser::MAX_NESTING;

    /// Parses a JSON object. Anything else, including JSON that is not an
    /// object, is a [`ParseError`].
    pub fn parse(json: &str) -> Result<Self, ParseError> {
        let parsed = Parser::new(json).document()?;
        let mut doc = Document {
            text: json.into(),
            entries: parsed.entries,
            depth: parsed.depth,
            exponent: parsed.exponent,
            duplicates: false,
        };
        doc.duplicates = doc.find_duplicates();
        Ok(doc)
    }

    /// Parses JSON bytes; they must be UTF-8 without a byte-order mark.
    pub fn from_slice(json: &[u8]) -> Result<Self, ParseError> {
        if json.starts_with(b"\xEF\xBB\xBF") {
            return Err(ParseError::new(ParseErrorKind::ByteOrderMark, 0));
        }
        let text = std::str::from_utf8(json)
            .map_err(|e| ParseError::new(ParseErrorKind::InvalidUtf8, e.valid_up_to()))?;
        Document::parse(text)
    }

    /// Builds a document from an already parsed [`serde_json::Value`].
    ///
    /// Numbers are taken from the `Value` as they are: without serde_json's
    /// `arbitrary_precision` feature a `Value` holds floats as `f64`, so a
    /// literal with more than about 15 significant digits was already rounded
    /// before it got here. Parse the original text with [`Document::parse`]
    /// when exactness matters.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, ParseError> {
        match value {
            serde_json::Value::Object(_) => Document::parse(&value.to_string()),
            other => {
                let found = match other {
                    serde_json::Value::Null => Kind::Null,
                    serde_json::Value::Bool(_) => Kind::Bool,
                    serde_json::Value::Number(_) => Kind::Number,
                    serde_json::Value::String(_) => Kind::String,
                    _ => Kind::Array,
                };
                Err(ParseError::new(
                    ParseErrorKind::NotAnObject(found.name()),
                    0,
                ))
            }
        }
    }

    /// A document holding exactly the canonical form of `ownership`.
    pub fn from_ownership(ownership: &Ownership) -> Self {
        Document::parse(&ownership.to_json()).expect("canonical JSON is a valid document")
    }

    /// Returns this document with a metadata member appended.
    ///
    /// Owner keys (`^[0-9]+$`), `association_type` and `joint_owners` are not
    /// metadata and are refused, and so is a key the document already has.
    ///
    /// ```
    /// use coownership::{Document, Ownership, OwnerId};
    ///
    /// let doc = Document::from_ownership(&Ownership::individual(OwnerId::new(7)?))
    ///     .with_metadata("note", &serde_json::json!("no_previous_ownership"))?;
    /// assert_eq!(
    ///     doc.as_str(),
    ///     r#"{"association_type":"individual","7":100.00,"note":"no_previous_ownership"}"#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_metadata(self, key: &str, value: &serde_json::Value) -> Result<Self, ModelError> {
        if !is_metadata_key(key) || self.get(key).is_some() {
            return Err(ModelError::ReservedKey(key.to_owned()));
        }
        let body = self.text.trim_end();
        let body = body.strip_suffix('}').unwrap_or(body).trim_end();
        let mut out = String::with_capacity(body.len() + key.len() + 16);
        out.push_str(body);
        if !self.entries.is_empty() {
            out.push(',');
        }
        out.push_str(&serde_json::Value::String(key.to_owned()).to_string());
        out.push(':');
        out.push_str(&value.to_string());
        out.push('}');
        Ok(Document::parse(&out).expect("appending a member keeps the document valid"))
    }

    /// The exact text the document was parsed from.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Every member in document order as `(key, raw JSON value)`, duplicates included.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|e| (self.key(e), self.raw(e)))
    }

    /// The raw JSON text of a member (the last one, if the key is repeated,
    /// which is what PostgreSQL's `jsonb` keeps).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| self.key(e) == key)
            .map(|e| self.raw(e))
    }

    /// The metadata members (neither `association_type`, `joint_owners` nor an
    /// owner key) in document order, as `(key, raw JSON value)`.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries().filter(|(k, _)| is_metadata_key(k))
    }

    /// The owner members (keys that are owner ids) in document order, as
    /// `(key, raw JSON value)`, duplicates included.
    ///
    /// ```
    /// use coownership::Document;
    ///
    /// let doc = Document::parse(r#"{"association_type":"tenants_in_common","7":60,"8":40,"note":1}"#)?;
    /// assert_eq!(doc.owner_entries().collect::<Vec<_>>(), [("7", "60"), ("8", "40")]);
    /// # Ok::<(), coownership::ParseError>(())
    /// ```
    pub fn owner_entries(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries().filter(|(k, _)| is_owner_key(k))
    }

    /// The elements of a `joint_owners` array that are whole numbers within
    /// `i64` (written `7`, `7.0` or `7e0`), in order; other elements and a
    /// `joint_owners` that is not an array give nothing.
    ///
    /// ```
    /// use coownership::Document;
    ///
    /// let doc = Document::parse(r#"{"association_type":"joint_ownership","joint_owners":[7,"x",8.0]}"#)?;
    /// assert_eq!(doc.joint_owner_ids(), [7, 8]);
    /// # Ok::<(), coownership::ParseError>(())
    /// ```
    pub fn joint_owner_ids(&self) -> Vec<i64> {
        let Some(raw) = self.get(JOINT_OWNERS) else {
            return Vec::new();
        };
        Parser::array_elements(raw)
            .into_iter()
            .filter_map(|(_, span)| exact_i64(raw[span].as_bytes()))
            .collect()
    }

    /// Whether some key appears more than once in the text.
    pub fn has_duplicate_keys(&self) -> bool {
        self.duplicates
    }

    /// The size of the document text in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// The size in bytes of the document as PostgreSQL prints it once stored
    /// in `jsonb` (`octet_length(d::text)`): duplicate keys dropped, `": "`
    /// and `", "` between members, numbers without exponents, strings
    /// re-escaped. The strict rules' [`Limits::max_bytes`](crate::Limits)
    /// applies to this size, so that the database measures the same.
    ///
    /// ```
    /// use coownership::Document;
    ///
    /// let doc = Document::parse(r#"{"association_type":"individual","7":1e2}"#)?;
    /// assert_eq!(doc.stored_len(), r#"{"7": 100, "association_type": "individual"}"#.len());
    /// # Ok::<(), coownership::ParseError>(())
    /// ```
    pub fn stored_len(&self) -> usize {
        crate::reader::printed::printed_len(&self.text)
    }

    /// Whether [`stored_len`](Self::stored_len) exceeds `limit`, without
    /// computing it when the text is short enough to decide: without
    /// exponents, the printed form is at most twice the text (one space
    /// after each `:` and `,`; escapes and numbers never grow).
    pub(crate) fn stored_len_exceeds(&self, limit: usize) -> Option<usize> {
        if !self.exponent && self.text.len().saturating_mul(2) <= limit {
            return None;
        }
        Some(self.stored_len()).filter(|&n| n > limit)
    }

    /// How deeply containers nest, counting the document itself: 1 for an
    /// object of scalars, 2 with an array inside, and so on.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Whether the document has no members (`{}`).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn raw_entries(&self) -> &[Entry] {
        &self.entries
    }

    pub(crate) fn key<'a>(&'a self, e: &'a Entry) -> &'a str {
        match &e.key {
            Key::Span(r) => &self.text[r.clone()],
            Key::Owned(s) => s,
        }
    }

    pub(crate) fn raw<'a>(&'a self, e: &Entry) -> &'a str {
        &self.text[e.value.clone()]
    }

    /// A key as JSON source text, quotes included (escapes as in the input).
    pub(crate) fn key_source(&self, key: &str) -> String {
        serde_json::Value::String(key.to_owned()).to_string()
    }

    /// For each entry, whether a later entry has the same key (and so
    /// replaces it, as in `jsonb`). `None` when no key repeats.
    pub(crate) fn superseded(&self) -> Option<Vec<bool>> {
        if !self.duplicates {
            return None;
        }
        let mut seen = HashSet::with_capacity(self.entries.len());
        let mut out = vec![false; self.entries.len()];
        for (i, e) in self.entries.iter().enumerate().rev() {
            out[i] = !seen.insert(self.key(e));
        }
        Some(out)
    }

    fn find_duplicates(&self) -> bool {
        let n = self.entries.len();
        if n <= 16 {
            (1..n).any(|i| {
                let k = self.key(&self.entries[i]);
                self.entries[..i].iter().any(|e| self.key(e) == k)
            })
        } else {
            let mut seen = HashSet::with_capacity(n);
            !self.entries.iter().all(|e| seen.insert(self.key(e)))
        }
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Document").field(&self.text).finish()
    }
}

impl fmt::Display for Document {
    /// Writes the exact text the document was parsed from.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Two documents are equal when their texts are identical.
impl PartialEq for Document {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Document {}

impl FromStr for Document {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Document::parse(s)
    }
}

impl TryFrom<&serde_json::Value> for Document {
    type Error = ParseError;

    fn try_from(value: &serde_json::Value) -> Result<Self, Self::Error> {
        Document::from_value(value)
    }
}

impl From<&Ownership> for Document {
    fn from(o: &Ownership) -> Self {
        Document::from_ownership(o)
    }
}
