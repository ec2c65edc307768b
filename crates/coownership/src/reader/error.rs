//! [`ParseError`]: text that is not a JSON object the database can store.

use thiserror::Error;

/// The input is not a JSON object, so there is no document to validate.
///
/// Rule violations of a well-formed document are [`Violations`](crate::Violations),
/// not parse errors.
///
/// ```
/// use coownership::Document;
///
/// let err = Document::parse(r#"{"association_type": "individual", "1": 100.00"#).unwrap_err();
/// assert_eq!(err.offset(), 46);
/// assert_eq!(err.to_string(), "unexpected end of input at byte 46");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{kind} at byte {offset}")]
pub struct ParseError {
    kind: ParseErrorKind,
    offset: usize,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, offset: usize) -> Self {
        ParseError { kind, offset }
    }

    /// What went wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// The byte offset in the input where it went wrong.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// A stable snake_case code for the error, for machine-readable output.
    ///
    /// A value that is valid JSON but not an object gives `not_an_object`;
    /// valid JSON that PostgreSQL's `jsonb` cannot store gives
    /// `nul_character`, `number_out_of_range` or `document_too_deep`; any
    /// other parse error gives `malformed_json`.
    ///
    /// ```
    /// use coownership::Document;
    ///
    /// let err = Document::parse(r#"{"note": "a\u0000b"}"#).unwrap_err();
    /// assert_eq!(err.code(), "nul_character");
    /// let err = Document::parse(r#"{"note": 1e999999}"#).unwrap_err();
    /// assert_eq!(err.code(), "number_out_of_range");
    /// ```
    pub fn code(&self) -> &'static str {
        match self.kind {
            ParseErrorKind::NotAnObject(_) => "not_an_object",
            ParseErrorKind::NulCharacter => "nul_character",
            ParseErrorKind::NumberOutOfRange => "number_out_of_range",
            ParseErrorKind::TooDeep(_) => "document_too_deep",
            _ => "malformed_json",
        }
    }
}

/// The kinds of [`ParseError`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input is empty or only whitespace.
    #[error("empty input")]
    Empty,
    /// The input is not valid UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// The input starts with a UTF-8 byte-order mark, which JSON forbids.
    #[error("byte-order mark before the document")]
    ByteOrderMark,
    /// The input ends inside a value.
    #[error("unexpected end of input")]
    UnexpectedEnd,
    /// A character that JSON does not allow here.
    #[error("unexpected character {0:?}")]
    UnexpectedCharacter(char),
    /// A number that does not follow JSON's grammar (`01`, `1.`, `NaN`, …).
    #[error("invalid number")]
    InvalidNumber,
    /// A backslash escape that JSON does not define.
    #[error("invalid escape in string")]
    InvalidEscape,
    /// A `\u` escape for half of a UTF-16 surrogate pair without its other half.
    #[error("unpaired surrogate in string escape")]
    LoneSurrogate,
    /// A raw control character (below U+0020) inside a string.
    #[error("control character in string")]
    ControlCharacterInString,
    /// A `\u0000` escape: PostgreSQL's `jsonb` (and `text`) cannot hold the
    /// NUL character, so the database would refuse the document.
    #[error("\\u0000 in a string: PostgreSQL cannot store the NUL character")]
    NulCharacter,
    /// A number that PostgreSQL's `numeric` cannot hold (an exponent of
    /// 2^30 - 1 or more, more than 16,383 decimal places, or 10^131072 or
    /// more), so the database would refuse the document.
    #[error("number out of the range PostgreSQL's numeric can store")]
    NumberOutOfRange,
    /// Containers nest deeper than the given limit ([`Document::MAX_NESTING`](crate::Document::MAX_NESTING)),
    /// which PostgreSQL's JSON parser may not reach (it stops at its stack limit).
    #[error("values nest more than {0} levels deep")]
    TooDeep(usize),
    /// Something follows the document.
    #[error("trailing characters after the document")]
    TrailingCharacters,
    /// Valid JSON, but not an object; names what was found (`an array`, …).
    #[error("expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// A `serde_json::Value` or deserializer gave something that cannot be a document.
    #[error("{0}")]
    Custom(String),
}
