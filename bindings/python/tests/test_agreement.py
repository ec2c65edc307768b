"""The package's verdicts are the crate's: the same codes in the same order
as the Rust CLI, on every committed document, under every rule set."""

from __future__ import annotations

import json
import subprocess

import pytest

import coownership


def python_codes(doc: str, rules: str) -> list[str]:
    try:
        return [v.code for v in coownership.validate(doc, rules)]
    except coownership.OwnershipError as e:
        return [v.code for v in e.violations]


@pytest.mark.parametrize("rules", ["strict", "seed", "seed-pg18"])
def test_same_codes_in_the_same_order_as_the_rust_cli(cli, corpus, rules):
    docs = corpus
    out = subprocess.run(
        [str(cli), "validate", "--rules", rules, "-"],
        input="\n".join(docs) + "\n",
        capture_output=True,
        text=True,
    )
    assert out.returncode in (0, 1), out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) == len(docs)
    invalid = 0
    for doc, line in zip(docs, lines):
        rust = [v["code"] for v in line.get("violations", [])]
        assert python_codes(doc, rules) == rust, doc
        # bytes, as asyncpg may hand them over, give the same answer
        assert python_codes(doc.encode(), rules) == rust, doc
        invalid += bool(rust)
    assert 5 < invalid < len(docs), "the corpus has valid and invalid documents"


def test_messages_and_keys_are_the_crates():
    [v] = coownership.validate('{"association_type": "tenants_in_common", "1": 50, "2": 60.5}')
    assert (v.code, v.key) == ("total_not_100", "")
    assert v.message == "shares total 110.50, expected exactly 100.00"
    violations = coownership.validate('{"association_type": "tenants_in_common", "007": 50, "2": "50"}')
    assert [(v.code, v.key) for v in violations] == [
        ("non_canonical_owner_key", "007"),
        ("share_not_a_number", "2"),
    ]
