//! `coownership.Ownership`: the crate's typed, valid-by-construction model.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use coownership::{JointOwnership, OwnerId, TenantsInCommon};

use crate::{input, ownership_error, py_repr, Violation};

/// A valid ownership: `individual`, `tenants_in_common` (shares at 0.01 %
/// that total exactly 100.00 %) or `joint_ownership` (two or more distinct
/// owners). Every instance follows the strict rules.
#[pyclass(frozen, eq, hash, module = "coownership")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ownership(pub(crate) coownership::Ownership);

fn owner(id: i64) -> PyResult<OwnerId> {
    OwnerId::new(id).map_err(|e| PyValueError::new_err(e.to_string()))
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
    fn individual(owner_id: i64) -> PyResult<Self> {
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
            pairs.push((owner(k.extract()?)?, input::share(&v)?));
        }
        TenantsInCommon::new(pairs)
            .map(|t| Ownership(t.into()))
            .map_err(model_error)
    }

    /// Joint ownership: two or more distinct owners, undivided, in the order given.
    #[staticmethod]
    fn joint(owner_ids: Vec<i64>) -> PyResult<Self> {
        let owners = owner_ids
            .into_iter()
            .map(owner)
            .collect::<PyResult<Vec<_>>>()?;
        JointOwnership::new(owners)
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
}
