//! The serde integration.
//!
//! `Deserialize` for [`Document`] and [`Ownership`] takes the exact text of
//! the value through [`serde_json::value::RawValue`] and parses it with this
//! crate's own reader, so numbers are never routed through `f64` and the
//! result does not depend on serde_json's `arbitrary_precision` feature. It
//! therefore works with serde_json's deserializer (`from_str`, `from_slice`,
//! `from_reader`, or as a field of a larger struct), not with other formats.

use serde::de::Error as _;
use serde::ser::Error as _;
use serde_json::value::RawValue;

use crate::{Document, Ownership};

impl serde::Serialize for Document {
    /// Writes the document's exact text (serde_json serializers only).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue =
            serde_json::from_str(self.as_str().trim()).map_err(S::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Document {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Document::parse(raw.get()).map_err(D::Error::custom)
    }
}

impl serde::Serialize for Ownership {
    /// Writes the canonical form (serde_json serializers only).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.to_json()).map_err(S::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Ownership {
    /// Parses a document and applies the strict rules; a violation is an error.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let doc = Document::deserialize(deserializer)?;
        doc.to_ownership().map_err(D::Error::custom)
    }
}
