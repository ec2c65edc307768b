//! The PostgreSQL wire layouts of our types, shared by the `postgres`
//! (postgres-types) and `sqlx` integrations so that both send and accept
//! exactly the same bytes.
//!
//! - `json`: the JSON text. `jsonb` (binary format): a version byte, `1`
//!   (the only version there is), then the JSON text.
//! - `numeric` (binary format): `ndigits`, `weight`, `sign`, `dscale` (16 bits
//!   each), then `ndigits` base-10000 digits, most significant first; the
//!   first digit is worth `10000^weight`.

use rust_decimal::Decimal;

use crate::{Document, ModelError, Ownership, ParseError, Share};

/// The `jsonb` binary format version.
pub(crate) const JSONB_VERSION: u8 = 1;

/// Why a value could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error("unsupported jsonb binary format version {0} (expected 1)")]
    JsonbVersion(u8),
    #[error("empty jsonb value")]
    EmptyJsonb,
    #[error("malformed numeric value ({0} bytes)")]
    MalformedNumeric(usize),
    #[error("numeric value is NaN or infinite, not a share")]
    SpecialNumeric,
}

/// The JSON text of a value: without the version byte for binary `jsonb`.
pub(crate) fn json_text(binary_jsonb: bool, raw: &[u8]) -> Result<&[u8], WireError> {
    if !binary_jsonb {
        return Ok(raw);
    }
    match raw.split_first() {
        Some((&JSONB_VERSION, text)) => Ok(text),
        Some((&v, _)) => Err(WireError::JsonbVersion(v)),
        None => Err(WireError::EmptyJsonb),
    }
}

/// Appends a value in the binary format: the version byte first for `jsonb`.
pub(crate) fn write_json(jsonb: bool, text: &str, out: &mut impl Extend<u8>) {
    if jsonb {
        out.extend([JSONB_VERSION]);
    }
    out.extend(text.bytes());
}

/// A document from the JSON text of a `json`/`jsonb` value.
pub(crate) fn document(text: &[u8]) -> Result<Document, ParseError> {
    Document::from_slice(text)
}

/// The typed model from the JSON text of a `json`/`jsonb` value: the strict
/// rules apply, and a row that breaks them is an error carrying the violations.
pub(crate) fn ownership(
    text: &[u8],
) -> Result<Ownership, Box<dyn std::error::Error + Send + Sync>> {
    Ok(document(text)?.to_ownership()?)
}

/// A share as `numeric`, always with display scale 2 (`0.00`, `100.00`),
/// which a general decimal encoder drops for zero.
pub(crate) fn write_share(share: Share, out: &mut impl Extend<u8>) {
    let bp = share.basis_points();
    let (whole, frac) = (bp / 100, (bp % 100) * 100);
    let (digits, weight): (&[u16], i16) = match (whole, frac) {
        (0, 0) => (&[], 0),
        (0, f) => (&[f][..], -1),
        (w, 0) => (&[w][..], 0),
        (w, f) => (&[w, f][..], 0),
    };
    out.extend((digits.len() as i16).to_be_bytes());
    out.extend(weight.to_be_bytes());
    out.extend(0u16.to_be_bytes()); // positive
    out.extend(2u16.to_be_bytes()); // display scale
    for &d in digits {
        out.extend(d.to_be_bytes());
    }
}

/// A share from a binary `numeric`: exact, refusing more than two decimals
/// and values outside 0..=100 (as [`Share::from_decimal`] does).
pub(crate) fn read_share(raw: &[u8]) -> Result<Share, Box<dyn std::error::Error + Send + Sync>> {
    let malformed = || WireError::MalformedNumeric(raw.len());
    let word = |i: usize| -> Result<u16, WireError> {
        raw.get(2 * i..2 * i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(malformed)
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16;
    let sign = word(2)?;
    let scale = word(3)?;
    if raw.len() != 8 + 2 * ndigits {
        return Err(malformed().into());
    }
    if sign != 0x0000 && sign != 0x4000 {
        return Err(WireError::SpecialNumeric.into());
    }
    // mantissa × 10000^(weight - ndigits + 1); a share has at most 3 digits.
    if ndigits > 6 {
        return Err(
            ModelError::InvalidShare(format!("a numeric of {ndigits} base-10000 digits")).into(),
        );
    }
    let mut mantissa: i128 = 0;
    for i in 0..ndigits {
        let d = word(4 + i)?;
        if d >= 10_000 {
            return Err(malformed().into());
        }
        mantissa = mantissa * 10_000 + i128::from(d);
    }
    if sign == 0x4000 {
        mantissa = -mantissa;
    }
    let exp = i32::from(weight) - ndigits as i32 + 1;
    let value = if exp >= 0 {
        10_000i128
            .checked_pow(exp as u32)
            .and_then(|f| mantissa.checked_mul(f))
            .and_then(|m| Decimal::try_from_i128_with_scale(m, 0).ok())
    } else {
        Decimal::try_from_i128_with_scale(mantissa, (-exp * 4) as u32).ok()
    };
    let value =
        value.ok_or_else(|| ModelError::InvalidShare(format!("a numeric of weight {weight}")))?;
    // The display scale only pads with zeros; the digits are the value.
    let _ = scale;
    Ok(Share::from_decimal(value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_layouts() {
        assert_eq!(json_text(true, b"\x01{\"a\": 1}").unwrap(), b"{\"a\": 1}");
        assert_eq!(json_text(false, b"{}").unwrap(), b"{}");
        assert!(json_text(true, b"\x02{}")
            .unwrap_err()
            .to_string()
            .contains("version 2"));
        assert!(json_text(true, b"").is_err());
        let mut out = Vec::new();
        write_json(true, "{}", &mut out);
        assert_eq!(out, b"\x01{}");
    }

    #[test]
    fn share_numeric_round_trips() {
        let mut out = Vec::new();
        write_share(Share::from_basis_points(3330).unwrap(), &mut out);
        assert_eq!(out, [0, 2, 0, 0, 0, 0, 0, 2, 0, 33, 0x0b, 0xb8]);
        for bp in [0u16, 1, 50, 99, 100, 101, 3333, 9999, 10_000] {
            let mut out = Vec::new();
            let share = Share::from_basis_points(bp).unwrap();
            write_share(share, &mut out);
            assert_eq!(read_share(&out).unwrap(), share, "{bp}");
        }
        // 33.333 (dscale 3): too precise; -1: negative; 100.01: above 100.
        let n = |digits: &[u16], weight: i16, sign: u16, scale: u16| {
            let mut v = Vec::new();
            v.extend((digits.len() as i16).to_be_bytes());
            v.extend(weight.to_be_bytes());
            v.extend(sign.to_be_bytes());
            v.extend(scale.to_be_bytes());
            for d in digits {
                v.extend(d.to_be_bytes());
            }
            v
        };
        assert!(read_share(&n(&[33, 3330], 0, 0, 3)).is_err());
        assert!(read_share(&n(&[1], 0, 0x4000, 0)).is_err());
        assert!(read_share(&n(&[100, 100], 0, 0, 2)).is_err());
        assert!(read_share(&n(&[1], 1, 0, 0)).is_err()); // 10000
        assert_eq!(read_share(&n(&[100], 0, 0, 0)).unwrap(), Share::FULL);
        assert_eq!(
            read_share(&n(&[5000], -1, 0, 4)).unwrap().basis_points(),
            50
        ); // 0.5000
        assert!(read_share(&n(&[], 0, 0xC000, 0)).is_err()); // NaN
        assert!(read_share(&[0, 1]).is_err());
    }
}
