"""A declared source cannot take a table around the differencing check (both databases).

The attack (issue 14): a folder submitted with ``--source other:pay``, a registered
dataset of the area with no data, was compared only with releases of ``other:pay``
(none), passed, and two approvals published a table that the check of its true source
blocks. A declared source is now checked against the releases of every source of the
area, a release whose source was declared is included in every later check, and
approval waits for the area's asset owner to confirm a declared source (audited).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from governance_register import TODAY
from release_world import AREA, SHIFTED, World, build_world, first_release, table
from sqlalchemy import Engine
from stored_world import Stored, build_stored

from fivesafes.errors import AccessDenied, UnsafeTableError, ValidationError
from fivesafes.governance.areas import Dataset
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState
from fivesafes.services.governance import datasets

# Safe alone (a3 + a4 = R - a5), but N (published in the first release) - N2 = a3.
SHIFTED_TABLE = table("pay by new region", SHIFTED, {"a3": "primary", "a4": "secondary"})


def _register_empty(world: World, name: str) -> None:
    """A dataset registered in the area that holds no data (anyone may name it)."""
    entry = Dataset(name, AREA, True, True, True, "never ingested", "SRSA 2007")
    world.reg.act("iris", datasets.register_dataset, entry, TODAY)


def _checks(world: World, rid: int) -> dict[str, str]:
    return {c.name: c.verdict for c in world.show(rid).versions[-1].checks}


def _approve(world: World, rid: int) -> None:
    world.vote("olga", rid, Vote.APPROVE)
    world.vote("oscar", rid, Vote.APPROVE)


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def test_a_table_declared_from_an_empty_dataset_is_checked_against_the_real_one(
    world: World,
) -> None:
    world.release(first_release())  # ashe:pay, a3 hidden, N published
    _register_empty(world, "other")
    rid = world.submit(SHIFTED_TABLE, source="other:pay")
    assert _checks(world, rid)["differencing"] == "fail"
    diff = next(c for c in world.show(rid).versions[-1].checks if c.name == "differencing")
    assert "area=a3" in diff.summary and "any of the area's sources" in diff.summary
    # As ashe:pay it discloses a3; as other:pay too, because the first release's own
    # source was declared (it may be other's data) and so joins every check.
    runs = {r["as_source"]: r["outcome"] for r in diff.details["runs"]}
    assert runs == {"ashe:pay": "disclosed", "other:pay": "disclosed"}
    with pytest.raises(UnsafeTableError, match="differencing"):
        world.vote("olga", rid, Vote.APPROVE)
    assert world.show(rid).state is RequestState.SUBMITTED


def test_a_release_whose_source_was_declared_is_seen_by_every_later_check(
    world: World,
) -> None:
    _register_empty(world, "other")
    # Published first, under a declared source the owner was persuaded to confirm.
    world.release_as(first_release(), "other:pay")
    # The shifted grouping under the real source: once compared with ashe:pay alone
    # (nothing yet), now with the declared release too.
    rid = world.submit(SHIFTED_TABLE, source="ashe:pay")
    assert _checks(world, rid)["differencing"] == "fail"
    with pytest.raises(UnsafeTableError, match="area=a3"):
        world.vote("olga", rid, Vote.APPROVE)


def test_tables_of_another_measure_in_the_area_do_not_block(world: World) -> None:
    # Releases whose cells disagree with the new table's cannot come from its data:
    # they are skipped (and said so), not a reason to block.
    _register_empty(world, "other")
    world.release_as(first_release(), "other:pay")
    doubled = table("pay by new region", SHIFTED, {"a3": "primary", "a4": "secondary"})
    cells = doubled.cells
    cells["value"] = cells["value"] * 2
    other = type(doubled)(**{**doubled.__dict__, "cells_csv": cells.to_csv(index=False)})
    rid = world.submit(other, source="ashe:pay")
    diff = next(c for c in world.show(rid).versions[-1].checks if c.name == "differencing")
    assert diff.verdict == "pass", diff.summary
    assert {r["outcome"] for r in diff.details["runs"]} == {"safe", "not comparable"}


def test_approval_of_a_declared_source_waits_for_the_asset_owner(world: World) -> None:
    rid = world.submit(first_release(), confirm=False)
    assert world.show(rid).source_confirmed_by is None
    world.vote("olga", rid, Vote.APPROVE)
    before = world.reg.snapshot()
    with pytest.raises(ValidationError, match=r"asset owner \(iris\) has not confirmed"):
        world.vote("oscar", rid, Vote.APPROVE)
    assert world.reg.snapshot() == before
    assert world.show(rid).state is RequestState.PARTIALLY_REVIEWED

    # Only the area's asset owner confirms, never the author, with a reason.
    with pytest.raises(AccessDenied, match="nobody confirms their own"):
        world.confirm(rid, login="ada")
    with pytest.raises(AccessDenied, match="only the area's information asset owner"):
        world.confirm(rid, login="olga")
    with pytest.raises(ValidationError, match="--note"):
        world.confirm(rid, note=" ")
    world.confirm(rid, note="made from the ashe extract of May")
    event = world.reg.last_event()
    assert (event.action, event.actor, event.subject) == (
        "release.confirm_source",
        "iris",
        str(rid),
    )
    assert event.details == {
        "version": 1,
        "source": "ashe:pay",
        "note": "made from the ashe extract of May",
    }
    with pytest.raises(ValidationError, match="already confirmed"):
        world.confirm(rid)
    world.vote("oscar", rid, Vote.APPROVE)
    view = world.show(rid)
    assert view.state is RequestState.APPROVED and view.source_confirmed_by == "iris"


def test_a_new_version_needs_a_new_confirmation(world: World) -> None:
    rid = world.submit(first_release())
    world.vote("olga", rid, Vote.REQUEST_CHANGES)
    world.vote("oscar", rid, Vote.REQUEST_CHANGES)
    world.submit(first_release(), request_id=rid, confirm=False)
    assert world.show(rid).source_confirmed_by is None
    world.vote("olga", rid, Vote.APPROVE)
    with pytest.raises(ValidationError, match="has not confirmed"):
        world.vote("oscar", rid, Vote.APPROVE)


def test_a_verified_source_needs_no_confirmation(engine: Engine, tmp_path: Path) -> None:
    stored: Stored = build_stored(engine, tmp_path)
    made = stored.shifted()
    view = stored.submit(f"{AREA}/{made.output.name}")
    with pytest.raises(ValidationError, match="verified source: nothing to confirm"):
        stored.world.confirm(view.id)
    _approve(stored.world, view.id)
    assert stored.world.show(view.id).state is RequestState.APPROVED
