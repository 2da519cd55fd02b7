"""Rule sets: validation, and a table's rules compared with the set in force."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import SpecError, ValidationError
from fivesafes.release.rulesets import RuleSetting, parse_parameters, weaknesses
from fivesafes.sdc import parse_spec


def _org(**params: object) -> RuleSetting:
    return RuleSetting("standard", 2, parse_parameters(params))


@given(org=st.integers(1, 20), table=st.integers(1, 20))
def test_a_threshold_is_weaker_exactly_when_lower(org: int, table: int) -> None:
    found = weaknesses(parse_parameters({"threshold": table}), _org(threshold=org))
    assert bool(found) == (table < org)
    if found:
        assert f"threshold {table} is weaker than {org}" in found[0]
        assert "standard v2" in found[0]


@given(
    n=st.integers(1, 3),
    k=st.floats(10, 95),
    dn=st.integers(0, 2),
    dk=st.floats(0, 5),
)
def test_a_dominance_rule_is_met_by_one_at_least_as_strict(
    n: int, k: float, dn: int, dk: float
) -> None:
    org = _org(dominance=[[n, k]])
    stricter = parse_parameters({"dominance": [[n + dn, k - dk]]})
    assert weaknesses(stricter, org) == []
    looser = parse_parameters({"dominance": [[n, k + 1]]})
    assert weaknesses(looser, org)


def test_missing_rules_and_zero_policy_are_weaknesses() -> None:
    org = _org(threshold=7, p_percent=10, zeros="sensitive", pq=[10, 50])
    found = weaknesses(parse_parameters({"threshold": 7}), org)
    assert len(found) == 3
    assert any("p_percent is not applied" in f for f in found)


@pytest.mark.parametrize(
    "params",
    [
        {"threshold": 0},
        {"threshold": 2.5},
        {"colour": 1},
        {"dominance": [[1, 120]]},
        {"zeros": "x"},
    ],
)
def test_bad_parameters_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse_parameters(params)


# Each was accepted by the rule set's own validator before there was one validator.
OUT_OF_BOUNDS = [
    {"p_percent": 150},
    {"p_percent": 0},
    {"pq": [60, 10]},
    {"pq": [10, 150]},
    {"dominance": [[1, 0]]},
    {"dominance": [[1, 50, 3]]},
    {"threshold_protection_percent": -1},
]


@pytest.mark.parametrize("params", OUT_OF_BOUNDS)
def test_a_rule_set_refuses_what_a_spec_refuses(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse_parameters(params)
    with pytest.raises(SpecError, match=r"\[rules\]"):
        parse_spec(
            {"table": {"name": "t", "response": "x"}, "dimension": [{"name": "d"}], "rules": params}
        )


@pytest.mark.parametrize(
    "params",
    [
        {"threshold": 7, "p_percent": 10},
        {"dominance": [[1, 50], [2, 85.5]], "pq": [10, 50]},
        {"threshold": 7.0, "frequency_threshold": 5, "zeros": "sensitive"},
        {"threshold": None, "p_percent": 100},
    ],
)
def test_a_rule_set_and_a_spec_read_the_same_parameters_alike(params: dict[str, object]) -> None:
    spec = parse_spec(
        {"table": {"name": "t", "response": "x"}, "dimension": [{"name": "d"}], "rules": params}
    )
    assert parse_parameters(params) == spec.rules.as_dict()
