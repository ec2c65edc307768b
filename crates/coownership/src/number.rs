//! Exact analysis of JSON number text, without floating point and without
//! materialising arbitrarily large integers.
//!
//! A JSON number is `-? int frac? exp?`. Its value is `digits × 10^e`, where
//! `digits` are the integer and fraction digits read as one integer. Every
//! question the rules ask (how many hundredths, is it exact, is it an `i64`)
//! is answered by looking at digit positions, so `1e400`, `1e-400` and a
//! 500-digit literal cost time linear in their length and never overflow.

/// Exponents beyond this are clamped: the answer for `1e(10^12)` is the same as
/// for any other astronomically large number, and the clamp keeps the
/// arithmetic below in `i64`.
const EXP_CLAMP: i64 = 1 << 40;

/// The digits of a number, seen as one sequence with the decimal point removed.
#[derive(Clone, Copy)]
struct Digits<'a> {
    int: &'a [u8],
    frac: &'a [u8],
}

impl Digits<'_> {
    fn len(&self) -> usize {
        self.int.len() + self.frac.len()
    }

    fn get(&self, i: usize) -> u8 {
        if i < self.int.len() {
            self.int[i]
        } else {
            self.frac[i - self.int.len()]
        }
    }
}

/// A number split into sign, significant digits and decimal exponent:
/// value = sig × 10^exp, where `sig` has no leading zeros.
struct Decomposed<'a> {
    negative: bool,
    digits: Digits<'a>,
    /// Index of the first significant (non-zero) digit; `digits.len()` when zero.
    first: usize,
    /// Decimal exponent of the last digit.
    exp: i64,
}

impl Decomposed<'_> {
    fn is_zero(&self) -> bool {
        self.first == self.digits.len()
    }

    fn sig_len(&self) -> i64 {
        (self.digits.len() - self.first) as i64
    }

    fn sig(&self, i: usize) -> u8 {
        self.digits.get(self.first + i)
    }

    /// Whether the significant digits from `from` on are all zero.
    fn zeros_from(&self, from: usize) -> bool {
        (self.first + from..self.digits.len()).all(|i| self.digits.get(i) == b'0')
    }
}

/// Checks `text` against the JSON number grammar and splits it up.
fn decompose(text: &[u8]) -> Option<Decomposed<'_>> {
    let mut i = 0;
    let negative = text.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    let int_start = i;
    match text.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while text.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return None,
    }
    let int = &text[int_start..i];
    let mut frac: &[u8] = &[];
    if text.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while text.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        frac = &text[start..i];
    }
    let mut exp: i64 = 0;
    if matches!(text.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_negative = match text.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while let Some(d) = text.get(i).filter(|d| d.is_ascii_digit()) {
            exp = (exp * 10 + i64::from(d - b'0')).min(EXP_CLAMP);
            i += 1;
        }
        if i == start {
            return None;
        }
        if exp_negative {
            exp = -exp;
        }
    }
    if i != text.len() {
        return None;
    }
    let digits = Digits { int, frac };
    let first = (0..digits.len())
        .find(|&k| digits.get(k) != b'0')
        .unwrap_or(digits.len());
    Some(Decomposed {
        negative,
        digits,
        first,
        exp: exp - frac.len() as i64,
    })
}

/// Limits of PostgreSQL's `numeric`, which `jsonb` stores its numbers in.
/// Input refuses an exponent of 2^30 - 1 or more either way (13 to 15; 16
/// and later accept exactly 2^30 - 1, so refusing it is the safe side),
/// more than 16,383 digits after the decimal point (its display scale,
/// trailing zeros included), and a first significant digit at 10^131072 or
/// beyond (a weight of 2^15 groups of four digits).
const PG_MAX_EXPONENT: i64 = (1 << 30) - 1;
const PG_MAX_SCALE: i64 = 16_383;
const PG_MAX_DIGIT_EXPONENT: i64 = 131_071;

/// How long a JSON number is once PostgreSQL has stored it in `jsonb` and
/// printed it back (`numeric` output: no exponent, the display scale kept,
/// no sign on zero); `None` when `numeric` cannot hold it, so that `jsonb`
/// refuses the whole document. `text` must be a JSON number.
pub(crate) fn pg_printed_len(text: &[u8]) -> Option<usize> {
    let d = decompose(text)?;
    let written_exponent = d.exp + d.digits.frac.len() as i64;
    if written_exponent.abs() >= PG_MAX_EXPONENT {
        return None;
    }
    let scale = (-d.exp).max(0);
    if scale > PG_MAX_SCALE {
        return None;
    }
    let int_digits = if d.is_zero() {
        1
    } else {
        // The exponent of the first significant digit.
        let lead = d.exp + d.sig_len() - 1;
        if lead > PG_MAX_DIGIT_EXPONENT {
            return None;
        }
        lead.max(0) + 1
    };
    let sign = i64::from(d.negative && !d.is_zero());
    let fraction = if scale > 0 { scale + 1 } else { 0 };
    Some((sign + int_digits + fraction) as usize)
}

