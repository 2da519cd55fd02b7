"""One perturbation regime per source: a table whose method or parameters differ from an
earlier release (or earlier pending request) of its source is refused at submission, at
the vote and at publication, and `table protect --dataset` refuses it before the work.

Two regimes on one source publish the same cell twice: two independent noisy values to
average or intersect, or the exact value beside a perturbed one, which tells the noise.
Every table here hides nothing, so the differencing check passes them all: only the
regime check stands between them and publication.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from release_world import (
    BY_REGION,
    SHIFTED,
    World,
    build_world,
    cells_frame,
    table,
)
from sqlalchemy import Engine
from stored_world import build_stored

from fivesafes.errors import UnsafeTableError
from fivesafes.release.regimes import regime_of_spec, regime_of_submission, stored_keys
from fivesafes.release.submission import TableSubmission
from fivesafes.release.votes import Vote
from fivesafes.sdc import PerturbationSpec, RoundingSpec, load_spec
from fivesafes.services.release import requests as release_requests
from fivesafes.services.vault.tables import stored_table

KEYS = {"used": True, "origin": "key file", "fingerprint": "ab12cd34", "record_id": "person"}
CELLKEY = PerturbationSpec().as_dict()


def perturbed(
    name: str,
    method: str,
    *,
    parameters: dict[str, Any] | None = None,
    keys: dict[str, Any] | None = None,
    hierarchy: Any = BY_REGION,
) -> TableSubmission:
    """A table of the world's values published every cell changed by ``method``."""
    t = table(name, hierarchy, {})
    cells = cells_frame(t.cells_csv)
    if method == "cellkey":
        cells["published"] = cells["value"] + 0.5
        params = {**CELLKEY, **(parameters or {})}
        section: dict[str, Any] = {"ptable": {"source": "generated", "identity": "generated"}}
    else:
        params = {**RoundingSpec().as_dict(), **(parameters or {})}
        cells["published"] = (cells["value"] / params["base"]).round() * params["base"]
        section = {"rounding": {"base": params["base"]}}
    section |= {"method": method, "parameters": params, "keys": keys or KEYS, "notes": []}
    report = {**t.report, "protection": section}
    return replace(t, cells_csv=cells.to_csv(index=False), report=report)


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def _regime_check(world: World, rid: int) -> Any:
    return next(c for c in world.show(rid).versions[-1].checks if c.name == "regime")


def _approve(world: World, rid: int) -> None:
    world.vote("olga", rid, Vote.APPROVE)
    world.vote("oscar", rid, Vote.APPROVE)


CLASHES = {
    # the same cells random-rounded: an interval of each cell beside its perturbed value
    "random rounding": lambda: perturbed("rounded", "random-rounding"),
    # another noise ptable: a second independent draw of every cell, to average
    "other ptable": lambda: perturbed("other V", "cellkey", parameters={"magnitude_V": 3.0}),
    # another key secret: the same cells with noise drawn from other keys
    "other keys": lambda: perturbed("other keys", "cellkey", keys={**KEYS, "fingerprint": "ff"}),
    # the exact values (suppression hid nothing): the noise of every cell, read off
    "exact": lambda: table("exact", SHIFTED, {}),
}


@pytest.mark.parametrize("clash", sorted(CLASHES))
def test_a_source_published_by_the_cell_key_method_refuses_another_regime(
    world: World, clash: str
) -> None:
    world.release(perturbed("pay by area", "cellkey"))
    rid = world.submit(CLASHES[clash]())
    check = _regime_check(world, rid)
    assert check.verdict == "fail"
    assert "REL-0001 of ashe:pay was published protected by cellkey (top_k 2" in check.summary
    assert "magnitude_V 2" in check.summary and "record keys secret ab12cd34" in check.summary
    assert "same method and parameters as REL-0001" in check.summary
    assert "review of the methodology" in check.summary
    assert check.details["clashes"][0]["output"] == "REL-0001"
    diff = next(c for c in world.show(rid).versions[-1].checks if c.name == "differencing")
    assert diff.verdict == "pass"  # only the regime check sees it
    with pytest.raises(UnsafeTableError, match="regime: request 2 v1 is protected by") as err:
        world.vote("olga", rid, Vote.APPROVE)
    assert "head of profession reviews the methodology" in (err.value.hint or "")


def test_the_same_regime_publishes_the_same_cells_again(world: World) -> None:
    world.release(perturbed("pay by area", "cellkey"))
    rid = world.submit(perturbed("pay by new region", "cellkey", hierarchy=SHIFTED))
    check = _regime_check(world, rid)
    assert check.verdict == "pass" and check.details["compared"] == ["REL-0001"]
    _approve(world, rid)
    assert world.publish(rid).release_id == "REL-0002"


