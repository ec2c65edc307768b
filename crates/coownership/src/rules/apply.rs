//! Applying the rules to a document: [`Document::validate`] and the typed
//! reads that go through the strict rules. Here, in the rules layer, so that
//! the document (below) never calls up into the rules.

use thiserror::Error;

use super::{seed, strict, Limits, Rules, Violations};
use crate::{Document, Ownership, ParseError};

/// Reading a typed [`Ownership`](crate::Ownership) from text failed: either the
/// text is not a JSON object, or the document breaks the strict rules.
#[derive(Clone, Debug, Error)]
pub enum ReadError {
    /// The text is not a JSON object.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The document breaks the rules; every violation is listed.
    #[error(transparent)]
    Invalid(#[from] Violations),
}

impl Document {
    /// Checks the document under `rules` with the default [`Limits`]; lists
    /// every violation.
    ///
    /// ```
    /// use coownership::{Document, Rules};
    ///
    /// // The seed tolerates a total of 100.01; strict does not.
    /// let doc = Document::parse(
    ///     r#"{"association_type":"tenants_in_common","1":50.00,"2":50.01}"#,
    /// )?;
    /// assert!(doc.validate(Rules::Seed).is_ok());
    /// let violations = doc.validate(Rules::Strict).unwrap_err();
    /// assert_eq!(violations.codes().collect::<Vec<_>>(), ["total_not_100"]);
    /// # Ok::<(), coownership::ParseError>(())
    /// ```
    pub fn validate(&self, rules: Rules) -> Result<(), Violations> {
        self.validate_with(rules, &Limits::default())
    }

    /// Like [`validate`](Document::validate), with explicit limits (which
    /// apply to the strict rules only: the seed has none).
    pub fn validate_with(&self, rules: Rules, limits: &Limits) -> Result<(), Violations> {
        match rules {
            Rules::Strict => strict::check(self, limits).map(|_| ()),
            Rules::Seed => seed::check(self, seed::NullShare::Error),
            Rules::SeedPg18 => seed::check(self, seed::NullShare::SqlNull),
        }
    }

    /// The typed ownership, if the document follows the strict rules (with
    /// the default [`Limits`]). Metadata is not part of the typed value.
    pub fn to_ownership(&self) -> Result<Ownership, Violations> {
        strict::check(self, &Limits::default())
    }

    /// The canonical text: the typed ownership in canonical form followed by
    /// the metadata members in document order, their values verbatim.
    /// Requires the document to follow the strict rules.
    pub fn to_canonical(&self) -> Result<String, Violations> {
        let ownership = self.to_ownership()?;
        let mut out = String::with_capacity(self.as_str().len() + 8);
        ownership.write_json_members(&mut out);
        for (k, v) in self.metadata() {
            out.push(',');
            out.push_str(&self.key_source(k));
            out.push(':');
            out.push_str(v);
        }
        out.push('}');
        Ok(out)
    }
}

impl Ownership {
    /// Parses and validates a document under the strict rules.
    ///
    /// Metadata keys are allowed but dropped from the typed value; use
    /// [`Document`](crate::Document) to keep them.
    pub fn parse(json: &str) -> Result<Self, ReadError> {
        let doc = Document::parse(json)?;
        Ok(doc.to_ownership()?)
    }
}
