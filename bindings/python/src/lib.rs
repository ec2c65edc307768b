//! The native part of the Python package `coownership`: a thin layer over
//! the crate (conversions and exceptions only; every rule lives in the crate).

mod input;
mod model;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use rust_decimal::Decimal;

use coownership::split::{equal_split as split, SplitPolicy};
use coownership::Rules;

// Named in the package's own module, where pickle finds it again.
pyo3::create_exception!(
    coownership,
    OwnershipError,
    PyValueError,
    "A document that is not a valid ownership, or bad input to a function of this package. `.violations` lists what is wrong, as `Violation`s (empty when the error is not about a document)."
);

/// One thing wrong with a document: `code` (a stable snake_case name, the
/// crate's `ViolationCode`), the `key` it concerns (an owner id, `joint_owners`,
/// or `""` for the document as a whole) and a `message` for people.
#[pyclass(frozen, eq, hash, module = "coownership")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Violation {
    /// The stable code, e.g. `total_not_100`.
    #[pyo3(get)]
    code: &'static str,
    /// The key concerned; `""` for the whole document.
    #[pyo3(get)]
    key: String,
    /// A message a support engineer can act on.
    #[pyo3(get)]
    message: String,
}

#[pymethods]
impl Violation {
    /// A violation with one of the crate's codes (a `ViolationCode`, or a
    /// parse error's code such as `malformed_json`); what pickle and `copy`
    /// rebuild one with.
    #[new]
    fn new(code: &str, key: String, message: String) -> PyResult<Self> {
        let code = coownership::ViolationCode::from_code(code)
            .map(|c| c.as_str())
            .or_else(|| PARSE_CODES.iter().copied().find(|c| *c == code))
            .ok_or_else(|| PyValueError::new_err(format!("unknown violation code {code:?}")))?;
        Ok(Violation { code, key, message })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let v = slf.get();
        Ok((slf.get_type(), (v.code, v.key.clone(), v.message.clone())))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Violation(code={}, key={}, message={})",
            py_repr(py, self.code)?,
            py_repr(py, &self.key)?,
            py_repr(py, &self.message)?
        ))
    }

    fn __str__(&self) -> String {
        if self.key.is_empty() {
            format!("{}: {}", self.code, self.message)
        } else {
            format!("{} ({}): {}", self.code, self.key, self.message)
        }
    }
}

impl From<&coownership::Violation> for Violation {
    fn from(v: &coownership::Violation) -> Self {
        Violation {
            code: v.code().as_str(),
            key: v.key().to_owned(),
            message: v.message().to_owned(),
        }
    }
}

impl From<&coownership::ParseError> for Violation {
    fn from(e: &coownership::ParseError) -> Self {
        Violation {
            code: e.code(),
            key: String::new(),
            message: e.to_string(),
        }
    }
}

/// What pickle needs to rebuild a `Violation`: the class and its arguments.
type Reduced<'py> = (
    Bound<'py, pyo3::types::PyType>,
    (&'static str, String, String),
);

/// The codes of `ParseError::code`, which a `Violation` may carry too.
const PARSE_CODES: [&str; 5] = [
    "malformed_json",
    "not_an_object",
    "nul_character",
    "number_out_of_range",
    "document_too_deep",
];

/// Python's `repr` of a string (quotes and escapes as Python writes them).
pub(crate) fn py_repr(py: Python<'_>, s: &str) -> PyResult<String> {
    Ok(pyo3::types::PyString::new(py, s)
        .repr()?
        .to_cow()?
        .into_owned())
}

/// An `OwnershipError` carrying `violations`.
pub(crate) fn ownership_error(
    py: Python<'_>,
    message: String,
    violations: Vec<Violation>,
) -> PyErr {
    let err = OwnershipError::new_err(message);
    // Setting an attribute on a fresh exception instance cannot fail in
    // practice; if it did, the error without the list is still the error.
    let _ = err
        .value(py)
        .setattr("violations", PyList::new(py, violations).ok());
    err
}

fn rules(name: &str) -> PyResult<Rules> {
    name.parse().map_err(|_| {
        PyValueError::new_err(format!(
            "unknown rules {name:?}: expected \"strict\", \"seed\" or \"seed-pg18\""
        ))
    })
}

