//! The COPY codecs: text rows out of the server, binary rows into it.

use crate::DbError;

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

pub(super) fn parse_id(field: Option<&str>) -> Result<i64, DbError> {
    field
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| DbError::UnexpectedRow(format!("product id {field:?}")))
}

/// One integer field of a COPY text line: `Some(None)` for `\N` (NULL),
/// `None` when it is not an integer.
pub(super) fn parse_nullable_i64(field: &[u8]) -> Option<Option<i64>> {
    if field == b"\\N" {
        return Some(None);
    }
    std::str::from_utf8(field).ok()?.parse().ok().map(Some)
}

/// Every product id of a `COPY (SELECT id …) TO STDOUT` in text form.
pub(super) fn read_ids(mut reader: impl std::io::BufRead) -> Result<Vec<i64>, DbError> {
    let mut ids = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(ids);
        }
        let field = line.strip_suffix(b"\n").unwrap_or(&line);
        match parse_nullable_i64(field) {
            Some(Some(id)) => ids.push(id),
            _ => {
                return Err(DbError::UnexpectedRow(format!(
                    "product id {:?}",
                    String::from_utf8_lossy(field)
                )))
            }
        }
    }
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
    fn ids_are_read_and_anything_else_refused() {
        assert_eq!(
            read_ids(&b"3\n-1\n9223372036854775807\n"[..]).unwrap(),
            [3, -1, i64::MAX]
        );
        assert_eq!(read_ids(&b""[..]).unwrap(), Vec::<i64>::new());
        for bad in [&b"\\N\n"[..], b"1x\n", b"1\t2\n", b"\n"] {
            assert!(matches!(read_ids(bad), Err(DbError::UnexpectedRow(_))));
        }
    }

    #[test]
    fn copy_text_is_unescaped() {
        assert_eq!(
            copy_fields("1\t{\"a\": \"x\\\\y\\tz\"}\t\\N"),
            [Some("1".into()), Some("{\"a\": \"x\\y\tz\"}".into()), None]
        );
    }
}
