"""Known attacks by differencing, blocked against the register (on both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_world import BY_REGION, SHIFTED, World, build_world, first_release, table
from sqlalchemy import Engine

from fivesafes.errors import UnsafeTableError
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    w = build_world(engine, tmp_path)
    w.release(first_release())
    return w


def _blocked(world: World, rid: int) -> str:
    view = world.show(rid)
    diff = [c for c in view.versions[-1].checks if c.name == "differencing"]
    assert diff and diff[0].verdict == "fail", diff
    before = world.reg.snapshot()
    with pytest.raises(UnsafeTableError, match="differencing") as err:
        world.vote("olga", rid, Vote.APPROVE)
    assert world.reg.snapshot() == before
    return str(err.value)


def test_a_region_grouping_that_differs_by_one_area_is_blocked(world: World) -> None:
    # Safe alone (a3 + a4 = R - a5), but N (published) - N2 (new) = a3.
    shifted = table("pay by new region", SHIFTED, {"a3": "primary", "a4": "secondary"})
    rid = world.submit(shifted)
    audit = next(c for c in world.show(rid).versions[0].checks if c.name == "audit")
    assert audit.verdict == "pass"
    message = _blocked(world, rid)
    assert "area=a3" in message and "exactly" in message
    assert "REL-0001" in message and "request 2 v1" in message


def test_a_request_answer_subtracted_from_a_published_subtotal_is_blocked(world: World) -> None:
    # One figure in an answer: areas a1 and a2 together. N - (a1 + a2) = a3.
    answer = table("answer to FOI 12", SHIFTED, {}, only=("N2",))
    rid = world.submit(answer)
    message = _blocked(world, rid)
    assert "area=a3" in message and "(area=N2)" in message


def test_two_releases_of_overlapping_tables_are_blocked(world: World) -> None:
    # Same table, another complement: the first published a1, this one a2.
    overlapping = table("pay by area, revised", BY_REGION, {"a3": "primary", "a1": "secondary"})
    rid = world.submit(overlapping)
    message = _blocked(world, rid)
    assert "area=a3" in message


def test_the_same_pattern_again_is_safe_and_publishes(world: World) -> None:
    again = world.release(first_release())
    assert again.release_id == "REL-0002"


def test_publication_rechecks_against_releases_published_after_approval(
    engine: Engine, tmp_path: Path
) -> None:
    fresh = build_world(engine, tmp_path / "fresh")
    first = fresh.submit(first_release())
    shifted = fresh.submit(table("by new region", SHIFTED, {"a3": "primary", "a4": "secondary"}))
    for rid in (first, shifted):  # each is safe against an empty register
        fresh.vote("olga", rid, Vote.APPROVE)
        fresh.vote("oscar", rid, Vote.APPROVE)
        assert fresh.show(rid).state is RequestState.APPROVED
    fresh.publish(first)
    before = fresh.reg.snapshot()
    with pytest.raises(UnsafeTableError, match="cannot be published: differencing"):
        fresh.publish(shifted)
    assert fresh.reg.snapshot() == before
    assert not (fresh.releases / "REL-0002").exists()
    assert fresh.show(shifted).state is RequestState.APPROVED
