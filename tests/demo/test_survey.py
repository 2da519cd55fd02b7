"""The synthetic survey: deterministic, shaped like a business survey, codes as text."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from fivesafes.demo.survey import DIMENSIONS, generate_survey, survey_hierarchy, write_hierarchies
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import DimensionSpec, RuleSet, TableSpec
from fivesafes.sdc.tabulate import tabulate


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = generate_survey(3000, 400, seed=5, dims=DIMENSIONS)
    b = generate_survey(3000, 400, seed=5, dims=DIMENSIONS)
    c = generate_survey(3000, 400, seed=6, dims=DIMENSIONS)
    assert a.equals(b)
    assert not a.equals(c)


def test_columns_codes_and_shape() -> None:
    table = generate_survey(5000, 800, seed=1)
    assert table.column_names == [
        "enterprise_id",
        "group_id",
        "region",
        "industry",
        "turnover",
        "w",
    ]
    assert table.num_rows == 5000
    assert pc.count_distinct(table["enterprise_id"]).as_py() == 800
    for dim in ("region", "industry"):
        leaves = set(survey_hierarchy(dim).leaves)
        assert set(table[dim].to_pylist()) <= leaves
    industries = set(table["industry"].to_pylist())
    assert any(code.startswith("0") for code in industries)  # "01", "02", ...
    assert pc.min(table["turnover"]).as_py() > 0
    assert pc.min(table["w"]).as_py() >= 1.0


def test_an_enterprise_has_one_industry_and_size_band() -> None:
    frame = generate_survey(4000, 500, seed=2, dims=DIMENSIONS).to_pandas()
    per_ent = frame.groupby("enterprise_id")[["industry", "size_band", "group_id"]].nunique()
    assert (per_ent == 1).all().all()
    # Some enterprises are multi-site: their rows span regions.
    assert (frame.groupby("enterprise_id")["region"].nunique() > 1).any()


def test_hierarchies_round_trip_through_csv(tmp_path: Path) -> None:
    paths = write_hierarchies(tmp_path)
    for dim in DIMENSIONS:
        loaded = Hierarchy.from_csv(dim, paths[dim])
        assert loaded.order == survey_hierarchy(dim).order
    assert len(survey_hierarchy("region").leaves) == 12
    assert survey_hierarchy("region").max_depth == 2
    assert len(survey_hierarchy("industry").leaves) == 20
    assert len(survey_hierarchy("product").leaves) == 10
    assert len(survey_hierarchy("size_band").leaves) == 2


def test_dominance_rules_have_something_to_find(tmp_path: Path) -> None:
    paths = write_hierarchies(tmp_path)
    spec = TableSpec(
        "t",
        (DimensionSpec("region", paths["region"]), DimensionSpec("industry", paths["industry"])),
        response="turnover",
        contributor="enterprise_id",
        rules=RuleSet(dominance=((1, 50.0),)),
    )
    cells = tabulate(spec, generate_survey(5000, 800, seed=3)).cells
    busy = cells[cells["contributors"] >= 3]
    assert (busy["top1"] > 0.5 * busy["rule_total"]).any()


def test_negative_share_and_id_offset() -> None:
    table = generate_survey(2000, 200, seed=4, negative_share=0.05, first_enterprise=1000)
    assert pc.sum(pc.less(table["turnover"], 0)).as_py() > 0
    assert min(table["enterprise_id"].to_pylist()) == "E00001000"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown survey dimension"):
        generate_survey(10, 2, seed=1, dims=("planet",))
    with pytest.raises(ValueError, match="n_enterprises"):
        generate_survey(10, 20, seed=1)
