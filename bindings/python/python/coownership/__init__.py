"""Who owns a financial product, and in what shares.

The engine of the `coownership` Rust crate, called from Python: the same
parser, the same rules, the same violation codes, the same rounding. Nothing
here decides a verdict in Python.

>>> import coownership
>>> coownership.validate('{"association_type": "tenants_in_common", "1": 50, "2": 60}')
[Violation(code='total_not_100', key='', message='shares total 110.00, expected exactly 100.00')]
>>> coownership.is_valid({"association_type": "individual", "123": 100.0})
True
>>> o = coownership.equal_split([30, 10, 20])
>>> o.to_json()
'{"association_type":"tenants_in_common","10":33.33,"20":33.34,"30":33.33}'
>>> coownership.apportion("0.10", o)
[(10, Decimal('0.03')), (20, Decimal('0.04')), (30, Decimal('0.03'))]

Exactness: shares and amounts come back as `decimal.Decimal`. A `dict` that
holds floats (what `json.loads` gives) is read through each float's shortest
`repr`, which is the decimal a person typed (`33.33`, never
`33.329999999999998`); a float amount is read the same way (`1234.56`).

Limits: `LIMITS` holds the strict rules' limits, the same as the Rust crate's
and the database's (`ownership_limits()`): `max_bytes` (the document's size
as PostgreSQL stores it), `max_depth` and `max_owners`. A document past one
gets `document_too_large`, `document_too_deep` or `too_many_owners`; one that
PostgreSQL's `jsonb` could not store at all gets `nul_character` or
`number_out_of_range`.
"""

from ._coownership import (
    LIMITS,
    Ownership,
    OwnershipError,
    Violation,
    apportion,
    equal_split,
    is_valid,
    validate,
)

__all__ = [
    "LIMITS",
    "Ownership",
    "OwnershipError",
    "Violation",
    "apportion",
    "equal_split",
    "is_valid",
    "validate",
]
