//! Apportioning a money amount among the owners of an [`Ownership`], to the
//! minor unit, so that the parts add up to the amount exactly.

use rust_decimal::Decimal;
use thiserror::Error;

use crate::{OwnerId, Ownership};

/// The most decimal places [`apportion`] accepts (rust_decimal's maximum scale).
pub const MAX_DECIMALS: u32 = 28;

/// Why an amount could not be apportioned.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ApportionError {
    /// The amount has more decimal places than requested; it is never rounded.
    #[error("amount {amount} has more than {decimals} decimal places")]
    TooPrecise {
        /// The amount given.
        amount: Decimal,
        /// The decimal places requested.
        decimals: u32,
    },
    /// More decimal places than [`MAX_DECIMALS`].
    #[error("{0} decimal places requested, at most 28 are supported")]
    DecimalsOutOfRange(u32),
    /// The amount in minor units does not fit a `Decimal` (96 bits) at the
    /// requested number of decimals, so its parts could not be added exactly.
    #[error("amount {0} is too large to apportion at this precision")]
    Overflow(Decimal),
}

/// Why [`parse_amount`] refused a text.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AmountError {
    /// Not a plain decimal number (JSON number syntax: `-?digits[.digits][e[+-]digits]`;
    /// no `+`, spaces, underscores, `NaN` or `Infinity`).
    #[error("invalid amount {0:?}: expected a decimal number such as 1000.00 or -250")]
    NotANumber(String),
    /// A number that no 96-bit decimal with at most 28 decimal places holds exactly.
    #[error("amount {0:?} cannot be held exactly (at most 28 decimal places and 96 bits)")]
    OutOfRange(String),
    /// `NaN` or an infinity (as PostgreSQL's `numeric` and Python's
    /// `Decimal` spell them: `NaN`, `Infinity`, `inf`, with any case and
    /// sign): no amount to apportion.
    #[error("amount {0:?} is not a finite number")]
    NotFinite(String),
}

impl AmountError {
    /// A stable snake_case name for the error, the same the SQL
    /// `ownership_apportion` starts its message with where it has one:
    /// `amount_not_a_number`, `amount_out_of_range` or `amount_not_finite`.
    ///
    /// ```
    /// use coownership::apportion::parse_amount;
    ///
    /// assert_eq!(parse_amount("NaN").unwrap_err().code(), "amount_not_finite");
    /// assert_eq!(parse_amount("-Infinity").unwrap_err().code(), "amount_not_finite");
    /// assert_eq!(parse_amount("1,000").unwrap_err().code(), "amount_not_a_number");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            AmountError::NotANumber(_) => "amount_not_a_number",
            AmountError::OutOfRange(_) => "amount_out_of_range",
            AmountError::NotFinite(_) => "amount_not_finite",
        }
    }
}

/// `NaN`, `Infinity`, `inf` and `sNaN`, any case, optionally signed.
fn is_non_finite(text: &str) -> bool {
    let word = text.strip_prefix(['+', '-']).unwrap_or(text);
    ["nan", "snan", "inf", "infinity"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
}

/// Parses an amount exactly, with the crate's own number rules (the JSON
/// number syntax): never rounded, never through floating point, and nothing
/// that a JSON document could not hold (`1_000`, `+5` and ` 5` are refused).
///
/// ```
/// use coownership::apportion::parse_amount;
///
/// assert_eq!(parse_amount("1000.00")?.to_string(), "1000.00");
/// assert_eq!(parse_amount("-2.5e2")?.to_string(), "-250");
/// assert!(parse_amount("1_0.0_1").is_err());
/// assert!(parse_amount("0.00000000000000000000000000001").is_err()); // 29 places
/// # Ok::<(), coownership::apportion::AmountError>(())
/// ```
pub fn parse_amount(text: &str) -> Result<Decimal, AmountError> {
    if !crate::number::is_number(text.as_bytes()) {
        if is_non_finite(text) {
            return Err(AmountError::NotFinite(text.to_owned()));
        }
        return Err(AmountError::NotANumber(text.to_owned()));
    }
    let out_of_range = || AmountError::OutOfRange(text.to_owned());
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, "0"),
    };
    let mut value = Decimal::from_str_exact(mantissa).map_err(|_| out_of_range())?;
    // Exponents past ±60 cannot give a representable value (28 places, 29 digits).
    let exponent: i64 = exponent.parse().unwrap_or(i64::MAX).clamp(-60, 60);
    // m × 10^-s × 10^e is m × 10^-(s - e): move the decimal point.
    let mut scale = i64::from(value.scale()) - exponent;
    if scale > 28 {
        // Trailing zeros may still make it fit: 1.000e-27 is 1e-27.
        value = value.normalize();
        scale = i64::from(value.scale()) - exponent;
        if scale > 28 {
            return Err(out_of_range());
        }
    }
    value
        .set_scale(scale.max(0) as u32)
        .map_err(|_| out_of_range())?;
    for _ in scale..0 {
        value = value.checked_mul(Decimal::TEN).ok_or_else(out_of_range)?;
    }
    Ok(value)
}

