"""pydantic 2 support: `OwnershipDetails`, a model field type.

    from pydantic import BaseModel
    from coownership.pydantic import OwnershipDetails

    class ProductIn(BaseModel):
        ownership_details: OwnershipDetails

The field accepts a parsed JSON object (a request body), JSON text (`str` or
`bytes`, as asyncpg returns a `jsonb` column) or an `Ownership`, validates it
with the strict rules of the crate and holds a `coownership.Ownership`. Each
violation becomes one pydantic error whose `type` is the violation code and
whose location ends with the key concerned (an owner id, `joint_owners`), so
that a FastAPI endpoint answers 422 with, for example:

    {"type": "total_not_100", "loc": ["body", "ownership_details"],
     "msg": "shares total 110.00, expected exactly 100.00", ...}

It serializes to the canonical document as a JSON object (`model_dump()`
and `model_dump_json()`): owner keys ascending, `joint_owners` as given.
Shares are JSON numbers there, so `60.00` reads `60.0` in pydantic's JSON;
`Ownership.to_json()` gives the canonical text byte for byte. Its JSON
Schema (for FastAPI's `/docs`) describes the three shapes.

Importing this module needs pydantic 2 (`pip install coownership[pydantic]`);
the rest of the package does not.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError, core_schema

from . import Ownership, OwnershipError

__all__ = ["OwnershipDetails", "JSON_SCHEMA"]

_OWNER_KEY = "^[1-9][0-9]{0,18}$"
# No `multipleOf: 0.01`: validators test it in binary floating point, where
# 33.33 is not a multiple of 0.01, so the schema would refuse valid shares.
# At most two decimals is the validation's to check, like the total.
_SHARE = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": 100,
    "description": "The owner's percentage, at most two decimals",
}

#: The JSON Schema of an ownership document: one of the three shapes. Owner
#: keys are positive ids; a schema cannot say that shares total 100.00 or
#: have at most two decimals (not in floating point), which the validation
#: does. Every valid document passes it (tested over the corpus).
JSON_SCHEMA: dict[str, Any] = {
    "title": "OwnershipDetails",
    "description": "Who owns a product and in what shares (the coownership wire format).",
    "oneOf": [
        {
            "title": "Individual",
            "type": "object",
            "properties": {"association_type": {"const": "individual"}},
            "required": ["association_type"],
            "patternProperties": {_OWNER_KEY: {**_SHARE, "const": 100}},
            "minProperties": 2,
        },
        {
            "title": "TenantsInCommon",
            "type": "object",
            "properties": {"association_type": {"const": "tenants_in_common"}},
            "required": ["association_type"],
            "patternProperties": {_OWNER_KEY: _SHARE},
            "minProperties": 3,
        },
        {
            "title": "JointOwnership",
            "type": "object",
            "properties": {
                "association_type": {"const": "joint_ownership"},
                "joint_owners": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1},
                    "minItems": 2,
                    "uniqueItems": True,
                },
            },
            "required": ["association_type", "joint_owners"],
        },
    ],
}


def _errors(value: Any, violations: list[Any]) -> ValidationError:
    details: list[InitErrorDetails] = []
    for v in violations:
        details.append(
            {
                "type": PydanticCustomError(v.code, v.message),
                "loc": (v.key,) if v.key else (),
                "input": value,
            }
        )
    return ValidationError.from_exception_data("OwnershipDetails", details)


def _validate(value: Any) -> Ownership:
    if isinstance(value, Ownership):
        return value
    if not isinstance(value, (dict, str, bytes)):
        raise PydanticCustomError(
            "ownership_type",
            "expected a JSON object or JSON text, got {type_name}",
            {"type_name": type(value).__name__},
        )
    try:
        return Ownership.parse(value)
    except OwnershipError as e:
        raise _errors(value, e.violations) from None
    except (TypeError, ValueError) as e:
        raise PydanticCustomError("ownership_type", "{error}", {"error": str(e)}) from None


def _serialize(value: Ownership) -> Any:
    return json.loads(value.to_json())


class OwnershipDetails:
    """A pydantic field type for an `ownership_details` document (see the module docs)."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _validate,
            serialization=core_schema.plain_serializer_function_ser_schema(_serialize),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return json.loads(json.dumps(JSON_SCHEMA))