/// The violations of `doc` under `rules`; an empty list when it is valid.
///
/// `doc` is JSON text (`str` or `bytes`, as asyncpg returns a `jsonb`
/// column) or a `dict` (a parsed request body). Raises `OwnershipError` when
/// the text is not a JSON object, `TypeError` for any other type.
#[pyfunction]
#[pyo3(signature = (doc, rules = "strict"))]
fn validate(py: Python<'_>, doc: &Bound<'_, PyAny>, rules: &str) -> PyResult<Vec<Violation>> {
    let rules = self::rules(rules)?;
    let document = input::document(py, doc)?;
    Ok(match document.validate(rules) {
        Ok(()) => Vec::new(),
        Err(violations) => violations.iter().map(Violation::from).collect(),
    })
}

/// Whether `doc` is valid under `rules` (see `validate`). Text that is not a
/// JSON object is not valid; a `doc` of another type raises `TypeError`.
#[pyfunction]
#[pyo3(signature = (doc, rules = "strict"))]
fn is_valid(py: Python<'_>, doc: &Bound<'_, PyAny>, rules: &str) -> PyResult<bool> {
    let rules = self::rules(rules)?;
    match input::document(py, doc) {
        Ok(document) => Ok(document.validate(rules).is_ok()),
        Err(e) if e.is_instance_of::<OwnershipError>(py) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Splits 100 % equally among `owner_ids` (in the order given): `balanced`
/// (the last `10000 mod n` owners get 0.01 more) or `seed` (the legacy
/// migration's formula). Returns an `Ownership`: individual for one owner,
/// tenants in common for more.
#[pyfunction]
#[pyo3(signature = (owner_ids, policy = "balanced"))]
fn equal_split(owner_ids: &Bound<'_, PyAny>, policy: &str) -> PyResult<model::Ownership> {
    let policy: SplitPolicy = policy.parse().map_err(|_| {
        PyValueError::new_err(format!(
            "unknown policy {policy:?}: expected \"balanced\" or \"seed\""
        ))
    })?;
    let owners = model::owner_ids(owner_ids)?;
    split(&owners, policy)
        .map(model::Ownership)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Splits `amount` among the owners of `ownership` to `decimals` places so
/// that the parts add up to `amount` exactly (largest remainder, ties to the
/// earlier owner; joint owners equally; a negative amount gives the negated
/// parts). Returns `[(owner_id, Decimal), ...]` in owner order.
///
/// `amount` is a `decimal.Decimal`, an `int`, a `str` (`"1000.00"`) or a
/// `float`, read through its shortest `repr` (`1234.56` is
/// `Decimal("1234.56")`, the decimal it shows; a valuation that asyncpg or
/// `json.loads` hands over as a float is the amount meant). NaN and the
/// infinities are refused. An amount with more than `decimals` places is
/// refused, never rounded.
#[pyfunction]
#[pyo3(signature = (amount, ownership, decimals = 2))]
fn apportion<'py>(
    py: Python<'py>,
    amount: &Bound<'py, PyAny>,
    ownership: &model::Ownership,
    decimals: u32,
) -> PyResult<Vec<Bound<'py, PyTuple>>> {
    let amount: Decimal = input::amount(amount)?;
    let parts = coownership::apportion::apportion(amount, &ownership.0, decimals)
        .map_err(|e| PyValueError::new_err(format!("{}: {e}", e.code())))?;
    parts
        .into_iter()
        .map(|(owner, part)| {
            PyTuple::new(
                py,
                [
                    owner.get().into_pyobject(py)?.into_any(),
                    part.into_pyobject(py)?.into_any(),
                ],
            )
        })
        .collect()
}

#[pymodule]
fn _coownership(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("OwnershipError", m.py().get_type::<OwnershipError>())?;
    m.add_class::<Violation>()?;
    m.add_class::<model::Ownership>()?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(is_valid, m)?)?;
    m.add_function(wrap_pyfunction!(equal_split, m)?)?;
    m.add_function(wrap_pyfunction!(apportion, m)?)?;
    // The strict rules' limits: the same numbers as the Rust `Limits::DEFAULT`
    // and the SQL's `ownership_limits()`.
    let limits = coownership::Limits::DEFAULT;
    let dict = pyo3::types::PyDict::new(m.py());
    dict.set_item("max_bytes", limits.max_bytes)?;
    dict.set_item("max_depth", limits.max_depth)?;
    dict.set_item("max_owners", limits.max_owners)?;
    m.add("LIMITS", dict)?;
    Ok(())
}
