//! A small, strict JSON (RFC 8259) parser that splits a document into its
//! top-level entries and keeps every value as its exact source text.
//!
//! It never recurses: nested values are checked with an explicit stack, so a
//! metadata value nested 100,000 levels deep costs memory in proportion to its
//! size and cannot overflow the call stack.

use std::ops::Range;

use super::error::{ParseError, ParseErrorKind};

/// How deep containers may nest: PostgreSQL's JSON parser may stop before
/// (at its stack limit) where we would not. `Document::MAX_NESTING`.
pub(crate) const MAX_NESTING: usize = 1000;

/// The JSON type of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }
}

/// An object key: a span of the source when it has no escapes, else decoded.
#[derive(Clone, Debug)]
pub(crate) enum Key {
    Span(Range<usize>),
    Owned(Box<str>),
}

/// One top-level `key: value` pair.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key: Key,
    pub value: Range<usize>,
    pub kind: Kind,
}

pub(crate) struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    /// The deepest nesting of containers seen inside values (0: scalars only).
    max_depth: usize,
    /// Some number was written with an exponent.
    exponent: bool,
}

/// What [`Parser::document`] found: the top-level entries, the nesting depth
/// (1 for an object of scalars), and whether any number has an exponent.
pub(crate) struct Parsed {
    pub entries: Vec<Entry>,
    pub depth: usize,
    pub exponent: bool,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Parser {
            src: src.as_bytes(),
            pos: 0,
            max_depth: 0,
            exponent: false,
        }
    }

    fn err(&self, kind: ParseErrorKind) -> ParseError {
        ParseError::new(kind, self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), ParseError> {
        match self.peek() {
            Some(c) if c == b => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.unexpected()),
        }
    }

    fn unexpected(&self) -> ParseError {
        match self.peek() {
            None => self.err(ParseErrorKind::UnexpectedEnd),
            Some(_) => {
                // Report the whole character, not a byte of it.
                let rest = std::str::from_utf8(&self.src[self.pos..]).unwrap_or("");
                let c = rest.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
                self.err(ParseErrorKind::UnexpectedCharacter(c))
            }
        }
    }

    /// Parses a whole document: one object, surrounded by optional whitespace.
    /// Parses a whole document: its top-level entries, and its nesting depth
    /// (1 for an object of scalars).
    pub(crate) fn document(mut self) -> Result<Parsed, ParseError> {
        if self.src.is_empty() {
            return Err(self.err(ParseErrorKind::Empty));
        }
        if self.src.starts_with("\u{feff}".as_bytes()) {
            return Err(self.err(ParseErrorKind::ByteOrderMark));
        }
        self.ws();
        if self.peek() != Some(b'{') {
            if self.peek().is_none() {
                return Err(self.err(ParseErrorKind::Empty));
            }
            let at = self.pos;
            let kind = self.value()?;
            self.ws();
            if self.peek().is_some() {
                return Err(self.err(ParseErrorKind::TrailingCharacters));
            }
            return Err(ParseError::new(
                ParseErrorKind::NotAnObject(kind.name()),
                at,
            ));
        }
        self.pos += 1;
        let mut entries = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                let key = self.key()?;
                self.ws();
                self.expect(b':')?;
                self.ws();
                let start = self.pos;
                let kind = self.value()?;
                entries.push(Entry {
                    key,
                    value: start..self.pos,
                    kind,
                });
                self.ws();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.unexpected()),
                }
            }
        }
        self.ws();
        if self.peek().is_some() {
            return Err(self.err(ParseErrorKind::TrailingCharacters));
        }
        Ok(Parsed {
            entries,
            depth: self.max_depth + 1,
            exponent: self.exponent,
        })
    }

    fn key(&mut self) -> Result<Key, ParseError> {
        if self.peek() != Some(b'"') {
            return Err(self.unexpected());
        }
        let start = self.pos + 1;
        let escaped = self.string()?;
        let span = start..self.pos - 1;
        if escaped {
            Ok(Key::Owned(unescape(&self.src[span]).into_boxed_str()))
        } else {
            Ok(Key::Span(span))
        }
    }

    /// Skips a string starting at the opening quote; returns whether it had escapes.
    fn string(&mut self) -> Result<bool, ParseError> {
        self.pos += 1;
        let mut escaped = false;
        loop {
            // Fast path: plain bytes.
            while let Some(&b) = self.src.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            match self.peek() {
                None => return Err(self.err(ParseErrorKind::UnexpectedEnd)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1;
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            if hi == 0 {
                                return Err(ParseError::new(
                                    ParseErrorKind::NulCharacter,
                                    self.pos - 6,
                                ));
                            }
                            if (0xD800..0xDC00).contains(&hi) {
                                if self.src.get(self.pos..self.pos + 2) != Some(b"\\u") {
                                    return Err(self.err(ParseErrorKind::LoneSurrogate));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err(ParseErrorKind::LoneSurrogate));
                                }
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(self.err(ParseErrorKind::LoneSurrogate));
                            }
                        }
                        _ => return Err(self.err(ParseErrorKind::InvalidEscape)),
                    }
                }
                Some(_) => return Err(self.err(ParseErrorKind::ControlCharacterInString)),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .src
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err(ParseErrorKind::InvalidEscape))?;
        let mut v = 0;
        for &d in digits {
            let x = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.err(ParseErrorKind::InvalidEscape))?;
            v = v * 16 + x;
        }
        self.pos += 4;
        Ok(v)
    }

    fn number(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.peek() {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        if !crate::number::is_number(text) {
            return Err(ParseError::new(ParseErrorKind::InvalidNumber, start));
        }
        if crate::number::pg_printed_len(text).is_none() {
            return Err(ParseError::new(ParseErrorKind::NumberOutOfRange, start));
        }
        self.exponent |= text.iter().any(|&b| b == b'e' || b == b'E');
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ParseError> {
        if self.src[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    // Long: one state machine over the bytes (the parser's hot loop), which
    // reads best, and runs fastest, as one function.
    /// Skips one value of any depth, iteratively; returns its kind.
    pub(crate) fn value(&mut self) -> Result<Kind, ParseError> {
        let kind = match self.peek() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => {
                self.string()?;
                return Ok(Kind::String);
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                return Ok(Kind::Number);
            }
            Some(b't') => return self.literal(b"true").map(|_| Kind::Bool),
            Some(b'f') => return self.literal(b"false").map(|_| Kind::Bool),
            Some(b'n') => return self.literal(b"null").map(|_| Kind::Null),
            _ => return Err(self.unexpected()),
        };
        // A container: `true` on the stack is an object, `false` an array.
        let mut stack: Vec<bool> = Vec::new();
        let mut first = true;
        loop {
            if first {
                // Just after an opening bracket at self.pos.
                let is_object = self.peek() == Some(b'{');
                self.pos += 1;
                stack.push(is_object);
                // The document itself is one level more than the stack.
                if stack.len() >= MAX_NESTING {
                    return Err(self.err(ParseErrorKind::TooDeep(MAX_NESTING)));
                }
                self.max_depth = self.max_depth.max(stack.len());
                self.ws();
                let close = if is_object { b'}' } else { b']' };
                if self.peek() == Some(close) {
                    self.pos += 1;
                    stack.pop();
                    first = false;
                    if !self.after_value(&mut stack)? {
                        return Ok(kind);
                    }
                    continue;
                }
            }
            first = false;
            // At the start of an element (after `[`/`,`) or member (after `{`/`,`).
            if stack.last() == Some(&true) {
                self.ws();
                if self.peek() != Some(b'"') {
                    return Err(self.unexpected());
                }
                self.string()?;
                self.ws();
                self.expect(b':')?;
            }
            self.ws();
            match self.peek() {
                Some(b'{' | b'[') => {
                    first = true;
                    continue;
                }
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                _ => return Err(self.unexpected()),
            }
            if !self.after_value(&mut stack)? {
                return Ok(kind);
            }
        }
    }

    /// After a value inside containers: consumes `,` (returns true: another
    /// element follows) or closing brackets (popping; returns false once the
    /// outermost container closed).
    fn after_value(&mut self, stack: &mut Vec<bool>) -> Result<bool, ParseError> {
        loop {
            let Some(&is_object) = stack.last() else {
                return Ok(false);
            };
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    return Ok(true);
                }
                Some(b'}') if is_object => {
                    self.pos += 1;
                    stack.pop();
                }
                Some(b']') if !is_object => {
                    self.pos += 1;
                    stack.pop();
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// Iterates the elements of a (valid) array value: `(kind, span)` pairs.
    pub(crate) fn array_elements(src: &'a str) -> Vec<(Kind, Range<usize>)> {
        let mut p = Parser::new(src);
        let mut out = Vec::new();
        p.ws();
        if p.expect(b'[').is_err() {
            return out;
        }
        p.ws();
        if p.peek() == Some(b']') {
            return out;
        }
        loop {
            p.ws();
            let start = p.pos;
            let Ok(kind) = p.value() else { return out };
            out.push((kind, start..p.pos));
            p.ws();
            match p.peek() {
                Some(b',') => p.pos += 1,
                _ => return out,
            }
        }
    }
}

/// Decodes a string body (between the quotes) that the parser has validated.
pub(crate) fn unescape(body: &[u8]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    let mut units: Vec<u16> = Vec::new();
    while i < body.len() {
        if body[i] != b'\\' {
            let start = i;
            while i < body.len() && body[i] != b'\\' {
                i += 1;
            }
            out.push_str(std::str::from_utf8(&body[start..i]).unwrap_or(""));
            continue;
        }
        let c = body.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        match c {
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                units.clear();
                loop {
                    let hex = body.get(i..i + 4).and_then(|h| std::str::from_utf8(h).ok());
                    let Some(u) = hex.and_then(|h| u16::from_str_radix(h, 16).ok()) else {
                        break;
                    };
                    units.push(u);
                    i += 4;
                    // A high surrogate is followed by its low half.
                    if (0xD800..0xDC00).contains(&u) && body.get(i..i + 2) == Some(b"\\u") {
                        i += 2;
                        continue;
                    }
                    break;
                }
                out.extend(
                    char::decode_utf16(units.iter().copied()).map(|r| r.unwrap_or('\u{fffd}')),
                );
            }
            other => out.push(char::from(other)),
        }
    }
    out
}
