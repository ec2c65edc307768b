"""The Python API: inputs, exactness, errors."""

from __future__ import annotations

import doctest
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import coownership
from coownership import Ownership, OwnershipError, Violation

TIC = '{"association_type": "tenants_in_common", "123": 33.33, "456": 33.33, "789": 33.34}'


def test_the_package_docs_examples_run():
    failures, tried = doctest.testmod(coownership, raise_on_error=False)
    assert tried > 0 and failures == 0


def test_text_bytes_and_dict_give_the_same_verdicts():
    docs = [
        TIC,
        '{"association_type": "tenants_in_common", "1": 50, "2": 60}',
        '{"association_type": "individual", "1": 100.00, "note": {"a": [1, 2.5, null, true]}}',
        '{"association_type": "joint_ownership", "joint_owners": [1, 1]}',
        '{"association_type": "tenants_in_common", "1": 33.335, "2": 66.665}',
        '{"association_type": "individual", "007": "100"}',
        '{"association_type": null}',
    ]
    for text in docs:
        for rules in ["strict", "seed"]:
            expected = coownership.validate(text, rules)
            assert coownership.validate(text.encode(), rules) == expected
            assert coownership.validate(json.loads(text), rules) == expected, text


def test_floats_are_read_through_their_shortest_repr():
    # 33.33 as a float is 33.3299999999999982946974341757595539093017578125;
    # a person typed 33.33, and that is what is judged.
    doc = {"association_type": "tenants_in_common", "1": 33.33, "2": 33.33, "3": 33.34}
    assert coownership.validate(doc) == []
    assert Ownership.parse(doc).owners == {1: Decimal("33.33"), 2: Decimal("33.33"), 3: Decimal("33.34")}
    assert [v.code for v in coownership.validate({"association_type": "individual", "1": 99.999})] == [
        "share_too_precise"
    ]
    # int keys are written as json.dumps writes them
    assert coownership.is_valid({"association_type": "individual", 5: 100})


def test_decimal_exactness():
    o = Ownership.tenants_in_common({1: Decimal("33.33"), 2: "33.33", 3: 33.34})
    assert o.owners == {1: Decimal("33.33"), 2: Decimal("33.33"), 3: Decimal("33.34")}
    assert all(isinstance(v, Decimal) for v in o.owners.values())
    assert str(o.owners[1]) == "33.33"
    parts = coownership.apportion(Decimal("1000.00"), o)
    assert parts == [(1, Decimal("333.30")), (2, Decimal("333.30")), (3, Decimal("333.40"))]
    assert [str(a) for _, a in parts] == ["333.30", "333.30", "333.40"]
    assert sum(a for _, a in parts) == Decimal("1000.00")
    assert coownership.apportion(-250, o, 0) == [(1, Decimal("-83")), (2, Decimal("-83")), (3, Decimal("-84"))]
    assert coownership.apportion("1E+3", Ownership.individual(7)) == [(7, Decimal("1000.00"))]
    assert coownership.apportion(Decimal("1E+3"), Ownership.individual(7), 0) == [(7, Decimal("1000"))]


def test_the_typed_model():
    o = Ownership.parse(TIC)
    assert o.association_type == "tenants_in_common"
    assert o.to_json() == '{"association_type":"tenants_in_common","123":33.33,"456":33.33,"789":33.34}'
    assert len(o) == 3
    assert o == Ownership.parse(o.to_json()) and hash(o) == hash(Ownership.parse(o.to_json()))
    assert eval(repr(o), {"Ownership": Ownership}) == o
    j = Ownership.joint([9, 3, 5])
    assert j.to_json() == '{"association_type":"joint_ownership","joint_owners":[9,3,5]}'
    assert list(j.owners) == [9, 3, 5]
    assert j.owners[9] == Decimal("33.333333333333333333333333333")  # 100 / 3 to 28 places
    i = Ownership.individual(7)
    assert (i.association_type, i.owners) == ("individual", {7: Decimal(100)})
    assert coownership.equal_split([1]) == i.__class__.individual(1)
    assert coownership.equal_split([30, 10, 20]).owners == {10: Decimal("33.33"), 20: Decimal("33.34"), 30: Decimal("33.33")}
    assert str(coownership.equal_split(list(range(1, 156)), "balanced").owners[155]) == "0.65"
    with pytest.raises(ValueError, match="share"):
        coownership.equal_split(list(range(1, 156)), "seed")
    with pytest.raises(ValueError, match="more than once"):
        coownership.equal_split([1, 1])


def test_violations_are_values():
    [a] = coownership.validate('{"association_type": "individual"}')
    [b] = coownership.validate('{"association_type": "individual"}')
    assert a == b and hash(a) == hash(b)
    assert isinstance(a, Violation)
    assert repr(a) == "Violation(code='individual_owner_count', key='', message=" + repr(a.message) + ")"