/// Whether `text` is a JSON number.
pub(crate) fn is_number(text: &[u8]) -> bool {
    decompose(text).is_some()
}

/// A number rounded to hundredths, half away from zero (PostgreSQL's
/// `ROUND(numeric, 2)`), together with whether that rounding was exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hundredths {
    /// The value is below zero (never set for zero, including `-0`).
    pub negative: bool,
    /// The rounded magnitude in hundredths, or `None` when the magnitude is
    /// at least 1000 (then it is certainly out of any share range).
    pub value: Option<u32>,
    /// The value is a whole number of hundredths (nothing was rounded off).
    pub exact: bool,
    /// Rounding increased the magnitude by one hundredth.
    pub rounded_up: bool,
}

impl Hundredths {
    /// Whether the rounded value is below zero (PostgreSQL: `ROUND(v, 2) < 0`).
    pub(crate) fn rounded_negative(&self) -> bool {
        self.negative && self.value != Some(0)
    }

    /// Whether the exact value is zero.
    pub(crate) fn is_zero(&self) -> bool {
        self.value == Some(0) && self.exact
    }

    /// Whether the exact magnitude is above 100 (before any rounding).
    pub(crate) fn magnitude_above_100(&self) -> bool {
        match self.value {
            None => true,
            Some(v) => {
                let truncated = v - u32::from(self.rounded_up);
                truncated > 10_000 || (truncated == 10_000 && !self.exact)
            }
        }
    }
}

/// Rounds a JSON number to hundredths; `None` if `text` is not a JSON number.
pub(crate) fn hundredths(text: &[u8]) -> Option<Hundredths> {
    let d = decompose(text)?;
    if d.is_zero() {
        return Some(Hundredths {
            negative: false,
            value: Some(0),
            exact: true,
            rounded_up: false,
        });
    }
    let n = d.sig_len();
    // value ∈ [10^m, 10^(m+1)) with m the exponent of the leading digit.
    let m = n - 1 + d.exp;
    // Scaled to hundredths, the last digit has exponent k.
    let k = d.exp + 2;
    if m >= 3 {
        let exact = k >= 0 || d.zeros_from((n + k).max(0) as usize);
        return Some(Hundredths {
            negative: d.negative,
            value: None,
            exact,
            rounded_up: false,
        });
    }
    let (value, exact, rounded_up) = if k >= 0 {
        // m < 3 bounds n + k <= 5, so this is a handful of digits.
        let mut v: u32 = 0;
        for i in 0..n as usize {
            v = v * 10 + u32::from(d.sig(i) - b'0');
        }
        (v * 10u32.pow(k as u32), true, false)
    } else {
        let keep = n + k;
        if keep <= 0 {
            let round_up = keep == 0 && d.sig(0) >= b'5';
            (u32::from(round_up), false, round_up)
        } else {
            let keep = keep as usize;
            let mut v: u32 = 0;
            for i in 0..keep {
                v = v * 10 + u32::from(d.sig(i) - b'0');
            }
            let round_up = d.sig(keep) >= b'5';
            (v + u32::from(round_up), d.zeros_from(keep), round_up)
        }
    };
    Some(Hundredths {
        negative: d.negative,
        value: Some(value),
        exact,
        rounded_up,
    })
}

