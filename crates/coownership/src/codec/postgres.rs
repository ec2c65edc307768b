//! postgres-types (feature `postgres`): `FromSql` and `ToSql` for
//! [`Document`], [`Ownership`] and [`Share`]. The table of types is in
//! [`crate::pg`].

use std::error::Error;

use bytes::BytesMut;
use postgres_types::{accepts, to_sql_checked, FromSql, IsNull, ToSql, Type};

use super::layout;
use crate::{Document, Ownership, Share};

type BoxError = Box<dyn Error + Sync + Send>;

// The byte layouts live in `super::layout`, shared with the sqlx integration.

impl<'a> FromSql<'a> for Document {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(layout::document(layout::json_text(
            *ty == Type::JSONB,
            raw,
        )?)?)
    }

    accepts!(JSON, JSONB);
}

impl ToSql for Document {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        layout::write_json(*ty == Type::JSONB, self.as_str(), out);
        Ok(IsNull::No)
    }

    accepts!(JSON, JSONB);
    to_sql_checked!();
}

/// Decoding applies the strict rules: a stored row that breaks them is an
/// error carrying the [`Violations`](crate::Violations). Read such rows as
/// [`Document`] instead.
impl<'a> FromSql<'a> for Ownership {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        layout::ownership(layout::json_text(*ty == Type::JSONB, raw)?)
    }

    accepts!(JSON, JSONB);
}

impl ToSql for Ownership {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        layout::write_json(*ty == Type::JSONB, &self.to_json(), out);
        Ok(IsNull::No)
    }

    accepts!(JSON, JSONB);
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Share {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        layout::read_share(raw)
    }

    accepts!(NUMERIC);
}

/// Always with scale 2 (`0.00`, `100.00`).
impl ToSql for Share {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        layout::write_share(*self, out);
        Ok(IsNull::No)
    }

    accepts!(NUMERIC);
    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn jsonb_wire_layout() {
        let doc = Document::parse(r#"{"association_type":"individual","1":100.00}"#).unwrap();
        let mut out = BytesMut::new();
        doc.to_sql(&Type::JSONB, &mut out).unwrap();
        assert_eq!(out[0], 1);
        assert_eq!(&out[1..], doc.as_str().as_bytes());
        let mut out = BytesMut::new();
        doc.to_sql(&Type::JSON, &mut out).unwrap();
        assert_eq!(&out[..], doc.as_str().as_bytes());

        let back = Document::from_sql(&Type::JSONB, b"\x01{\"a\": 1}").unwrap();
        assert_eq!(back.as_str(), "{\"a\": 1}");
        let err = Document::from_sql(&Type::JSONB, b"\x02{}").unwrap_err();
        assert!(err.to_string().contains("version 2"), "{err}");
        assert!(Document::from_sql(&Type::JSONB, b"").is_err());
        assert!(<Document as FromSql>::accepts(&Type::JSONB));
        assert!(<Document as FromSql>::accepts(&Type::JSON));
        assert!(!<Document as FromSql>::accepts(&Type::TEXT));
        assert!(!<Share as ToSql>::accepts(&Type::FLOAT8));
    }

    #[test]
    fn share_numeric_layout() {
        // 33.30: ndigits 2, weight 0, positive, dscale 2, digits 33 and 3000.
        let mut out = BytesMut::new();
        Share::from_basis_points(3330)
            .unwrap()
            .to_sql(&Type::NUMERIC, &mut out)
            .unwrap();
        assert_eq!(&out[..], [0, 2, 0, 0, 0, 0, 0, 2, 0, 33, 0x0b, 0xb8]);
        for bp in [0u16, 1, 50, 99, 100, 101, 3333, 9999, 10_000] {
            let mut out = BytesMut::new();
            let share = Share::from_basis_points(bp).unwrap();
            share.to_sql(&Type::NUMERIC, &mut out).unwrap();
            let back = Decimal::from_sql(&Type::NUMERIC, &out).unwrap();
            assert_eq!(back, share.to_decimal(), "{bp}");
            assert_eq!(back.scale(), 2, "{bp}");
        }
    }
}