def test_bad_input_raises_python_exceptions():
    with pytest.raises(OwnershipError) as e:
        coownership.validate("not json")
    assert [v.code for v in e.value.violations] == ["malformed_json"]
    assert isinstance(e.value, ValueError)
    with pytest.raises(OwnershipError) as e:
        coownership.validate("[1, 2]")
    assert [v.code for v in e.value.violations] == ["not_an_object"]
    with pytest.raises(OwnershipError):
        coownership.validate(b"\xff\xfe")
    assert coownership.is_valid("not json") is False
    for wrong in [12, None, [1], 1.5, object()]:
        with pytest.raises(TypeError):
            coownership.validate(wrong)
        with pytest.raises(TypeError):
            coownership.is_valid(wrong)
    with pytest.raises(TypeError, match="the float NaN"):
        coownership.validate({"association_type": "individual", "1": float("nan")})
    with pytest.raises(TypeError, match="at note"):
        coownership.validate({"association_type": "individual", "1": 100, "note": {1, 2}})
    with pytest.raises(TypeError, match="keys must be str or int"):
        coownership.validate({"association_type": "individual", (1,): 100})
    with pytest.raises(ValueError, match="unknown rules"):
        coownership.validate(TIC, "lenient")
    with pytest.raises(ValueError, match="unknown policy"):
        coownership.equal_split([1, 2], "random")
    deep: dict = {}
    node = deep
    for _ in range(5000):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(ValueError, match="deeper"):
        coownership.validate(deep)
    with pytest.raises(OwnershipError) as e:
        Ownership.parse('{"association_type": "tenants_in_common", "1": 50, "2": 60}')
    assert [v.code for v in e.value.violations] == ["total_not_100"]
    for bad in [{1: "50", 2: "60"}, {1: "33.333", 2: "66.667"}, {0: 100}]:
        with pytest.raises(ValueError):
            Ownership.tenants_in_common(bad)
    with pytest.raises(ValueError):
        Ownership.joint([5])
    with pytest.raises(ValueError):
        Ownership.individual(-1)
    o = Ownership.individual(7)
    with pytest.raises(TypeError, match="not bool"):
        coownership.apportion(True, o)
    for amount, message in [
        ("1.001", "amount_too_precise"),
        ("1_0.0_1", "invalid amount"),
        ("NaN", 'amount "NaN" is not a finite number'),
        ("-Infinity", 'amount "-Infinity" is not a finite number'),
        (Decimal("NaN"), "is not a finite number"),
    ]:
        with pytest.raises(ValueError, match=message):
            coownership.apportion(amount, o)
    with pytest.raises(ValueError, match="decimals_out_of_range"):
        coownership.apportion(1, o, 29)
    with pytest.raises(ValueError, match="Infinity.* is not a finite number"):
        coownership.apportion(Decimal("Infinity"), o)


@given(st.lists(st.integers(min_value=1, max_value=9_999), min_size=1, max_size=12, unique=True))
def test_dict_with_floats_and_text_agree(cuts):
    # Shares of basis points that total 10,000, written as floats and as text.
    cuts = sorted(cuts)
    bps = [b - a for a, b in zip([0] + cuts, cuts + [10_000])]
    doc = {"association_type": "tenants_in_common"}
    text = ['"association_type": "tenants_in_common"']
    for owner, bp in enumerate(bps, start=1):
        doc[str(owner)] = bp / 100
        text.append(f'"{owner}": {bp // 100}.{bp % 100:02d}')
    assert coownership.validate(doc) == coownership.validate("{" + ", ".join(text) + "}")
    o = Ownership.parse(doc)
    parts = coownership.apportion(Decimal("12345.67"), o)
    assert sum(a for _, a in parts) == Decimal("12345.67")


def test_the_documented_python_examples_run():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[3]
    guide = (root / "bindings" / "python" / "README.md").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.S)
    assert len(blocks) == 2
    readme_blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(readme_blocks) == 1
    for name, block in [("bindings/python/README.md", b) for b in blocks] + [("README.md", readme_blocks[0])]:
        exec(compile(block, name, "exec"), {})