/// The exact integer value of a JSON number, if it is a whole number that fits
/// an `i64` (`7`, `7.0` and `0.7e1` all give 7); `None` otherwise.
pub(crate) fn exact_i64(text: &[u8]) -> Option<i64> {
    let d = decompose(text)?;
    if d.is_zero() {
        return Some(0);
    }
    let n = d.sig_len();
    let int_digits = n + d.exp;
    if int_digits <= 0 || int_digits > 19 {
        return None;
    }
    if d.exp < 0 && !d.zeros_from(int_digits as usize) {
        return None;
    }
    // Accumulate negatively so that i64::MIN is representable.
    let mut v: i64 = 0;
    for i in 0..int_digits as usize {
        let digit = if (i as i64) < n { d.sig(i) - b'0' } else { 0 };
        v = v.checked_mul(10)?.checked_sub(i64::from(digit))?;
    }
    if d.negative {
        Some(v)
    } else {
        v.checked_neg()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> (bool, Option<u32>, bool) {
        let h = hundredths(s.as_bytes()).unwrap();
        (h.rounded_negative(), h.value, h.exact)
    }

    /// What PostgreSQL 17 printed for `'<text>'::jsonb::text` (its length),
    /// or an error (`None`), checked by hand; the differential tests check
    /// the same on every major.
    #[test]
    fn numbers_as_postgres_stores_them() {
        let cases: &[(&str, Option<usize>)] = &[
            ("0", Some(1)),
            ("-0", Some(1)),
            ("-0.0", Some(3)),
            ("1.5e1", Some(2)),
            ("1E-3", Some(5)),
            ("100.00", Some(6)),
            ("-12", Some(3)),
            ("1e131071", Some(131_072)),
            ("-1e131071", Some(131_073)),
            ("9.99e131071", Some(131_072)),
            ("0.00001e131076", Some(131_072)),
            ("1e131072", None),
            ("1e-16383", Some(16_385)),
            ("1.0e-16382", Some(16_385)),
            ("1e-16384", None),
            ("0e-16383", Some(16_385)),
            ("0.0e-16383", None),
            ("0e-16384", None),
            ("0e99999999", Some(1)),
            ("0e1073741822", Some(1)),
            ("0e1073741823", None),
            ("0e2147483648", None),
            ("0e99999999999999999999", None),
        ];
        for &(text, want) in cases {
            assert_eq!(pg_printed_len(text.as_bytes()), want, "{text}");
        }
    }

    #[test]
    fn hundredths_are_exact_and_round_half_away_from_zero() {
        assert_eq!(h("33.33"), (false, Some(3333), true));
        assert_eq!(h("33.335"), (false, Some(3334), false));
        assert_eq!(h("33.334"), (false, Some(3333), false));
        assert_eq!(h("-33.335"), (true, Some(3334), false));
        assert_eq!(h("-0.004"), (false, Some(0), false));
        assert_eq!(h("-0.005"), (true, Some(1), false));
        assert_eq!(h("1e2"), (false, Some(10000), true));
        assert_eq!(h("100.000"), (false, Some(10000), true));
        assert_eq!(h("0.1e3"), (false, Some(10000), true));
        assert_eq!(h("-0"), (false, Some(0), true));
        assert_eq!(h("0.00"), (false, Some(0), true));
        assert_eq!(h("1e-400"), (false, Some(0), false));
        assert_eq!(h("0.005"), (false, Some(1), false));
        assert_eq!(h("999.99"), (false, Some(99999), true));
        assert_eq!(h("999.995"), (false, Some(100000), false));
        assert_eq!(h("1000"), (false, None, true));
        assert_eq!(h("1e400"), (false, None, true));
        assert_eq!(h("-1e400"), (true, None, true));
        assert_eq!(h("1000.001"), (false, None, false));
        assert_eq!(h(&"9".repeat(40)), (false, None, true));
        assert_eq!(h("1e99999999999999999999999"), (false, None, true));
        assert_eq!(h("1e-99999999999999999999999"), (false, Some(0), false));
    }

    #[test]
    fn above_100_looks_at_the_exact_value() {
        let above = |s: &str| hundredths(s.as_bytes()).unwrap().magnitude_above_100();
        assert!(!above("100"));
        assert!(!above("99.996"));
        assert!(above("100.001"));
        assert!(above("100.004"));
        assert!(above("100.01"));
        assert!(above("1e400"));
        assert!(!above("1e-400"));
        assert!(hundredths(b"-0.001").unwrap().negative);
        assert!(!hundredths(b"-0.001").unwrap().rounded_negative());
    }

    #[test]
    fn grammar_is_json() {
        for bad in [
            "", "-", "01", "1.", ".5", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "1 ", " 1",
            "--1", "1.2.3",
        ] {
            assert!(hundredths(bad.as_bytes()).is_none(), "{bad:?}");
            assert!(!is_number(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn integers_are_value_based() {
        assert_eq!(exact_i64(b"7"), Some(7));
        assert_eq!(exact_i64(b"7.0"), Some(7));
        assert_eq!(exact_i64(b"0.7e1"), Some(7));
        assert_eq!(exact_i64(b"7.5"), None);
        assert_eq!(exact_i64(b"-3"), Some(-3));
        assert_eq!(exact_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(exact_i64(b"9223372036854775808"), None);
        assert_eq!(exact_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(exact_i64(b"1e400"), None);
        assert_eq!(exact_i64(b"1e-400"), None);
        assert_eq!(exact_i64(b"-0"), Some(0));
    }
}