def test_controlled_rounding_is_never_mixed_even_with_itself(world: World) -> None:
    # each table is rounded on its own: a cell shared by two may get two multiples
    world.release(perturbed("pay by area", "controlled-rounding"))
    rid = world.submit(perturbed("pay by new region", "controlled-rounding", hierarchy=SHIFTED))
    check = _regime_check(world, rid)
    assert check.verdict == "fail"
    assert "controlled rounding rounds each table on its own" in check.summary
    assert "no other table of the source can follow REL-0001" in check.summary
    with pytest.raises(UnsafeTableError, match="regime"):
        world.vote("olga", rid, Vote.APPROVE)


def test_an_earlier_pending_request_holds_the_regime_until_it_is_withdrawn(world: World) -> None:
    first = world.submit(perturbed("pay by area", "cellkey"))
    second = world.submit(perturbed("rounded", "random-rounding"))
    check = _regime_check(world, second)
    assert check.verdict == "fail" and "request 1 v1 of ashe:pay is pending" in check.summary
    assert "or wait until request 1 v1 is withdrawn or rejected" in check.summary
    # the earlier request is not blocked by the later one: no two block each other
    _approve(world, first)
    with pytest.raises(UnsafeTableError, match="request 1 v1 of ashe:pay is pending"):
        world.vote("olga", second, Vote.APPROVE)
    world.reg.act("ada", release_requests.withdraw_request, first, "methods review")
    _approve(world, second)  # the check runs again at the vote
    assert world.publish(second).release_id == "REL-0002"


def test_a_publication_is_refused_when_the_source_took_another_regime_since_the_vote(
    world: World,
) -> None:
    # the exact table is approved while a returned request of the source is out of the
    # way; the returned one comes back, is approved against an empty register and is
    # published first: the exact table, approved before, is refused at publication
    rounded = world.submit(perturbed("rounded", "random-rounding"))
    world.vote("olga", rounded, Vote.REQUEST_CHANGES)
    world.vote("oscar", rounded, Vote.REQUEST_CHANGES)
    exact = world.submit(table("exact", SHIFTED, {}))
    _approve(world, exact)
    world.submit(perturbed("rounded", "random-rounding"), request_id=rounded)
    _approve(world, rounded)  # request 1 comes first: request 2 does not hold it back
    world.publish(rounded)
    with pytest.raises(UnsafeTableError, match="REL-0001 of ashe:pay was published protected"):
        world.publish(exact)
    publication = [c for c in world.show(exact).versions[-1].check_history if c.name == "regime"]
    assert publication[-1].stage == "publication" and publication[-1].verdict == "fail"


COUNT = (
    '[table]\nname = "{name}"\nprotection = "{method}"\n\n[[dimension]]\nname = "area"\n\n'
    "[rules]\nthreshold = 7\n\n[perturbation]\nD = 2\nV = 1.0\njs = 2\n\n[rounding]\nbase = 3\n"
)


def test_table_protect_refuses_a_method_that_clashes_before_the_work(
    engine: Engine, tmp_path: Path
) -> None:
    stored = build_stored(engine, tmp_path)
    cellkey = stored.spec("flat", COUNT.format(name="flat", method="cellkey"))
    (made,) = stored.protect(cellkey)
    # the regime `table protect` foresees is the one the report records
    with stored.tx() as s:
        done, _ = stored_table(s, stored.vault, "earnings", made.output.name)
    drawn = done.report["protection"]["keys"]["drawn"]
    assert drawn.startswith("by row of 'ashe', file sha256 ")  # no unit named: keys by row
    assert regime_of_spec(load_spec(cellkey), stored_keys(drawn)) == regime_of_submission(done)
    view = stored.submit(f"earnings/{made.output.name}")
    _approve(stored.world, view.id)
    stored.world.publish(view.id)
    rounded = stored.spec("rounded", COUNT.format(name="rounded", method="random-rounding"))
    with pytest.raises(UnsafeTableError, match="REL-0001 of ashe:count was published") as err:
        stored.protect(rounded, name="rounded")
    keys = f"record keys drawn at ingest ({drawn})"
    assert f"random-rounding (base 3, {keys})" in str(err.value)
    assert f"cellkey (D 2, V 1, js 2, ptable generated, {keys})" in str(err.value)
    assert stored.world.reg.last_event().action != "dataset.read"  # refused before reading
    with stored.tx() as s:
        assert not _has_output(s, "rounded")
    # made alone (--ignore-published), the verified table is refused at submission
    (alone,) = stored.protect(rounded, name="rounded", with_releases=False)
    refused = stored.submit(f"earnings/{alone.output.name}")
    check = _regime_check(stored.world, refused.id)
    assert check.verdict == "fail" and check.details["regime"]["method"] == "random-rounding"
    assert "REL-0001 of ashe:count was published protected by cellkey" in check.summary
    # the method of the release, with its parameters, is accepted
    (same,) = stored.protect(cellkey, name="same")
    accepted = stored.submit(f"earnings/{same.output.name}")
    assert _regime_check(stored.world, accepted.id).verdict == "pass"


def _has_output(session: Any, name: str) -> bool:
    from fivesafes.services.governance.lookup import area_row
    from fivesafes.services.vault.register import OUTPUT, stored_row

    return stored_row(session, area_row(session, "earnings").id, OUTPUT, name) is not None
