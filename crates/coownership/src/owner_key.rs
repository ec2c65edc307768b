//! The owner-key grammar, shared by the Rust rules and the shipped SQL.
//!
//! An owner key is ASCII digits (`^[0-9]+$`, the legacy rules' test); a
//! canonical one is a positive `BIGINT` without leading zeros. A key that is
//! not an owner key but looks like an attempt at one is `malformed_owner_key`:
//! at least one decimal digit, and otherwise only digits, spaces and the
//! signs and separators `+ - . ,`. Digits are Unicode 14's decimal digits
//! (general category Nd: `0`–`9`, `٠`–`٩`, `０`–`９`, …) and spaces its
//! White_Space characters, both listed here code point by code point, so
//! that the SQL (whose `[[:digit:]]` and `[[:space:]]` would follow the
//! database's locale and collation) recognises exactly the same keys on
//! every server; [`sql_pattern`] is the regular expression it uses, and a
//! test checks that the shipped SQL holds it.

/// Whether a key names an owner in the legacy sense (`^[0-9]+$`).
pub(crate) fn is_owner_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a key that is not an owner key looks like an attempt at one.
pub(crate) fn looks_like_owner_key(key: &str) -> bool {
    !is_owner_key(key)
        && key.chars().any(is_digit)
        && key
            .chars()
            .all(|c| is_digit(c) || is_space(c) || matches!(c, '+' | '-' | '.' | ','))
}

/// A decimal digit of any script (Unicode 14, general category Nd).
pub(crate) fn is_digit(c: char) -> bool {
    let c = u32::from(c);
    DECIMAL_DIGITS
        .binary_search_by(|&(lo, hi)| {
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Unicode's White_Space characters (25 code points).
pub(crate) fn is_space(c: char) -> bool {
    SPACES
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&u32::from(c)))
}

/// White_Space, as ranges of code points.
const SPACES: [(u32, u32); 10] = [
    (0x9, 0xD),
    (0x20, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
];

/// Unicode 14's decimal digits (Nd), as ranges of code points, ascending.
pub(crate) const DECIMAL_DIGITS: [(u32, u32); 62] = [
    (0x30, 0x39),
    (0x660, 0x669),
    (0x6F0, 0x6F9),
    (0x7C0, 0x7C9),
    (0x966, 0x96F),
    (0x9E6, 0x9EF),
    (0xA66, 0xA6F),
    (0xAE6, 0xAEF),
    (0xB66, 0xB6F),
    (0xBE6, 0xBEF),
    (0xC66, 0xC6F),
    (0xCE6, 0xCEF),
    (0xD66, 0xD6F),
    (0xDE6, 0xDEF),
    (0xE50, 0xE59),
    (0xED0, 0xED9),
    (0xF20, 0xF29),
    (0x1040, 0x1049),
    (0x1090, 0x1099),
    (0x17E0, 0x17E9),
    (0x1810, 0x1819),
    (0x1946, 0x194F),
    (0x19D0, 0x19D9),
    (0x1A80, 0x1A89),
    (0x1A90, 0x1A99),
    (0x1B50, 0x1B59),
    (0x1BB0, 0x1BB9),
    (0x1C40, 0x1C49),
    (0x1C50, 0x1C59),
    (0xA620, 0xA629),
    (0xA8D0, 0xA8D9),
    (0xA900, 0xA909),
    (0xA9D0, 0xA9D9),
    (0xA9F0, 0xA9F9),
    (0xAA50, 0xAA59),
    (0xABF0, 0xABF9),
    (0xFF10, 0xFF19),
    (0x104A0, 0x104A9),
    (0x10D30, 0x10D39),
    (0x11066, 0x1106F),
    (0x110F0, 0x110F9),
    (0x11136, 0x1113F),
    (0x111D0, 0x111D9),
    (0x112F0, 0x112F9),
    (0x11450, 0x11459),
    (0x114D0, 0x114D9),
    (0x11650, 0x11659),
    (0x116C0, 0x116C9),
    (0x11730, 0x11739),
    (0x118E0, 0x118E9),
    (0x11950, 0x11959),
    (0x11C50, 0x11C59),
    (0x11D50, 0x11D59),
    (0x11DA0, 0x11DA9),
    (0x16A60, 0x16A69),
    (0x16AC0, 0x16AC9),
    (0x16B50, 0x16B59),
    (0x1D7CE, 0x1D7FF),
    (0x1E140, 0x1E149),
    (0x1E2F0, 0x1E2F9),
    (0x1E950, 0x1E959),
    (0x1FBF0, 0x1FBF9),
];

/// The regular expression (PostgreSQL's syntax) for [`looks_like_owner_key`]
/// on a key that is not an owner key: every code point named by number.
#[cfg(test)]
pub(crate) fn sql_pattern() -> String {
    let class = |ranges: &[(u32, u32)]| -> String {
        ranges
            .iter()
            .map(|&(lo, hi)| {
                let one = |c: u32| {
                    if c < 0x10000 {
                        format!("\\u{c:04X}")
                    } else {
                        format!("\\U{c:08X}")
                    }
                };
                if lo == hi {
                    one(lo)
                } else {
                    format!("{}-{}", one(lo), one(hi))
                }
            })
            .collect()
    };
    let (digits, spaces) = (class(&DECIMAL_DIGITS), class(&SPACES));
    format!("^[{spaces}+,.{digits}-]*[{digits}][{spaces}+,.{digits}-]*$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_sorted_and_disjoint() {
        for table in [&DECIMAL_DIGITS[..], &SPACES[..]] {
            for w in table.windows(2) {
                assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:?}");
            }
        }
    }

    #[test]
    fn the_tables_agree_with_rust_where_unicode_has_not_changed() {
        // White_Space has not changed since Unicode 6.3.
        for c in (0..0x11_0000).filter_map(char::from_u32) {
            assert_eq!(is_space(c), c.is_whitespace(), "{c:?}");
        }
        // Every digit listed is numeric to Rust, and is a digit here.
        for &(lo, hi) in &DECIMAL_DIGITS {
            for c in (lo..=hi).filter_map(char::from_u32) {
                assert!(c.is_numeric() && is_digit(c), "{c:?}");
            }
        }
        assert!(is_digit('7') && is_digit('٣') && is_digit('５'));
        assert!(!is_digit('a') && !is_digit('½') && !is_digit('²'));
    }

    #[test]
    fn keys() {
        for key in [
            "+12",
            " 12",
            "12\u{a0}",
            "\u{2007}1",
            "1.5",
            "1,000",
            "١٢٣",
            "１２",
        ] {
            assert!(looks_like_owner_key(key), "{key:?}");
        }
        for key in ["12", "note", "12a", "+", " ", "½", "", "1\u{200b}"] {
            assert!(!looks_like_owner_key(key), "{key:?}");
        }
    }

    #[test]
    fn the_shipped_sql_uses_this_grammar() {
        // As written inside an E'' literal: each backslash doubled.
        let pattern = sql_pattern().replace('\\', "\\\\");
        assert!(
            crate::sql::TEMPLATE.contains(&format!("E'{pattern}'")),
            "sql/ownership.sql must test keys with E'{pattern}'"
        );
    }
}
