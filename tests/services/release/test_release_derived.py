"""Derived datasets (issue 15 §6) through the register (both databases).

``firms`` holds every person; ``firms-small`` (the small band) and ``firms-rest`` (the
medium and large bands) are registered as derived from it, unit ``person``. Pay by
area x industry for everyone is published (a1 x k hidden: one person's pay), then the
same table of the small band (a1 x k published). The same table of the other bands
publishes a1 x k too: added to the small band's, it is the first release's hidden cell.
The three are different sources, so without the family nothing checks them together;
with it, the third is blocked. An independent LP over what was published then finds
no primary pinned. A dataset with the same columns that is not derived is not linked.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from governance_register import TODAY
from release_world import AREA
from scipy.optimize import linprog
from sqlalchemy import Engine, select
from stored_world import Stored, build_stored

from fivesafes.errors import ConflictError, NotFoundError, UnsafeTableError, ValidationError
from fivesafes.governance.areas import Dataset
from fivesafes.release.votes import Vote
from fivesafes.services.governance import datasets
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release.register import published_cells
from fivesafes.services.vault.families import FamilyPlan, store_patterns
from fivesafes.services.vault.lifecycle import ingest_dataset, list_stored
from fivesafes.store.models.governance import DatasetRow

SIZES = ("small", "medium", "large")
AREAS = ("a1", "a2", "a3")
INDUSTRIES = ("k", "m")
HEADER = ["area", "industry", "person", "size", "pay"]


def _rows() -> list[list[object]]:
    """8 people per area, industry and band; but a1 x k: seven small of 1, a medium one
    of 1000 and six of 1, no large (so a1 x k is dominated by one person)."""
    rows: list[list[object]] = []
    for a, area in enumerate(AREAS):
        for i, industry in enumerate(INDUSTRIES):
            for size in SIZES:
                if (area, industry) == ("a1", "k"):
                    pays = {"small": [1.0] * 7, "medium": [1000.0] + [1.0] * 6, "large": []}
                    values = pays[size]
                else:
                    values = [float(10 + 3 * a + 5 * i + k) for k in range(8)]
                for k, pay in enumerate(values):
                    rows.append([area, industry, f"{area}-{industry}-{size}-{k}", size, pay])
    return rows


def _register(stored: Stored, name: str, parent: str | None = None) -> None:
    entry = Dataset(
        name, AREA, True, True, True, "survey", "SRSA 2007",
        derived_from=parent, unit="person" if parent else None,
    )  # fmt: skip
    stored.world.reg.act("iris", datasets.register_dataset, entry, TODAY)


def _ingest(stored: Stored, name: str, rows: list[list[object]]) -> None:
    src = stored.folder / "incoming" / f"{name}.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    try:
        ingest_dataset(stored.tx, stored.vault, "iris", AREA, src, name=name)
    finally:
        src.unlink()


def _band(*sizes: str) -> list[list[object]]:
    return [r for r in _rows() if r[3] in sizes]


def _spec(stored: Stored, name: str, p_percent: bool = False) -> Path:
    text = (
        f'[table]\nname = "{name}"\nresponse = "pay"\ncontributor = "person"\n\n'
        '[[dimension]]\nname = "area"\n\n[[dimension]]\nname = "industry"\n\n'
        "[rules]\nthreshold = 7\n"
        + ("p_percent = 10\n" if p_percent else "")
        + '\n[suppression]\nmethod = "optimal"\nsingleton = false\n'
    )
    return stored.spec(name, text)


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    s = build_stored(engine, tmp_path)
    _register(s, "firms")
    _register(s, "firms-small", "firms")
    _register(s, "firms-rest", "firms")
    _ingest(s, "firms", _rows())
    _ingest(s, "firms-small", _band("small"))
    _ingest(s, "firms-rest", _band("medium", "large"))
    return s


def _verdicts(view: release_requests.RequestView) -> dict[str, str]:
    return {c.name: c.verdict for c in view.versions[-1].checks}


def _publish(stored: Stored, output: str) -> None:
    view = stored.submit(f"{AREA}/{output}")
    assert _verdicts(view)["differencing"] == "pass", view.versions[-1].checks
    stored.world.vote("olga", view.id, Vote.APPROVE)
    stored.world.vote("oscar", view.id, Vote.APPROVE)
    stored.world.publish(view.id)


def _published(stored: Stored, source: str) -> dict[tuple[str, str], float]:
    """The published cells of ``source``: (area, industry) -> value ("Total" for a total)."""
    with stored.tx() as s:
        frame = published_cells(s, source)
    out = {}
    for codes, value in zip(frame["codes"], frame["value"], strict=True):
        c = json.loads(codes)
        out[(c["area"], c["industry"])] = float(value)
    return out


def _leaf_lp_pins(
    stored: Stored,
    cell: tuple[str, str],
    sources: list[str],
    rest: dict[tuple[str, str], float] | None = None,
) -> bool:
    """An independent attacker: unknowns per (area, industry, band), non-negative; every
    published cell of every source an equation over them. Is ``cell`` of the whole pinned?"""
    bands = {"firms": SIZES, "firms-small": ("small",), "firms-rest": ("medium", "large")}
    keys = [(a, i, b) for a in AREAS for i in INDUSTRIES for b in SIZES]
    index = {k: n for n, k in enumerate(keys)}
    rows, rhs = [], []
    tables = [(bands[s.split(":")[0]], _published(stored, s)) for s in sources]
    tables += [(bands["firms-rest"], rest)] if rest else []
    for kept, cells in tables:
        for (area, industry), value in cells.items():
            row = np.zeros(len(keys))
            for a, i, b in keys:
                if area in ("Total", a) and industry in ("Total", i) and b in kept:
                    row[index[(a, i, b)]] = 1.0
            rows.append(row)
            rhs.append(value)
    target = np.array([1.0 if (k[0], k[1]) == cell else 0.0 for k in keys])
    bounds = [(0, None)] * len(keys)
    low = linprog(target, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=bounds)
    high = linprog(-target, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=bounds)
    assert low.status == 0 and high.status == 0
    return bool(abs(-high.fun - low.fun) < 1e-6)


def test_the_other_bands_are_blocked_and_no_hidden_cell_is_recovered(stored: Stored) -> None:
    (whole,) = stored.protect(_spec(stored, "all", p_percent=True), dataset="firms", name="all")
    assert whole.by_rule.get("p%(10)", 0) >= 1  # a1 x k: one person's pay
    _publish(stored, "all")
    assert ("a1", "k") not in _published(stored, "firms:pay")
    (small,) = stored.protect(_spec(stored, "small"), dataset="firms-small", name="small")
    assert small.by_status["primary"] == 0  # a1 x k published: seven small units of 1
    _publish(stored, "small")

    stored.protect(_spec(stored, "rest"), dataset="firms-rest", name="rest", with_releases=False)
    view = stored.submit(f"{AREA}/rest")
    assert _verdicts(view)["differencing"] == "fail"
    with pytest.raises(UnsafeTableError, match="a1"):
        stored.world.vote("olga", view.id, Vote.APPROVE)

    # what was published leaves a1 x k of the whole unpinned (the LP sees the bands)
    sources = ["firms:pay", "firms-small:pay"]
    assert not _leaf_lp_pins(stored, ("a1", "k"), sources)
    # had the other bands' a1 x k (1000 + six of 1) been published, it would be pinned
    assert _leaf_lp_pins(stored, ("a1", "k"), sources, rest={("a1", "k"): 1006.0})


def test_a_dataset_with_the_same_columns_not_derived_is_not_linked(stored: Stored) -> None:
    stored.protect(_spec(stored, "all", p_percent=True), dataset="firms", name="all")
    _publish(stored, "all")
    _register(stored, "lookalike")  # same columns, another population: no family
    _ingest(stored, "lookalike", _band("medium", "large"))
    stored.protect(_spec(stored, "look"), dataset="lookalike", name="look", with_releases=False)
    _publish(stored, "look")  # passes: not checked with firms


def test_a_derived_dataset_with_units_outside_its_parent_is_refused(stored: Stored) -> None:
    _register(stored, "firms-new", "firms")
    strangers = [["a1", "k", f"new-{k}", "small", 5.0] for k in range(3)]
    with pytest.raises(ValidationError, match=r"3 unit\(s\) of dataset 'firms-new' are not in"):
        _ingest(stored, "firms-new", _band("small")[:5] + strangers)
    stored_names = [o.name for o in list_stored(stored.tx, AREA)]
    assert "firms-new" not in stored_names  # nothing written
    with stored.tx() as s:
        parent = s.scalars(select(DatasetRow).where(DatasetRow.name == "firms")).one()
        patterns = json.loads(parent.membership_json)
    assert sorted(map(tuple, patterns)) == [("firms-rest",), ("firms-small",)]


def test_a_parent_must_exist_in_the_same_area(stored: Stored) -> None:
    with pytest.raises(NotFoundError, match="no dataset called 'nowhere'"):
        _register(stored, "orphan", "nowhere")
    entry = Dataset("half", AREA, True, True, True, "s", "b", derived_from="firms")
    with pytest.raises(ValidationError, match="both its parent and its unit"):
        stored.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    with stored.tx() as s:
        shown = datasets.get_dataset(s, "firms-small")
    assert (shown.derived_from, shown.unit) == ("firms", "person")


def test_a_derived_dataset_before_its_parent_is_refused(stored: Stored) -> None:
    _register(stored, "shops")
    _register(stored, "shops-small", "shops")
    with pytest.raises(ValidationError, match="ingest 'shops' first"):
        _ingest(stored, "shops-small", _band("small"))
    assert "shops-small" not in [o.name for o in list_stored(stored.tx, AREA)]
    _ingest(stored, "shops", _rows())
    _ingest(stored, "shops-small", _band("small"))  # now its units are checked, and in
    with stored.tx() as s:
        parent = s.scalars(select(DatasetRow).where(DatasetRow.name == "shops")).one()
        assert json.loads(parent.membership_json) == [[], ["shops-small"]]


def test_patterns_from_a_stale_plan_are_refused(stored: Stored) -> None:
    """Two members ingested at once: the second to commit planned without the first, so
    its patterns would leave the first unlinked; it is refused (ingest it again)."""
    stale = FamilyPlan("firms", "person", ("firms-small",), True)  # firms-rest is stored too
    with (
        pytest.raises(ConflictError, match="changed while this one was ingested"),
        stored.tx() as s,
    ):
        store_patterns(s, "iris", AREA, stale, [("firms-small",)])
