"""Known attacks by differencing, blocked against the register (on both databases)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from release_world import (
    AREA,
    BY_REGION,
    SHIFTED,
    World,
    assert_only_the_refusal_kept,
    build_world,
    first_release,
    table,
)
from sqlalchemy import Engine, select

from fivesafes.errors import UnsafeTableError
from fivesafes.release.checks import CONFIDENTIAL_FIELDS
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState
from fivesafes.store.db import transaction
from fivesafes.store.models.release import CheckResultRow, RequestVersionRow


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
    # Nothing moved; the record keeps the run that refused it (source, rules, differencing).
    assert_only_the_refusal_kept(world, before, checks=4)
    assert world.show(rid).reviews_in == 0
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
    with pytest.raises(UnsafeTableError, match="cannot be published:\n- differencing"):
        fresh.publish(shifted)
    assert_only_the_refusal_kept(fresh, before, checks=4)
    in_force = {c.name: (c.verdict, c.stage) for c in fresh.show(shifted).versions[-1].checks}
    assert in_force["differencing"] == ("fail", "publication")
    assert not (fresh.releases / "REL-0002").exists()
    assert fresh.show(shifted).state is RequestState.APPROVED


def _keys(obj: object) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


def test_stored_check_results_name_cells_but_never_their_values(world: World) -> None:
    # The register database is plain text: a failed audit or differencing check must
    # not copy a hidden cell's value (or the bounds that pin it) into it.
    shifted = world.submit(table("by new region", SHIFTED, {"a3": "primary", "a4": "secondary"}))
    alone = world.submit(table("a3 without a complement", BY_REGION, {"a3": "primary"}))
    with transaction(world.reg.engine) as s:
        found = s.execute(
            select(RequestVersionRow.request_id, CheckResultRow).join(
                RequestVersionRow, CheckResultRow.version_id == RequestVersionRow.id
            )
        ).all()
        rows = {(rid, r.name): r for rid, r in found}
        diff, audit = rows[(shifted, "differencing")], rows[(alone, "audit")]
        assert diff.verdict == "fail" and audit.verdict == "fail"
        diff_details, audit_details = json.loads(diff.details_json), json.loads(audit.details_json)
        assert diff_details["disclosures"] and audit_details["failed_cells"]
        assert "area=a3" in diff.summary and "exactly" in diff.summary
        for details in (diff_details, audit_details):
            assert not _keys(details) & CONFIDENTIAL_FIELDS
        assert "[2, 2]" not in diff.summary + diff.details_json


def test_rotating_the_area_key_keeps_sealed_requests_and_hidden_cells_readable(
    engine: Engine, tmp_path: Path
) -> None:
    from fivesafes.services.vault import lifecycle as svc

    w = build_world(engine, tmp_path)
    w.release(first_release())
    pending = w.submit(table("pay by area, again", BY_REGION, {"a3": "primary", "a2": "secondary"}))
    old = w.provider.key_ids(AREA)
    vault = svc.Vault(tmp_path / "areas", w.provider)
    svc.rotate_area_key_for(lambda: transaction(w.engine), vault, "iris", AREA)
    assert w.provider.key_ids(AREA) and not set(w.provider.key_ids(AREA)) & set(old)
    # The published hidden cells still take part in the differencing check, and the
    # request submitted before the rotation can still be reviewed and published.
    message = _blocked(
        w, w.submit(table("by new region", SHIFTED, {"a3": "primary", "a4": "secondary"}))
    )
    assert "area=a3" in message
    w.vote("olga", pending, Vote.APPROVE)
    w.vote("oscar", pending, Vote.APPROVE)
    assert w.publish(pending).release_id == "REL-0002"


def test_a_rotation_whose_transaction_fails_keeps_the_sealed_requests_readable(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The data keys held in the database are re-wrapped inside the rotation's
    # transaction; if that transaction rolls back (an error, a kill before the commit),
    # the rows keep their old wrapped keys, so the old area key must still exist.
    from fivesafes.services.vault import lifecycle as svc
    from fivesafes.services.vault import rotation

    w = build_world(engine, tmp_path)
    w.release(first_release())
    pending = w.submit(table("pay by area, again", BY_REGION, {"a3": "primary", "a2": "secondary"}))
    vault = svc.Vault(tmp_path / "areas", w.provider)
    real_record = rotation.record

    def fail_at_rotate(session: object, actor: str, action: str, **kw: object) -> object:
        if action == "area.rotate_key":
            raise RuntimeError("killed before the commit")
        return real_record(session, actor, action, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(rotation, "record", fail_at_rotate)
    with pytest.raises(RuntimeError, match="killed before the commit"):
        svc.rotate_area_key_for(lambda: transaction(w.engine), vault, "iris", AREA)
    monkeypatch.setattr(rotation, "record", real_record)
    # Nothing is lost: the request can still be reviewed and published, and a second
    # rotation finishes the job.
    svc.rotate_area_key_for(lambda: transaction(w.engine), vault, "iris", AREA)
    assert len(w.provider.key_ids(AREA)) == 1
    w.vote("olga", pending, Vote.APPROVE)
    w.vote("oscar", pending, Vote.APPROVE)
    assert w.publish(pending).release_id == "REL-0002"
