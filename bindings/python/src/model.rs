//! `coownership.Ownership`: the crate's typed, valid-by-construction model.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

use coownership::{JointOwnership, OwnerId, TenantsInCommon};

use crate::{input, ownership_error, py_repr, Violation};

/// A valid ownership: `individual`, `tenants_in_common` (shares at 0.01 %
/// that total exactly 100.00 %) or `joint_ownership` (two or more distinct
/// owners). Every instance follows the strict rules.
#[pyclass(frozen, eq, hash, module = "coownership")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ownership(pub(crate) coownership::Ownership);

/// An owner id from Python: an `int` (not a `bool`, which Python counts as
/// one) that is a valid owner id.
pub(crate) fn owner(obj: &Bound<'_, PyAny>) -> PyResult<OwnerId> {
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "owner ids are integers, not bool ({})",
            obj.repr()?
        )));
    }
    let id: i64 = obj.extract()?;
    OwnerId::new(id).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Owner ids from any iterable of them.
pub(crate) fn owner_ids(objs: &Bound<'_, PyAny>) -> PyResult<Vec<OwnerId>> {
    if objs.is_instance_of::<pyo3::types::PyString>()
        || objs.is_instance_of::<pyo3::types::PyBytes>()
    {
        return Err(PyTypeError::new_err(
            "owner ids must be a sequence of integers, not text",
        ));
    }
    objs.try_iter()?.map(|item| owner(&item?)).collect()
}

fn model_error(e: coownership::ModelError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

#[pymethods]
impl Ownership {
    /// Reads a document under the strict rules: JSON text (`str` or
    /// `bytes`) or a `dict` (floats read through their shortest `repr`).
    /// Raises `OwnershipError` with every violation.
    #[staticmethod]
    fn parse(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        let document = input::document(py, text)?;
        document.to_ownership().map(Ownership).map_err(|v| {
            ownership_error(py, v.to_string(), v.iter().map(Violation::from).collect())
        })
    }

    /// One owner, holding 100.00 %.
    #[staticmethod]
    fn individual(owner_id: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Ownership(coownership::Ownership::individual(owner(
            owner_id,
        )?)))
    }

    /// Tenants in common: `{owner_id: share}`, shares as `Decimal`, `str`,
    /// `int` or `float` (read through its shortest `repr`), each a whole
    /// number of hundredths, totalling exactly 100.00.
    #[staticmethod]
    fn tenants_in_common(shares: &Bound<'_, PyDict>) -> PyResult<Self> {
        let mut pairs = Vec::with_capacity(shares.len());
        for (k, v) in shares.iter() {
            pairs.push((owner(&k)?, input::share(&v)?));
        }
        TenantsInCommon::new(pairs)
            .map(|t| Ownership(t.into()))
            .map_err(model_error)
    }

    /// Joint ownership: two or more distinct owners, undivided, in the order given.
    #[staticmethod]
    fn joint(owner_ids: &Bound<'_, PyAny>) -> PyResult<Self> {
        JointOwnership::new(self::owner_ids(owner_ids)?)
            .map(|j| Ownership(j.into()))
            .map_err(model_error)
    }

    /// `"individual"`, `"tenants_in_common"` or `"joint_ownership"`.
    #[getter]
    fn association_type(&self) -> &'static str {
        self.0.association_type().as_str()
    }

    /// `{owner_id: percentage}` in owner order: 100 for an individual, each
    /// tenant's share, and for joint owners an equal split of 100 (`100 / n`,
    /// to 28 places).
    #[getter]
    fn owners<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (owner, share) in self.0.economic_shares() {
            dict.set_item(owner.get(), share)?;
        }
        Ok(dict)
    }

    /// The canonical JSON text: `association_type` first, owner keys
    /// ascending with two decimals, or `joint_owners`; no whitespace.
    fn to_json(&self) -> String {
        self.0.to_json()
    }

    fn __str__(&self) -> String {
        self.0.to_json()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Ownership.parse({})",
            py_repr(py, &self.0.to_json())?
        ))
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    /// Pickle and `copy` rebuild it from its canonical text.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((slf.get_type().getattr("parse")?, (slf.get().0.to_json(),)))
    }
}
