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

import json
from pathlib import Path

import numpy as np
import pytest
from derived_world import (
    AREAS,
    BANDS,
    INDUSTRIES,
    SIZES,
    band,
    build_family,
    ingest,
    publish,
    published,
    register,
    rows,
    spec,
    verdicts,
)
from governance_register import TODAY
from release_world import AREA
from scipy.optimize import linprog
from sqlalchemy import Engine, select
from stored_world import Stored, build_stored

from fivesafes.errors import ConflictError, NotFoundError, UnsafeTableError, ValidationError
from fivesafes.governance.areas import Dataset
from fivesafes.release.votes import Vote
from fivesafes.services.governance import datasets
from fivesafes.services.vault.families import FamilyPlan, store_patterns
from fivesafes.services.vault.lifecycle import destroy_dataset, list_stored
from fivesafes.services.vault.tables import stored_table
from fivesafes.store.models.governance import DatasetRow


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    return build_family(engine, tmp_path)


def _leaf_lp_pins(
    stored: Stored,
    cell: tuple[str, str],
    sources: list[str],
    rest: dict[tuple[str, str], float] | None = None,
) -> bool:
    """An independent attacker: unknowns per (area, industry, band), non-negative; every
    published cell of every source an equation over them. Is ``cell`` of the whole pinned?"""
    bands = BANDS
    keys = [(a, i, b) for a in AREAS for i in INDUSTRIES for b in SIZES]
    index = {k: n for n, k in enumerate(keys)}
    rows, rhs = [], []
    tables = [(bands[s.split(":")[0]], published(stored, s)) for s in sources]
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
    (whole,) = stored.protect(spec(stored, "all", p_percent=True), dataset="firms", name="all")
    assert whole.by_rule.get("p%(10)", 0) >= 1  # a1 x k: one person's pay
    publish(stored, "all")
    assert ("a1", "k") not in published(stored, "firms:pay")
    (small,) = stored.protect(spec(stored, "small"), dataset="firms-small", name="small")
    assert small.by_status["primary"] == 0  # a1 x k published: seven small units of 1
    publish(stored, "small")

    stored.protect(spec(stored, "rest"), dataset="firms-rest", name="rest", with_releases=False)
    view = stored.submit(f"{AREA}/rest")
    assert verdicts(view)["differencing"] == "fail"
    with pytest.raises(UnsafeTableError, match="a1"):
        stored.world.vote("olga", view.id, Vote.APPROVE)

    # what was published leaves a1 x k of the whole unpinned (the LP sees the bands)
    sources = ["firms:pay", "firms-small:pay"]
    assert not _leaf_lp_pins(stored, ("a1", "k"), sources)
    # had the other bands' a1 x k (1000 + six of 1) been published, it would be pinned
    assert _leaf_lp_pins(stored, ("a1", "k"), sources, rest={("a1", "k"): 1006.0})


def test_a_dataset_with_the_same_columns_not_derived_is_not_linked(stored: Stored) -> None:
    stored.protect(spec(stored, "all", p_percent=True), dataset="firms", name="all")
    publish(stored, "all")
    register(stored, "lookalike")  # same columns, another population: no family
    ingest(stored, "lookalike", band("medium", "large"))
    stored.protect(spec(stored, "look"), dataset="lookalike", name="look", with_releases=False)
    publish(stored, "look")  # passes: not checked with firms


def test_a_derived_dataset_with_units_outside_its_parent_is_refused(stored: Stored) -> None:
    register(stored, "firms-new", "firms")
    strangers = [["a1", "k", f"new-{k}", "small", 5.0] for k in range(3)]
    with pytest.raises(ValidationError, match=r"3 unit\(s\) of dataset 'firms-new' are not in"):
        ingest(stored, "firms-new", band("small")[:5] + strangers)
    stored_names = [o.name for o in list_stored(stored.tx, AREA)]
    assert "firms-new" not in stored_names  # nothing written
    with stored.tx() as s:
        parent = s.scalars(select(DatasetRow).where(DatasetRow.name == "firms")).one()
        patterns = json.loads(parent.membership_json)
    assert sorted(map(tuple, patterns)) == [("firms-rest",), ("firms-small",)]


