//! The COPY codecs: text rows out of the server, binary rows into it.

use super::MigrateError;

/// Splits one line of COPY text output into fields (`None` for `\N`), undoing
/// COPY's backslash escapes.
pub(super) fn copy_fields(line: &str) -> Vec<Option<String>> {
    line.split('\t')
        .map(|f| {
            if f == "\\N" {
                return None;
            }
            if !f.contains('\\') {
                return Some(f.to_owned());
            }
            let mut out = String::with_capacity(f.len());
            let mut chars = f.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('v') => out.push('\u{b}'),
                    Some(other) => out.push(other),
                    None => {}
                }
            }
            Some(out)
        })
        .collect()
}

pub(super) fn parse_id(field: Option<&str>) -> Result<i64, MigrateError> {
    field
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| MigrateError::UnexpectedRow(format!("product id {field:?}")))
}

/// The binary COPY signature, flags and header extension length.
pub(super) const BINARY_COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// One `(product_id bigint, details jsonb)` row in binary COPY format: the
/// field count, then each field's length and bytes; a `jsonb` value is a
/// version byte (1) and the JSON text. Binary saves the server parsing the
/// id and un-escaping the text.
pub(super) fn binary_row(out: &mut Vec<u8>, id: i64, document: Option<&str>) {
    out.extend_from_slice(&2i16.to_be_bytes());
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    match document {
        // A NULL field is a length of -1 and no bytes.
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        Some(document) => {
            out.extend_from_slice(&(document.len() as i32 + 1).to_be_bytes());
            out.push(1);
            out.extend_from_slice(document.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_rows_carry_a_document_or_null() {
        let mut out = Vec::new();
        binary_row(&mut out, 7, Some("{}"));
        assert_eq!(
            out,
            [
                &[0, 2, 0, 0, 0, 8][..],
                &7i64.to_be_bytes(),
                &[0, 0, 0, 3, 1, b'{', b'}']
            ]
            .concat()
        );
        out.clear();
        binary_row(&mut out, 7, None);
        assert_eq!(
            out,
            [
                &[0, 2, 0, 0, 0, 8][..],
                &7i64.to_be_bytes(),
                &[0xff, 0xff, 0xff, 0xff]
            ]
            .concat()
        );
    }

    #[test]
    fn copy_text_is_unescaped() {
        assert_eq!(
            copy_fields("1\t{\"a\": \"x\\\\y\\tz\"}\t\\N"),
            [Some("1".into()), Some("{\"a\": \"x\\y\tz\"}".into()), None]
        );
    }
}
