//! The length of a document as PostgreSQL prints a `jsonb` value (`d::text`),
//! computed from the JSON text without building anything but the keys.
//!
//! `jsonb` keeps the last of duplicate keys (in every object, not only the
//! top one), prints `": "` after a key and `", "` between members and
//! elements, numbers as `numeric` prints them, and strings with `"`, `\`
//! and the control characters escaped (`\b \f \n \r \t`, others `\u00XX`);
//! everything else as UTF-8.

use std::collections::HashMap;

use super::parser::unescape;
use crate::number::pg_printed_len;

/// An open container while walking the text.
enum Frame {
    /// Each key's printed length plus its value's, the last one kept.
    Object {
        members: HashMap<Box<str>, usize>,
        key: Option<Box<str>>,
    },
    Array {
        len: usize,
        count: usize,
    },
}

// Long: one state machine over the bytes, which reads best as one loop.
/// `octet_length(d::text)` for the valid, storable JSON text `src`.
pub(crate) fn printed_len(src: &str) -> usize {
    let b = src.as_bytes();
    let mut pos = 0;
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        skip_ws(b, &mut pos);
        // In an object, before a value: its key.
        if let Some(Frame::Object {
            key: key @ None, ..
        }) = stack.last_mut()
        {
            if b[pos] == b'}' {
                pos += 1;
                let len = close(stack.pop());
                if let Some(done) = attach(&mut stack, len) {
                    return done;
                }
                continue;
            }
            if b[pos] == b',' {
                pos += 1;
                skip_ws(b, &mut pos);
            }
            let (text, end) = string(b, pos);
            *key = Some(text);
            pos = end;
            skip_ws(b, &mut pos);
            pos += 1; // ':'
            continue;
        }
        let value_len = match b[pos] {
            b'{' => {
                pos += 1;
                stack.push(Frame::Object {
                    members: HashMap::new(),
                    key: None,
                });
                continue;
            }
            b'[' => {
                pos += 1;
                stack.push(Frame::Array { len: 0, count: 0 });
                continue;
            }
            b']' => {
                pos += 1;
                close(stack.pop())
            }
            b',' => {
                pos += 1;
                continue;
            }
            b'"' => {
                let (text, end) = string(b, pos);
                pos = end;
                quoted_len(&text)
            }
            b't' | b'n' => {
                pos += 4;
                4
            }
            b'f' => {
                pos += 5;
                5
            }
            _ => {
                let start = pos;
                while pos < b.len()
                    && matches!(b[pos], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    pos += 1;
                }
                pg_printed_len(&b[start..pos]).unwrap_or(0)
            }
        };
        if let Some(done) = attach(&mut stack, value_len) {
            return done;
        }
    }
}

fn skip_ws(b: &[u8], pos: &mut usize) {
    while *pos < b.len() && matches!(b[*pos], b' ' | b'\t' | b'\n' | b'\r') {
        *pos += 1;
    }
}

/// The decoded string starting at the quote at `pos`, and the position after it.
fn string(b: &[u8], pos: usize) -> (Box<str>, usize) {
    let mut end = pos + 1;
    let mut escaped = false;
    while b[end] != b'"' {
        if b[end] == b'\\' {
            escaped = true;
            end += 1;
        }
        end += 1;
    }
    let body = &b[pos + 1..end];
    let text = if escaped {
        unescape(body).into_boxed_str()
    } else {
        String::from_utf8_lossy(body).into()
    };
    (text, end + 1)
}

/// A string's printed length, quotes included.
fn quoted_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum::<usize>()
}

/// A closed container's printed length.
fn close(frame: Option<Frame>) -> usize {
    let (sum, count) = match frame {
        Some(Frame::Object { members, .. }) => (members.values().sum(), members.len()),
        Some(Frame::Array { len, count }) => (len, count),
        None => (0, 0),
    };
    2 + sum + 2 * count.saturating_sub(1)
}

/// Adds a finished value to its container; the whole length once the
/// outermost container is done.
fn attach(stack: &mut [Frame], len: usize) -> Option<usize> {
    match stack.last_mut() {
        None => Some(len),
        Some(Frame::Array { len: total, count }) => {
            *total += len;
            *count += 1;
            None
        }
        Some(Frame::Object { members, key }) => {
            let key = key.take().unwrap_or_default();
            let entry = quoted_len(&key) + 2 + len;
            members.insert(key, entry);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What PostgreSQL 17 printed for `'<text>'::jsonb::text`, by hand; the
    /// differential tests check the rule on every major.
    #[test]
    fn as_postgres_prints_it() {
        let cases = [
            (r#"{}"#, "{}"),
            (r#"{"a":[]}"#, r#"{"a": []}"#),
            (
                r#"{"a" : 1 , "b":[1,2,{"c":null}]}"#,
                r#"{"a": 1, "b": [1, 2, {"c": null}]}"#,
            ),
            (r#"{"a":1,"a":22}"#, r#"{"a": 22}"#),
            (r#"{"a":{"x":1,"x":true}}"#, r#"{"a": {"x": true}}"#),
            (
                r#"{"e":"\u00e9\/\n\u0001\""}"#,
                "{\"e\": \"é/\\n\\u0001\\\"\"}",
            ),
            (
                r#"{"n":[1e2,-0,1.50,1E-3,false]}"#,
                r#"{"n": [100, 0, 1.50, 0.001, false]}"#,
            ),
            (r#"{"k\"":"\ud83d\ude00"}"#, "{\"k\\\"\": \"😀\"}"),
        ];
        for (text, printed) in cases {
            assert_eq!(printed_len(text), printed.len(), "{text}");
        }
    }
}
