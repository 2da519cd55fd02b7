"""The [perturbation] and [rounding] sections: defaults in force, bad values clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fivesafes.errors import SpecError
from fivesafes.sdc.spec import parse_spec


def raw(**sections: Any) -> dict[str, Any]:
    table = {"name": "t", **sections.pop("table", {})}
    return {"table": table, "dimension": [{"name": "r"}], **sections}


def test_defaults_and_a_full_section_parse(tmp_path: Path) -> None:
    spec = parse_spec(raw())
    assert spec.protection == "suppression"
    assert spec.perturbation.as_dict()["D"] == 2 and spec.rounding.base == 5
    full = parse_spec(
        raw(
            table={"protection": "cellkey", "response": "x"},
            perturbation={
                "record_id": "id",
                "D": 5,
                "V": 3,
                "js": 4,
                "ptable": "pt.csv",
                "top_k": 3,
                "epsilon": [1, 0.6, 0.3],
                "magnitude_percent": 15,
                "magnitude_step": 20,
            },
            rounding={"base": 1000, "time_limit": 10, "gap": 0.1},
        ),
        base_dir=tmp_path,
    )
    assert full.protection == "cellkey"
    assert full.perturbation.ptable == tmp_path / "pt.csv"
    assert full.perturbation.epsilon == (1.0, 0.6, 0.3)
    assert full.perturbation.magnitude_step == 20
    assert full.rounding.base == 1000


@pytest.mark.parametrize(
    ("sections", "match"),
    [
        ({"table": {"protection": "blur"}}, "protection must be one of"),
        ({"perturbation": {"D": 0}}, "D must be"),
        ({"perturbation": {"D": True}}, "D must be"),
        ({"perturbation": {"D": 2.5}}, "D must be"),
        ({"perturbation": {"V": -1}}, "V"),
        ({"perturbation": {"D": 1, "js": 5}}, "too small for js"),
        ({"perturbation": {"top_k": 2, "epsilon": [1]}}, "epsilon"),
        ({"perturbation": {"epsilon": [0.5, 0.2]}}, "epsilon"),
        ({"perturbation": {"epsilon": [1, 2]}}, "epsilon"),
        ({"perturbation": {"magnitude_percent": 100}}, "magnitude_percent"),
        ({"perturbation": {"magnitude_step": 0}}, "magnitude_step must be"),
        ({"perturbation": {"magnitude_step": 0.5}}, "magnitude_step must be"),
        ({"perturbation": {"magnitude_step": 20_000}}, "magnitude_step must be at most"),
        ({"perturbation": {"magnitude_D": 100, "magnitude_step": 5000}}, "times it at most"),
        ({"perturbation": {"seed": 1}}, "unknown key"),
        ({"perturbation": 3}, "must be a table"),
        ({"rounding": {"base": 2.5}}, "whole number"),
        ({"rounding": {"base": 1}}, "whole number"),
        ({"rounding": {"base": 0}}, "base must be > 0"),
        ({"rounding": {"gap": 1.5}}, "gap"),
    ],
)
def test_bad_sections_are_spec_errors(sections: dict[str, Any], match: str) -> None:
    with pytest.raises(SpecError, match=match):
        parse_spec(raw(**sections))


def test_a_magnitude_table_may_round_to_any_positive_base() -> None:
    spec = parse_spec(raw(table={"response": "x"}, rounding={"base": 2.5}))
    assert spec.rounding.base == 2.5


def test_whole_numbers_given_as_floats_count_as_in_rules() -> None:
    # the one rule validator (parse_rules) takes 7.0 for 7; the methods' sections agree
    spec = parse_spec(raw(rules={"threshold": 3.0}, perturbation={"D": 3.0, "js": 2.0}))
    assert spec.rules.threshold == 3
    assert spec.perturbation.max_deviation == 3 and isinstance(spec.perturbation.js, int)
