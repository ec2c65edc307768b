//! [`OwnerId`] and [`Share`]: the two scalar types every ownership is made of.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::number;

/// The id of a `product_owners` row: a positive `BIGINT`.
///
/// In a document an owner id is written as a JSON object key (`"123"`) or, in
/// `joint_owners`, as a JSON integer. The canonical text is the plain decimal
/// form without sign or leading zeros, which is what [`Display`](fmt::Display)
/// writes and what [`FromStr`] requires.
///
/// ```
/// use coownership::OwnerId;
///
/// let id: OwnerId = "123".parse()?;
/// assert_eq!(id.get(), 123);
/// assert!("007".parse::<OwnerId>().is_err()); // not canonical
/// assert!(OwnerId::new(0).is_err());
/// # Ok::<(), coownership::ModelError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OwnerId(i64);

impl OwnerId {
    /// The largest id (`i64::MAX`, the largest `BIGINT`).
    pub const MAX: OwnerId = OwnerId(i64::MAX);

    /// An owner id from its numeric value; it must be positive.
    pub fn new(id: i64) -> Result<Self, crate::ModelError> {
        if id > 0 {
            Ok(OwnerId(id))
        } else {
            Err(crate::ModelError::InvalidOwnerId(id.to_string()))
        }
    }

    /// The numeric value, always `>= 1`.
    pub fn get(self) -> i64 {
        self.0
    }

    /// Parses the canonical key form (`^[1-9][0-9]*$`, at most `i64::MAX`).
    ///
    /// Returns `None` for anything else, including `"0"`, `"007"`, `"+1"` and
    /// ids too large for a `BIGINT`.
    pub fn from_canonical_key(key: &str) -> Option<Self> {
        let bytes = key.as_bytes();
        if bytes.is_empty() || bytes.len() > 19 || bytes[0] == b'0' {
            return None;
        }
        let mut value: i64 = 0;
        for &b in bytes {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
        }
        Some(OwnerId(value))
    }
}

impl fmt::Display for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for OwnerId {
    type Err = crate::ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OwnerId::from_canonical_key(s).ok_or_else(|| crate::ModelError::InvalidOwnerId(s.into()))
    }
}

impl TryFrom<i64> for OwnerId {
    type Error = crate::ModelError;

    fn try_from(id: i64) -> Result<Self, Self::Error> {
        OwnerId::new(id)
    }
}

impl From<OwnerId> for i64 {
    fn from(id: OwnerId) -> i64 {
        id.0
    }
}

/// A percentage with 0.01 % precision, stored exactly as basis points
/// (`0..=10000`, where `10000` is 100.00 %).
///
/// A `Share` can never exceed 100 % and never carries more than two decimals:
/// every constructor checks, and conversions never round.
///
/// ```
/// use coownership::Share;
/// use rust_decimal::Decimal;
///
/// let s: Share = "33.33".parse()?;
/// assert_eq!(s.basis_points(), 3333);
/// assert_eq!(s.to_string(), "33.33");
/// assert_eq!(Share::from_basis_points(3330)?.to_string(), "33.30");
/// assert_eq!(Decimal::from(s), Decimal::new(3333, 2));
/// assert!("33.335".parse::<Share>().is_err()); // too precise: never rounded
/// assert!("100.01".parse::<Share>().is_err());
/// # Ok::<(), coownership::ModelError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Share(u16);

impl Share {
    /// 0.00 %.
    pub const ZERO: Share = Share(0);
    /// 100.00 %.
    pub const FULL: Share = Share(10_000);
    /// Basis points in 100 %.
    pub const FULL_BASIS_POINTS: u16 = 10_000;

    /// A share from basis points (`0..=10000`).
    pub fn from_basis_points(bp: u16) -> Result<Self, crate::ModelError> {
        if bp <= Self::FULL_BASIS_POINTS {
            Ok(Share(bp))
        } else {
            Err(crate::ModelError::InvalidShare(format!(
                "{bp} basis points"
            )))
        }
    }

    /// The share in basis points (hundredths of a percent).
    pub fn basis_points(self) -> u16 {
        self.0
    }

    /// The share as an exact decimal percentage with scale 2 (`33.30`).
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(i64::from(self.0), 2)
    }

    /// The exact share for a decimal percentage; errors instead of rounding.
    pub fn from_decimal(d: Decimal) -> Result<Self, crate::ModelError> {
        let err = || crate::ModelError::InvalidShare(d.to_string());
        let hundredths = d.checked_mul(Decimal::ONE_HUNDRED).ok_or_else(err)?;
        if hundredths.fract() != Decimal::ZERO
            || hundredths.is_sign_negative() && !hundredths.is_zero()
        {
            return Err(err());
        }
        let bp: u16 = hundredths.trunc().try_into().map_err(|_| err())?;
        Share::from_basis_points(bp).map_err(|_| err())
    }

    /// Writes the share with exactly two decimals, as in the canonical wire format.
    pub(crate) fn write_to(self, out: &mut String) {
        let whole = self.0 / 100;
        let frac = self.0 % 100;
        let _ = write!(out, "{whole}");
        out.push('.');
        out.push(char::from(b'0' + (frac / 10) as u8));
        out.push(char::from(b'0' + (frac % 10) as u8));
    }
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(6);
        self.write_to(&mut s);
        f.pad(&s)
    }
}

/// Parses a JSON-style decimal number (`33.33`, `1e2`, `100.000`) exactly.
impl FromStr for Share {
    type Err = crate::ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || crate::ModelError::InvalidShare(s.into());
        let h = number::hundredths(s.as_bytes()).ok_or_else(err)?;
        match h.value {
            Some(v) if h.exact && !h.negative && v <= 10_000 => Ok(Share(v as u16)),
            _ => Err(err()),
        }
    }
}

impl From<Share> for Decimal {
    fn from(s: Share) -> Decimal {
        s.to_decimal()
    }
}

impl TryFrom<Decimal> for Share {
    type Error = crate::ModelError;

    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        Share::from_decimal(d)
    }
}
