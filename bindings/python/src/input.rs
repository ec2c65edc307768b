//! Python values in: documents (JSON text, or a `dict` written out as JSON
//! text exactly) and amounts.

use std::fmt::Write as _;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use rust_decimal::Decimal;

use coownership::Document;

use crate::{ownership_error, Violation};

/// Deeper `dict`/`list` nesting than this is refused (the strict rules allow
/// 64 levels; this only keeps the conversion's recursion bounded).
const MAX_DEPTH: usize = 1000;

/// A document from JSON text (`str`, `bytes`) or a `dict`.
pub(crate) fn document(py: Python<'_>, doc: &Bound<'_, PyAny>) -> PyResult<Document> {
    let parsed = if let Ok(text) = doc.cast::<PyString>() {
        Document::parse(&text.to_cow()?)
    } else if let Ok(bytes) = doc.cast::<PyBytes>() {
        Document::from_slice(bytes.as_bytes())
    } else if let Ok(dict) = doc.cast::<PyDict>() {
        let mut text = String::with_capacity(64);
        write_value(dict.as_any(), &mut text, 0, &mut Vec::new())?;
        Document::parse(&text)
    } else {
        return Err(PyTypeError::new_err(format!(
            "expected JSON text (str or bytes) or a dict, got {}",
            doc.get_type().name()?
        )));
    };
    parsed.map_err(|e| ownership_error(py, e.to_string(), vec![Violation::from(&e)]))
}

// Long: one arm per Python type a document may hold, in one match, so that
// every accepted type and every refusal is visible together.
/// Writes a Python value as JSON text. Numbers keep the decimal a person
/// typed: an `int` in full, a `float` as its shortest `repr` (33.33 is
/// "33.33", never 33.329999...), a `Decimal` as its own digits.
fn write_value(
    value: &Bound<'_, PyAny>,
    out: &mut String,
    depth: usize,
    path: &mut Vec<String>,
) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "the document nests deeper than {MAX_DEPTH} levels"
        )));
    }
    if value.is_none() {
        out.push_str("null");
    } else if let Ok(b) = value.cast::<PyBool>() {
        out.push_str(if b.is_true() { "true" } else { "false" });
    } else if value.cast::<PyInt>().is_ok() {
        out.push_str(&value.str()?.to_cow()?);
    } else if let Ok(f) = value.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(not_json(
                path,
                &format!("the float {v}, which JSON cannot hold"),
            ));
        }
        out.push_str(&value.repr()?.to_cow()?);
    } else if let Ok(s) = value.cast::<PyString>() {
        push_string(out, &s.to_cow()?);
    } else if let Ok(dict) = value.cast::<PyDict>() {
        out.push('{');
        for (i, (k, v)) in dict.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // JSON keys are strings; an int key is its decimal digits, as json.dumps writes it.
            let key = if let Ok(s) = k.cast::<PyString>() {
                s.to_cow()?.into_owned()
            } else if k.cast::<PyInt>().is_ok() && k.cast::<PyBool>().is_err() {
                k.str()?.to_cow()?.into_owned()
            } else {
                return Err(not_json(
                    path,
                    &format!(
                        "a key of type {}; keys must be str or int",
                        k.get_type().name()?
                    ),
                ));
            };
            push_string(out, &key);
            out.push(':');
            path.push(key);
            write_value(&v, out, depth + 1, path)?;
            path.pop();
        }
        out.push('}');
    } else if value.cast::<PyList>().is_ok() || value.cast::<PyTuple>().is_ok() {
        out.push('[');
        for (i, item) in value.try_iter()?.enumerate() {
            if i > 0 {
                out.push(',');
            }
            path.push(i.to_string());
            write_value(&item?, out, depth + 1, path)?;
            path.pop();
        }
        out.push(']');
    } else if is_decimal(value)? {
        let text = value.str()?.to_cow()?.into_owned();
        if !value.call_method0("is_finite")?.is_truthy()? {
            return Err(not_json(
                path,
                &format!("the Decimal {text}, which JSON cannot hold"),
            ));
        }
        out.push_str(&text);
    } else {
        return Err(not_json(
            path,
            &format!("a value of type {}", value.get_type().name()?),
        ));
    }
    Ok(())
}

fn not_json(path: &[String], what: &str) -> PyErr {
    let at = if path.is_empty() {
        "the document".to_owned()
    } else {
        format!("at {}", path.join("."))
    };
    PyTypeError::new_err(format!("not JSON {at}: {what}"))
}

fn push_string(out: &mut String, s: &str) {
    // serde_json writes a str as a JSON string literal and cannot fail on one.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| {
        let mut escaped = String::from("\"");
        for c in s.chars() {
            let _ = write!(escaped, "\\u{:04x}", c as u32);
        }
        escaped + "\""
    }));
}

fn is_decimal(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    let decimal = value.py().import("decimal")?.getattr("Decimal")?;
    value.is_instance(&decimal)
}

/// An amount: a `decimal.Decimal`, an `int`, a `str`, or a `float` read
/// through its shortest `repr` (the decimal it shows: `1234.56`), parsed
/// exactly by the crate's number rules. A `bool` is refused.
pub(crate) fn amount(value: &Bound<'_, PyAny>) -> PyResult<Decimal> {
    let text = if value.cast::<PyBool>().is_ok() {
        return Err(PyTypeError::new_err(
            "amount must be a Decimal, an int, a str or a float, not bool",
        ));
    } else if let Ok(f) = value.cast::<PyFloat>() {
        if !f.value().is_finite() {
            return Err(PyValueError::new_err(format!(
                "amount {} is not a finite number",
                value.repr()?
            )));
        }
        value.repr()?.to_cow()?.into_owned()
    } else if value.cast::<PyInt>().is_ok() {
        value.str()?.to_cow()?.into_owned()
    } else if let Ok(s) = value.cast::<PyString>() {
        s.to_cow()?.into_owned()
    } else if is_decimal(value)? {
        // `str` keeps the exponent (`1E+3`), which the crate's reader takes
        // as it is: `Decimal("1E+400000000")` is refused at once, where
        // plain notation would first write 400 million digits.
        value.str()?.to_cow()?.into_owned()
    } else {
        return Err(PyTypeError::new_err(format!(
            "amount must be a Decimal, an int, a str or a float, not {}",
            value.get_type().name()?
        )));
    };
    coownership::apportion::parse_amount(&text).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A share: a `Decimal`, `int`, `str` or `float` (its shortest `repr`),
/// parsed exactly.
pub(crate) fn share(value: &Bound<'_, PyAny>) -> PyResult<coownership::Share> {
    let text = if value.cast::<PyBool>().is_ok() {
        return Err(PyTypeError::new_err("a share must be a number, not a bool"));
    } else if value.cast::<PyFloat>().is_ok() {
        value.repr()?.to_cow()?.into_owned()
    } else if value.cast::<PyInt>().is_ok() || is_decimal(value)? {
        value.str()?.to_cow()?.into_owned()
    } else if let Ok(s) = value.cast::<PyString>() {
        s.to_cow()?.into_owned()
    } else {
        return Err(PyTypeError::new_err(format!(
            "a share must be a Decimal, int, str or float, not {}",
            value.get_type().name()?
        )));
    };
    text.parse()
        .map_err(|e: coownership::ModelError| PyValueError::new_err(e.to_string()))
}
