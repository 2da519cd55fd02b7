"""The cell key method through ``tables``: consistent, repeatable, keyed or refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fivesafes.errors import DataError, KeyProviderError, SpecError
from fivesafes.sdc import tables
from fivesafes.sdc.perturbation.keys import SECRET_ENV, KeyMaterial
from fivesafes.sdc.spec import parse_spec

KEY = KeyMaterial(b"0123456789abcdef0123456789abcdef", "test")
REGIONS = [f"R{i}" for i in range(6)]


def people(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "pid": [f"p{i}" for i in range(n)],
            "region": rng.choice(REGIONS, n, p=[0.3, 0.25, 0.2, 0.15, 0.07, 0.03]),
            "age": rng.choice(["0-15", "16-64", "65+"], n),
            "tenure": rng.choice(["own", "rent", "other"], n, p=[0.6, 0.38, 0.02]),
            "w": rng.uniform(1, 3, n).round(2).astype(str),
        }
    )


def spec(tmp_path: Path, name: str, dims: list[dict[str, Any]], **table: Any) -> Any:
    raw = {
        "table": {"name": name, **table},
        "dimension": dims,
        "rules": {"threshold": 3},
        "perturbation": {"record_id": "pid", "D": 3, "V": 1.5, "js": 3},
    }
    return parse_spec(raw, base_dir=tmp_path)


def grouped(tmp_path: Path) -> Path:
    path = tmp_path / "regions.csv"
    rows = ["code,parent", "All,", "North,All", "South,All"]
    rows += [f"{r},{'North' if i < 3 else 'South'}" for i, r in enumerate(REGIONS)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_the_same_cell_in_tables_with_other_hierarchies_gets_the_same_value(
    tmp_path: Path,
) -> None:
    data = people()
    by_age = spec(
        tmp_path, "a", [{"name": "region", "hierarchy": str(grouped(tmp_path))}, {"name": "age"}]
    )
    by_tenure = spec(tmp_path, "b", [{"name": "tenure"}, {"name": "region"}])
    one = tables(by_age, data, method="cellkey", keys=KEY).cells
    two = tables(by_tenure, data, method="cellkey", keys=KEY).cells
    left = one[one["age"] == "Total"].set_index("region")
    right = two[two["tenure"] == "Total"].set_index("region")
    for region in REGIONS:
        assert left.loc[region, "records"] == right.loc[region, "records"]
        assert left.loc[region, "published"] == right.loc[region, "published"]
        assert left.loc[region, "cell_key"] == right.loc[region, "cell_key"]
    # the grand total too, though one table reaches it through North/South
    assert left.loc["All", "published"] == right.loc["Total", "published"]
    changed = (one["published"] != one["value"]).sum()
    assert changed > len(one) / 3  # the values really were perturbed


def test_rerunning_gives_identical_output_and_another_key_other_values(tmp_path: Path) -> None:
    data = people()
    s = spec(tmp_path, "t", [{"name": "region"}, {"name": "tenure"}])
    first = tables(s, data, method="cellkey", keys=KEY)
    second = tables(s, data, method="cellkey", keys=KEY)
    assert first.cells["published"].equals(second.cells["published"])
    a, b = tmp_path / "a", tmp_path / "b"
    first.write(a)
    second.write(b)
    assert (a / "cells.csv").read_bytes() == (b / "cells.csv").read_bytes()

    def body(p: Path) -> list[str]:
        return [line for line in p.read_text().splitlines() if "Produced by" not in line]

    assert body(a / "table.csv") == body(b / "table.csv")
    assert "[c]" not in (a / "table.csv").read_text().split("\n", 12)[-1]
    other = KeyMaterial(b"another secret of enough bytes!!", "other")
    third = tables(s, data, method="cellkey", keys=other)
    assert not third.cells["published"].equals(first.cells["published"])


def test_small_counts_are_never_published_between_zero_and_js(tmp_path: Path) -> None:
    data = people(400)
    s = spec(tmp_path, "t", [{"name": "region"}, {"name": "tenure"}, {"name": "age"}])
    cells = tables(s, data, method="cellkey", keys=KEY).cells
    assert (cells["records"].between(1, 2)).any()  # there were small counts to protect
    published = cells["published"]
    assert not ((published > 0) & (published < 3)).any()
    assert (cells["status"] == "safe").all()  # nothing hidden: every cell published


def test_perturbation_is_refused_without_key_material(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    s = spec(tmp_path, "t", [{"name": "region"}])
    with pytest.raises(KeyProviderError, match="never published when the key material"):
        tables(s, people(), method="cellkey")
    with pytest.raises(KeyProviderError):
        tables(s, people(), method="random-rounding")
    monkeypatch.setenv(SECRET_ENV, "ab" * 16)
    assert len(tables(s, people(), method="cellkey").cells) == 7


def test_record_identifiers_must_exist_and_be_unique(tmp_path: Path) -> None:
    s = spec(tmp_path, "t", [{"name": "region"}])
    data = people()
    data.loc[5, "pid"] = data.loc[4, "pid"]
    with pytest.raises(DataError, match="repeats"):
        tables(s, data, method="cellkey", keys=KEY)
    with pytest.raises(DataError, match="no record identifier"):
        tables(s, people().drop(columns=["pid"]), method="cellkey", keys=KEY)
    raw = spec(tmp_path, "t", [{"name": "region"}])
    from dataclasses import replace

    no_id = replace(raw, perturbation=replace(raw.perturbation, record_id=None))
    with pytest.raises(SpecError, match="record_id"):
        tables(no_id, people(), method="cellkey", keys=KEY)


def test_a_weighted_count_table_is_not_perturbed(tmp_path: Path) -> None:
    s = spec(tmp_path, "t", [{"name": "region"}], weight="w")
    with pytest.raises(SpecError, match="unweighted"):
        tables(s, people(), method="cellkey", keys=KEY)


def test_magnitude_cells_move_with_their_largest_contributions(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    n = 2000
    data = people(n).assign(
        income=(rng.lognormal(8, 1.5, n)).round(2), firm=[f"f{i % 500}" for i in range(n)]
    )
    raw = {
        "table": {"name": "inc", "response": "income", "contributor": "firm"},
        "dimension": [{"name": "region"}, {"name": "age"}],
        "rules": {"threshold": 3, "dominance": [[1, 60]]},
        "perturbation": {"record_id": "pid", "magnitude_percent": 20.0, "top_k": 2},
    }
    s = parse_spec(raw, base_dir=tmp_path)
    result = tables(s, data, method="cellkey", keys=KEY)
    cells = result.cells
    moved = (cells["published"] - cells["value"]).abs()
    limit = 0.2 * (cells["top1"] + 0.5 * cells["top2"])
    assert (moved <= limit + 0.005).all()  # published to 2 decimals
    assert (moved > 0).mean() > 0.9
    assert (cells["published"][cells["value"] > 0] > 0).all()  # never turned negative
    again = tables(s, data, method="cellkey", keys=KEY).cells
    assert again["published"].equals(cells["published"])
    assert result.report["protection"]["ptable"]["check"]["passed"]


def test_a_perturbed_table_carries_no_suppression_warning(tmp_path: Path) -> None:
    raw = {
        "table": {"name": "t", "protection": "cellkey"},
        "dimension": [{"name": "region"}],
        "suppression": {"method": "none"},
        "perturbation": {"record_id": "pid"},
    }
    result = tables(parse_spec(raw, base_dir=tmp_path), people(), keys=KEY)
    notes = " ".join(result.report["notes"])
    assert "no secondary suppression" not in notes and "cell key method" in notes


def test_a_magnitude_cell_in_two_tables_gets_the_same_value(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    n = 3000
    data = people(n).assign(income=(rng.lognormal(8, 1.5, n)).round(2))

    def run(dims: list[dict[str, Any]]) -> pd.DataFrame:
        raw = {
            "table": {"name": "inc", "response": "income"},
            "dimension": dims,
            "perturbation": {"record_id": "pid"},
        }
        return tables(parse_spec(raw, base_dir=tmp_path), data, method="cellkey", keys=KEY).cells

    one = run([{"name": "region", "hierarchy": str(grouped(tmp_path))}, {"name": "age"}])
    two = run([{"name": "tenure"}, {"name": "region"}])
    left = one[one["age"] == "Total"].set_index("region")["published"]
    right = two[two["tenure"] == "Total"].set_index("region")["published"]
    for region in REGIONS:
        assert left[region] == right[region]


def test_a_sensitive_magnitude_cell_never_moves_less_than_its_rule_requires(
    tmp_path: Path,
) -> None:
    # An intruder who knows the second contribution of a cell dominated by one firm reads
    # the largest as the published value minus the second: the noise is all that hides it,
    # so a cell flagged by the p% rule must move by at least the protection it requires
    # (a ptable draws zero noise for many cells: the value would be published exactly).
    rng = np.random.default_rng(3)
    n = 600
    data = pd.DataFrame(
        {
            "pid": [f"p{i}" for i in range(n)],
            "firm": [f"f{i}" for i in range(n)],
            "cell": [f"c{i // 2}" for i in range(n)],  # two firms a cell
            "turnover": np.where(np.arange(n) % 2 == 0, 1000.0, 1.0) * rng.uniform(1, 2, n),
        }
    )
    raw = {
        "table": {"name": "t", "response": "turnover", "contributor": "firm"},
        "dimension": [{"name": "cell"}],
        "rules": {"p_percent": 10},
        "perturbation": {"record_id": "pid", "magnitude_percent": 10.0},
    }
    cells = tables(parse_spec(raw, base_dir=tmp_path), data, method="cellkey", keys=KEY).cells
    inner = cells[cells["cell"] != "Total"]
    need = 0.1 * inner["top1"] - (inner["value"] - inner["top1"] - inner["top2"])
    assert (need > 0).all()  # every cell is sensitive under p% = 10
    moved = (inner["published"] - inner["value"]).abs()
    assert (moved >= need - 0.005).all()  # to the published 2 decimals
    # and the shift is up or down alike: unbiased, the direction tells nothing
    up = (inner["published"] > inner["value"]).mean()
    assert 0.4 < up < 0.6
    assert (inner["published"] > 0).all()


def test_a_cell_of_a_filtered_table_is_the_same_cell_unfiltered(tmp_path: Path) -> None:
    # where = { age = "16-64" } by region holds the records of region x 16-64: the same
    # cells, so the same values (else averaging the two requests recovers the count)
    data = people()
    filtered = spec(tmp_path, "f", [{"name": "region"}], where={"age": ["16-64"]})
    crossed = spec(tmp_path, "c", [{"name": "region"}, {"name": "age"}])
    one = tables(filtered, data, method="cellkey", keys=KEY).cells.set_index("region")
    two = tables(crossed, data, method="cellkey", keys=KEY).cells
    two = two[two["age"] == "16-64"].set_index("region")
    assert one.loc[[*REGIONS, "Total"], "value"].equals(two.loc[[*REGIONS, "Total"], "value"])
    assert one.loc[[*REGIONS, "Total"], "published"].equals(
        two.loc[[*REGIONS, "Total"], "published"]
    )


def test_cellkey_and_random_rounding_of_a_cell_draw_independently(tmp_path: Path) -> None:
    # Publishing a cell by both methods gives two noisy views of one count; drawn from the
    # same key they are tied (a high key lifts the ptable outcome and rounds down), and
    # the attacker intersects them far more tightly than two independent views allow.
    rng = np.random.default_rng(8)
    n = 20000
    data = pd.DataFrame(
        {
            "pid": [f"p{i}" for i in range(n)],
            "a": rng.integers(0, 60, n).astype(str),
            "b": rng.integers(0, 40, n).astype(str),
        }
    )
    raw = {
        "table": {"name": "t"},
        "dimension": [{"name": "a"}, {"name": "b"}],
        "rules": {"threshold": 1},
        "perturbation": {"record_id": "pid", "D": 3, "V": 2.0, "js": 1},
        "rounding": {"base": 5},
    }
    s = parse_spec(raw, base_dir=tmp_path)
    ck = tables(s, data, method="cellkey", keys=KEY).cells
    rr = tables(s, data, method="random-rounding", keys=KEY).cells
    both = ck.merge(rr, on=["a", "b"], suffixes=("_ck", "_rr"))
    chance = both[both["value_ck"] % 5 != 0]  # multiples are never rounded
    d = chance["published_ck"] - chance["value_ck"]
    up = (chance["published_rr"] > chance["value_rr"]).astype(float)
    assert len(chance) > 1500
    assert abs(np.corrcoef(d, up)[0, 1]) < 0.1
    # nor a count and the magnitude of the same cell (each contribution 100 here)
    money = parse_spec({**raw, "table": {"name": "m", "response": "x"}}, base_dir=tmp_path)
    mag = tables(money, data.assign(x=100.0), method="cellkey", keys=KEY).cells
    pair = ck.merge(mag, on=["a", "b"], suffixes=("_ck", "_m"))
    noise = pair["published_m"] - pair["value_m"]
    assert abs(np.corrcoef(pair["published_ck"] - pair["value_ck"], noise)[0, 1]) < 0.1