impl ApportionError {
    /// A stable snake_case name for the rule broken, the same that the SQL
    /// `ownership_apportion` puts at the start of its error message:
    /// `amount_too_precise`, `decimals_out_of_range` or `amount_too_large`.
    ///
    /// ```
    /// use coownership::apportion::apportion;
    /// use coownership::Ownership;
    /// use rust_decimal::Decimal;
    ///
    /// let o = Ownership::parse(r#"{"association_type":"individual","7":100.00}"#)?;
    /// let e = apportion(Decimal::new(1001, 3), &o, 2).unwrap_err();
    /// assert_eq!(e.code(), "amount_too_precise");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            ApportionError::TooPrecise { .. } => "amount_too_precise",
            ApportionError::DecimalsOutOfRange(_) => "decimals_out_of_range",
            ApportionError::Overflow(_) => "amount_too_large",
        }
    }
}

/// Splits `amount` among the owners of `ownership`, to `decimals` places.
///
/// - The parts add up to `amount` exactly, and each is within one minor unit
///   (`10^-decimals`) of the exact pro-rata value `amount × share / 100`.
/// - Minor units left over after rounding every part down go, one each, to
///   the owners with the largest remainders; ties go to the earlier owner.
/// - Tenants in common are weighted by their shares, joint owners equally; an
///   individual gets everything.
/// - A negative amount (a liability) gives exactly the negated parts of the
///   positive amount; zero gives zeros.
///
/// Parts are returned in the ownership's owner order
/// ([`Ownership::owners`]), each with scale `decimals`.
///
/// ```
/// use coownership::apportion::apportion;
/// use coownership::Ownership;
/// use rust_decimal::Decimal;
///
/// let o = Ownership::parse(
///     r#"{"association_type":"tenants_in_common","1":33.33,"2":33.33,"3":33.34}"#,
/// )?;
/// let parts = apportion(Decimal::new(100000, 2), &o, 2)?; // 1000.00
/// let amounts: Vec<String> = parts.iter().map(|(_, a)| a.to_string()).collect();
/// assert_eq!(amounts, ["333.30", "333.30", "333.40"]);
///
/// // Never a silent rounding of the input.
/// assert!(apportion(Decimal::new(1001, 3), &o, 2).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn apportion(
    amount: Decimal,
    ownership: &Ownership,
    decimals: u32,
) -> Result<Vec<(OwnerId, Decimal)>, ApportionError> {
    if decimals > MAX_DECIMALS {
        return Err(ApportionError::DecimalsOutOfRange(decimals));
    }
    let normalized = amount.normalize();
    if normalized.scale() > decimals {
        return Err(ApportionError::TooPrecise { amount, decimals });
    }
    let overflow = || ApportionError::Overflow(amount);
    let units: i128 = 10i128
        .checked_pow(decimals - normalized.scale())
        .and_then(|f| normalized.mantissa().checked_mul(f))
        .ok_or_else(overflow)?;
    let negative = units < 0;
    let total = units.unsigned_abs();
    // The amount must itself be a Decimal at this scale (96-bit mantissa);
    // then every part, and every partial sum of parts, is exact too.
    if total >= 1u128 << 96 {
        return Err(overflow());
    }

    let weight = |i: usize| -> u128 {
        match ownership {
            Ownership::TenantsInCommon(t) => u128::from(t.shares()[i].1.basis_points()),
            _ => 1,
        }
    };
    let n = ownership.len();
    let weights_sum: u128 = (0..n).map(weight).sum();
    let mut parts: Vec<(OwnerId, Decimal)> = Vec::with_capacity(n);
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(n);
    let mut floors: Vec<u128> = Vec::with_capacity(n);
    let mut given: u128 = 0;
    for i in 0..n {
        let scaled = total.checked_mul(weight(i)).ok_or_else(overflow)?;
        let floor = scaled / weights_sum;
        given += floor;
        floors.push(floor);
        remainders.push((scaled % weights_sum, i));
    }
    // Fewer than n units are left: one each to the largest remainders.
    let left = (total - given) as usize;
    let by_remainder = |a: &(u128, usize), b: &(u128, usize)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
    if left > 0 && left < n {
        remainders.select_nth_unstable_by(left - 1, by_remainder);
    }
    for &(_, i) in remainders.iter().take(left) {
        floors[i] += 1;
    }
    for (owner, units) in ownership.owners().zip(floors) {
        let signed = i128::try_from(units).map_err(|_| overflow())?;
        let signed = if negative { -signed } else { signed };
        let part = Decimal::try_from_i128_with_scale(signed, decimals).map_err(|_| overflow())?;
        parts.push((owner, part));
    }
    Ok(parts)
}
