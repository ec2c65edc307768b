"""`coownership.pydantic.OwnershipDetails` in a model and behind FastAPI."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

import coownership
from coownership.pydantic import JSON_SCHEMA, OwnershipDetails


class Product(BaseModel):
    name: str
    ownership_details: OwnershipDetails


def test_valid_input_of_every_kind_gives_the_typed_ownership():
    body = {"association_type": "tenants_in_common", "123": 33.33, "456": 33.33, "789": 33.34}
    from_dict = Product(name="isa", ownership_details=body)
    assert isinstance(from_dict.ownership_details, coownership.Ownership)
    from_text = Product(name="isa", ownership_details=json.dumps(body))  # asyncpg's jsonb
    from_bytes = Product(name="isa", ownership_details=json.dumps(body).encode())
    typed = Product(name="isa", ownership_details=coownership.Ownership.individual(5))
    assert from_dict.ownership_details == from_text.ownership_details == from_bytes.ownership_details
    assert typed.ownership_details == coownership.Ownership.individual(5)
    # Serialized to the canonical document, as a JSON object.
    assert from_dict.model_dump() == {
        "name": "isa",
        "ownership_details": {"association_type": "tenants_in_common", "123": 33.33, "456": 33.33, "789": 33.34},
    }
    assert json.loads(from_dict.model_dump_json())["ownership_details"] == json.loads(
        from_dict.ownership_details.to_json()
    )


def test_each_violation_is_a_pydantic_error_with_the_code_and_the_owner_key():
    with pytest.raises(ValidationError) as e:
        Product(
            name="isa",
            ownership_details={"association_type": "tenants_in_common", "123": 50, "456": 60.005, "007": 1},
        )
    errors = [(err["type"], err["loc"], err["msg"]) for err in e.value.errors()]
    # In the document's key order, each at its owner key.
    assert [(t, loc) for t, loc, _ in errors] == [
        ("share_too_precise", ("ownership_details", "456")),
        ("non_canonical_owner_key", ("ownership_details", "007")),
    ], errors
    assert errors[0][2] == 'share of owner "456" is 60.005, which is not a whole number of hundredths (0.01 %)'
    with pytest.raises(ValidationError) as e:
        Product(name="isa", ownership_details=12)
    assert e.value.errors()[0]["type"] == "ownership_type"
    with pytest.raises(ValidationError) as e:
        Product(name="isa", ownership_details="not json")
    assert e.value.errors()[0]["type"] == "malformed_json"


app = FastAPI()


@app.post("/products")
def create(product: Product) -> Product:
    return product


def test_a_fastapi_endpoint_answers_422_with_the_codes_and_200_with_the_canonical_document():
    client = TestClient(app)
    bad = {"name": "isa", "ownership_details": {"association_type": "tenants_in_common", "123": 50, "456": 60}}
    response = client.post("/products", json=bad)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(d["type"], d["loc"], d["msg"]) for d in detail] == [
        ("total_not_100", ["body", "ownership_details"], "shares total 110.00, expected exactly 100.00"),
    ]
    bad["ownership_details"] = {"association_type": "tenants_in_common", "123": -5, "456": 105}
    detail = client.post("/products", json=bad).json()["detail"]
    assert [(d["type"], d["loc"], d["msg"]) for d in detail] == [
        ("share_not_positive", ["body", "ownership_details", "123"], 'share of owner "123" is -5, expected more than 0'),
        ("share_above_100", ["body", "ownership_details", "456"], 'share of owner "456" is 105, expected at most 100'),
    ]
    good = {"name": "isa", "ownership_details": {"association_type": "joint_ownership", "joint_owners": [2, 1]}}
    response = client.post("/products", json=good)
    assert response.status_code == 200
    assert response.json() == good
    # FastAPI builds /docs from the models: the schema must come out.
    schema = client.get("/openapi.json").json()
    assert schema["components"]["schemas"]["Product"]["properties"]["ownership_details"]["oneOf"] == JSON_SCHEMA["oneOf"]


def test_a_models_json_schema_describes_the_three_shapes():
    schema = Product.model_json_schema()
    field = schema["properties"]["ownership_details"]
    assert [s["title"] for s in field["oneOf"]] == ["Individual", "TenantsInCommon", "JointOwnership"]
    assert field["oneOf"][2]["properties"]["joint_owners"]["minItems"] == 2
    assert "ownership_details" in schema["required"]


def test_the_json_schema_accepts_every_valid_document(corpus):
    # A JSON Schema validator over the corpus: every document the strict
    # rules accept must pass the published schema (which cannot check the
    # total, so it is allowed to be looser, never stricter).
    import jsonschema

    validator = jsonschema.Draft202012Validator(JSON_SCHEMA)
    valid = 0
    for text in corpus:
        try:
            document = json.loads(text)
        except ValueError:
            continue
        if not isinstance(document, dict) or not coownership.is_valid(text):
            continue
        valid += 1
        errors = [e.message for e in validator.iter_errors(document)]
        assert not errors, f"{text}: {errors}"
    assert valid > 5
    for example in [
        '{"association_type": "tenants_in_common", "1": 33.33, "2": 33.33, "3": 33.34}',
        '{"association_type": "tenants_in_common", "1": 0.07, "2": 99.93}',
    ]:
        assert coownership.is_valid(example)
        assert not list(validator.iter_errors(json.loads(example))), example
