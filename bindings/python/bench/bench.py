"""Speed of `coownership.validate` on JSON text, side by side in one run with
`json.loads` alone and with a pydantic 2 model holding the equivalent strict
checks (what a Python developer would write today), on the same documents.

    python bindings/python/bench/bench.py

Prints documents per second and the ratios. A benchmark, not a test: the
figures go in the README.
"""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, model_validator

import coownership

CANONICAL = re.compile(r"^[1-9][0-9]{0,18}$")
DIGITS = re.compile(r"^[0-9]+$")


class StrictOwnership(BaseModel):
    """The strict rules, hand-written with pydantic."""

    model_config = ConfigDict(extra="allow")
    association_type: Literal["individual", "tenants_in_common", "joint_ownership"]
    joint_owners: Optional[list[int]] = None

    @model_validator(mode="after")
    def check(self) -> "StrictOwnership":
        shares: dict[int, Decimal] = {}
        for key, value in (self.model_extra or {}).items():
            if not DIGITS.match(key):
                continue
            if not CANONICAL.match(key) or int(key) > 2**63 - 1:
                raise ValueError(f"non-canonical owner key {key!r}")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"share of {key} is not a number")
            share = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            if share <= 0 or share > 100:
                raise ValueError(f"share of {key} out of range")
            if share != share.quantize(Decimal("0.01")):
                raise ValueError(f"share of {key} too precise")
            shares[int(key)] = share
        kind = self.association_type
        if kind == "joint_ownership":
            owners = self.joint_owners
            if owners is None or len(owners) < 2 or len(set(owners)) != len(owners) or min(owners) < 1:
                raise ValueError("joint_owners must list two or more distinct owners")
            if shares:
                raise ValueError("joint ownership has no shares")
        else:
            if self.joint_owners is not None:
                raise ValueError("unexpected joint_owners")
            if kind == "individual" and (len(shares) != 1 or sum(shares.values()) != 100):
                raise ValueError("individual needs one owner at 100.00")
            if kind == "tenants_in_common" and (len(shares) < 2 or sum(shares.values()) != 100):
                raise ValueError("tenants in common need two or more owners totalling 100.00")
        return self


def documents(n: int) -> list[str]:
    """The realistic mix of the Rust benches: half individual, most of the
    rest two or three tenants in common, some joint, a little metadata."""
    out = []
    for i in range(n):
        r = i % 100
        if r < 50:
            d: dict[str, Any] = {"association_type": "individual", str(1000 + i): 100.00}
        elif r < 80:
            d = {"association_type": "tenants_in_common", str(1000 + i): 50.00, str(1001 + i): 50.00}
        elif r < 90:
            d = {"association_type": "tenants_in_common", str(1000 + i): 33.33, str(1001 + i): 33.33, str(1002 + i): 33.34}
        elif r < 95:
            d = {"association_type": "joint_ownership", "joint_owners": [1000 + i, 1001 + i]}
        else:
            d = {"association_type": "individual", str(1000 + i): 100.00, "note": "transferred from legacy system"}
        out.append(json.dumps(d))
    return out


def best_rate(fn, docs: list[str], rounds: int = 7) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for d in docs:
            fn(d)
        best = min(best, time.perf_counter() - start)
    return len(docs) / best


def main() -> None:
    docs = documents(20_000)
    # Same verdicts first: every document of the mix is valid under both.
    assert all(coownership.validate(d) == [] for d in docs)
    for d in docs:
        StrictOwnership.model_validate_json(d)
    rates = {
        "coownership.validate(text)": best_rate(coownership.validate, docs),
        "json.loads(text)": best_rate(json.loads, docs),
        "pydantic model_validate_json + strict checks": best_rate(StrictOwnership.model_validate_json, docs),
        "coownership.validate(dict)": best_rate(coownership.validate, [json.loads(d) for d in docs]),
    }
    base = rates["coownership.validate(text)"]
    print(f"{len(docs)} documents, best of 7 rounds:")
    for name, rate in rates.items():
        print(f"  {name:<46} {rate / 1e6:6.2f} M documents/s   validate(text) is {base / rate:5.2f}x this")


if __name__ == "__main__":
    main()
