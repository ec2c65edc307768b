//! sqlx 0.8 (feature `sqlx`): `Type`, `Encode` and `Decode` for PostgreSQL,
//! with the same wire layouts as the postgres-types implementations
//! (`super::layout`).
//!
//! | Rust | PostgreSQL |
//! | --- | --- |
//! | `Document` | `jsonb` (sent as), `json`: the exact text |
//! | `Ownership` | `jsonb` (sent as), `json`: the canonical form out; decoding applies the strict rules |
//! | `Share` | `numeric`, scale 2 |
//!
//! Values are sent as `jsonb`; PostgreSQL assigns them to a `json` column
//! (or parameter) by its own cast, which keeps the text.

use ::sqlx::encode::IsNull;
use ::sqlx::error::BoxDynError;
use ::sqlx::postgres::types::Oid;
use ::sqlx::postgres::{
    PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueFormat, PgValueRef, Postgres,
};
use ::sqlx::{Decode, Encode, Type, TypeInfo as _, ValueRef as _};

use super::layout;
use crate::{Document, Ownership, Share};

const JSON: Oid = Oid(114);
const JSONB: Oid = Oid(3802);
const JSONB_ARRAY: Oid = Oid(3807);
const NUMERIC: Oid = Oid(1700);
const NUMERIC_ARRAY: Oid = Oid(1231);

fn is(ty: &PgTypeInfo, oid: Oid) -> bool {
    ty.oid() == Some(oid)
}

/// The JSON text of a `json`/`jsonb` value, in either format.
fn json_text<'r>(value: &PgValueRef<'r>) -> Result<&'r [u8], BoxDynError> {
    let binary_jsonb = value.format() == PgValueFormat::Binary && is(&value.type_info(), JSONB);
    Ok(layout::json_text(binary_jsonb, value.as_bytes()?)?)
}

macro_rules! json_type {
    ($t:ty) => {
        impl Type<Postgres> for $t {
            fn type_info() -> PgTypeInfo {
                PgTypeInfo::with_oid(JSONB)
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                is(ty, JSONB) || is(ty, JSON)
            }
        }

        impl PgHasArrayType for $t {
            fn array_type_info() -> PgTypeInfo {
                PgTypeInfo::with_oid(JSONB_ARRAY)
            }

            fn array_compatible(ty: &PgTypeInfo) -> bool {
                is(ty, JSONB_ARRAY) || ty.name() == "JSON[]"
            }
        }
    };
}

json_type!(Document);
json_type!(Ownership);

impl Encode<'_, Postgres> for Document {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        layout::write_json(true, self.as_str(), &mut **buf);
        Ok(IsNull::No)
    }
}

impl<'r> Decode<'r, Postgres> for Document {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(layout::document(json_text(&value)?)?)
    }
}

impl Encode<'_, Postgres> for Ownership {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        layout::write_json(true, &self.to_json(), &mut **buf);
        Ok(IsNull::No)
    }
}

/// Decoding applies the strict rules: a stored row that breaks them is an
/// error carrying the [`Violations`](crate::Violations).
impl<'r> Decode<'r, Postgres> for Ownership {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        layout::ownership(json_text(&value)?)
    }
}

impl Type<Postgres> for Share {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(NUMERIC)
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        is(ty, NUMERIC)
    }
}

impl PgHasArrayType for Share {
    fn array_type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(NUMERIC_ARRAY)
    }
}

/// Always with scale 2 (`0.00`, `100.00`).
impl Encode<'_, Postgres> for Share {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        layout::write_share(*self, &mut **buf);
        Ok(IsNull::No)
    }
}

impl<'r> Decode<'r, Postgres> for Share {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => layout::read_share(value.as_bytes()?),
            PgValueFormat::Text => Ok(value.as_str()?.parse()?),
        }
    }
}