def test_the_limits_are_the_crates_and_the_databases():
    # The same numbers as Rust's Limits::DEFAULT and SQL's ownership_limits()
    # (tests/money.rs checks those two against each other).
    assert dict(coownership.LIMITS) == {"max_bytes": 524288, "max_depth": 64, "max_owners": 10000}
    n = coownership.LIMITS["max_owners"]

    def tic(count):
        shares = {str(i): "0.01" for i in range(1, count)}
        last = 10000 - (count - 1)
        body = ",".join(f'"{k}":{v}' for k, v in shares.items())
        return '{"association_type":"tenants_in_common",' + body + f',"{count}":{last // 100}.{last % 100:02d}}}'

    assert coownership.validate(tic(n)) == []
    # (The last share is then 0.00, which is its own violation.)
    assert "too_many_owners" in [v.code for v in coownership.validate(tic(n + 1))]
    depth = coownership.LIMITS["max_depth"]

    def deep(levels):
        return '{"association_type":"individual","1":100,"n":' + "[" * (levels - 1) + "]" * (levels - 1) + "}"

    assert coownership.validate(deep(depth)) == []
    assert [v.code for v in coownership.validate(deep(depth + 1))] == ["document_too_deep"]
    # The size as PostgreSQL stores the document: {"1": 100, "n": "…", "association_type": "individual"}.
    base = len('{"1": 100, "n": "", "association_type": "individual"}')

    def sized(stored):
        return '{"association_type":"individual","1":100,"n":"' + "x" * (stored - base) + '"}'

    assert coownership.validate(sized(coownership.LIMITS["max_bytes"])) == []
    assert [v.code for v in coownership.validate(sized(coownership.LIMITS["max_bytes"] + 1))] == ["document_too_large"]


def test_what_jsonb_cannot_store_is_refused_with_its_own_code():
    for text, code in [
        ('{"association_type":"individual","1":100,"n":"a\\u0000b"}', "nul_character"),
        ('{"association_type":"individual","1":100,"n":1e999999}', "number_out_of_range"),
        ('{"association_type":"individual","1":100,"n":1e-16384}', "number_out_of_range"),
    ]:
        for rules in ["strict", "seed"]:
            with pytest.raises(OwnershipError) as e:
                coownership.validate(text, rules)
            assert [v.code for v in e.value.violations] == [code], (text, rules)


def test_pickle_and_copy_round_trip():
    import copy
    import pickle

    o = Ownership.parse(TIC)
    for back in (pickle.loads(pickle.dumps(o)), copy.copy(o), copy.deepcopy(o)):
        assert back == o
        assert back.to_json() == o.to_json()
    [v] = coownership.validate('{"association_type": "tenants_in_common", "1": 50, "2": 60}')
    assert pickle.loads(pickle.dumps(v)) == v
    assert copy.deepcopy(v) == v
    with pytest.raises(OwnershipError) as unreadable:
        coownership.validate('{"association_type": ')
    [p] = unreadable.value.violations
    assert p.code == "malformed_json"
    assert pickle.loads(pickle.dumps(p)) == p
    with pytest.raises(OwnershipError) as raised:
        Ownership.parse('{"association_type": "individual"}')
    error = raised.value
    assert error.violations
    for back in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):
        assert type(back) is OwnershipError
        assert back.violations == error.violations
        assert str(back) == str(error)
    with pytest.raises(ValueError, match="unknown violation code"):
        Violation("no_such_code", "", "")


@pytest.mark.parametrize(
    "call",
    [
        lambda: Ownership.individual(True),
        lambda: Ownership.joint([True, 2]),
        lambda: Ownership.tenants_in_common({True: "50", 2: "50"}),
        lambda: coownership.equal_split([False, 2]),
    ],
)
def test_bools_are_not_owner_ids(call):
    with pytest.raises(TypeError, match="not bool"):
        call()


def test_owner_ids_from_any_iterable():
    assert Ownership.joint((3, 1)) == Ownership.joint([3, 1])
    assert coownership.equal_split(range(1, 4)) == coownership.equal_split([1, 2, 3])
    with pytest.raises(TypeError):
        Ownership.joint("12")


def test_float_amounts_are_the_decimal_they_show():
    o = Ownership.parse(TIC)
    assert coownership.apportion(1234.56, o) == coownership.apportion(Decimal("1234.56"), o)
    assert coownership.apportion(0.1, o) == coownership.apportion("0.10", o)
    assert coownership.apportion(-250.0, o) == coownership.apportion(-250, o)
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValueError, match="not a finite number"):
            coownership.apportion(bad, o)
    with pytest.raises(ValueError, match="amount_too_precise"):
        coownership.apportion(0.125, o)


def test_huge_decimal_amounts_are_refused_at_once_with_a_short_message():
    o = Ownership.parse(TIC)
    huge = (Decimal("1E+400000000"), Decimal("-1E+400000000"), Decimal("1E-400000000"), Decimal("0E-400000000"))
    for amount in huge:
        with pytest.raises(ValueError) as raised:
            coownership.apportion(amount, o)
        assert len(str(raised.value)) < 300, len(str(raised.value))
    assert coownership.apportion(Decimal("1E+3"), o) == coownership.apportion(1000, o)