def test_a_parent_must_exist_in_the_same_area(stored: Stored) -> None:
    with pytest.raises(NotFoundError, match="no dataset called 'nowhere'"):
        register(stored, "orphan", "nowhere")
    entry = Dataset("half", AREA, True, True, True, "s", "b", derived_from="firms")
    with pytest.raises(ValidationError, match="both its parent and its unit"):
        stored.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    with stored.tx() as s:
        shown = datasets.get_dataset(s, "firms-small")
    assert (shown.derived_from, shown.unit) == ("firms", "person")


def test_a_derived_dataset_before_its_parent_is_refused(stored: Stored) -> None:
    register(stored, "shops")
    register(stored, "shops-small", "shops")
    with pytest.raises(ValidationError, match="ingest 'shops' first"):
        ingest(stored, "shops-small", band("small"))
    assert "shops-small" not in [o.name for o in list_stored(stored.tx, AREA)]
    ingest(stored, "shops", rows())
    ingest(stored, "shops-small", band("small"))  # now its units are checked, and in
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


def test_a_band_declared_as_another_dataset_still_meets_its_family(stored: Stored) -> None:
    """A declared source is the author's word: the other bands' table, submitted as from a
    registered dataset with no data, may come from any source of the area, and from
    firms-rest, a family member with no release of its own, it gives a1 x k of the whole
    by subtraction (it passed before: as firms or firms-small its cells disagree with
    their releases, and firms-rest was never tried)."""
    stored.protect(spec(stored, "all", p_percent=True), dataset="firms", name="all")
    publish(stored, "all")
    stored.protect(spec(stored, "small"), dataset="firms-small", name="small")
    publish(stored, "small")
    stored.protect(spec(stored, "rest"), dataset="firms-rest", name="rest", with_releases=False)
    register(stored, "other")  # registered in the area, never ingested
    with stored.tx() as s:
        table, _ = stored_table(s, stored.vault, AREA, "rest")
    rid = stored.world.submit(table, source="other:pay")
    view = stored.world.show(rid)
    diff = next(c for c in view.versions[-1].checks if c.name == "differencing")
    runs = {r["as_source"]: r["outcome"] for r in diff.details["runs"]}
    assert runs.get("firms-rest:pay") == "disclosed", runs
    assert diff.verdict == "fail" and "area=a1" in diff.summary
    with pytest.raises(UnsafeTableError, match="a1"):
        stored.world.vote("olga", rid, Vote.APPROVE)


def test_a_destroyed_member_keeps_its_releases_linked(engine: Engine, tmp_path: Path) -> None:
    """The small band's table is published, then its data destroyed (retention). The
    family's patterns, computed again for a new member without the small band's units,
    would no longer place it: its releases would drop out of every later check (the other
    bands' table then passed although, added to the small band's release, it gave a cell
    hidden in the whole's). So a member cannot be ingested while a member that the
    patterns place is not stored; the patterns, and the links, stay as they were."""
    s = build_stored(engine, tmp_path)
    register(s, "firms")
    register(s, "firms-small", "firms")
    register(s, "firms-rest", "firms")
    ingest(s, "firms", rows())
    ingest(s, "firms-small", band("small"))
    destroy_dataset(s.tx, s.vault, "iris", AREA, "firms-small", "retention ended")
    lost = "'firms-small' of the family of 'firms' are not stored"
    with pytest.raises(ValidationError, match=lost):
        ingest(s, "firms-rest", band("medium", "large"))
    assert "firms-rest" not in [o.name for o in list_stored(s.tx, AREA)]
    with s.tx() as sess:
        parent = sess.scalars(select(DatasetRow).where(DatasetRow.name == "firms")).one()
        assert json.loads(parent.membership_json) == [[], ["firms-small"]]
    ingest(s, "firms-small", band("small"))  # its units back: the family can grow again
    ingest(s, "firms-rest", band("medium", "large"))
