"""Release submit keeps the audit's intervals of a table, sealed with the version (never in
plain text), and only an output checker who is not the author opens them, audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_world import World, build_world, first_release
from sqlalchemy import Engine, select

from fivesafes.errors import AccessDenied
from fivesafes.release.submission import FileSubmission
from fivesafes.services.release import inspect as inspect_svc
from fivesafes.store.db import transaction
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.release import RequestVersionRow


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def _version(world: World, rid: int) -> RequestVersionRow:
    with transaction(world.engine) as session:
        row = session.scalars(
            select(RequestVersionRow).where(RequestVersionRow.request_id == rid)
        ).one()
        session.expunge(row)
        return row


def test_a_table_version_keeps_its_intervals_sealed(world: World) -> None:
    rid = world.submit(first_release())
    row = _version(world, rid)
    assert row.sealed_intervals is not None and row.intervals_wrapped_key_json is not None
    for plain in (b"a3", b"attacker", b"primary", b"17"):
        assert plain not in row.sealed_intervals
    assert row.sealed_intervals != row.sealed  # its own data key and object id
    assert row.intervals_wrapped_key_json != row.wrapped_key_json
    _view, _content, found = world.reg.act(
        "olga", inspect_svc.inspect_with_intervals, world.provider, rid
    )
    assert found is not None and found.mode == "exact" and found.safe
    assert found.achieved_text() == {("a2",): "[0, 17]", ("a3",): "[0, 17]"}
    with transaction(world.engine) as session:
        opened = session.scalars(
            select(AuditRecord).where(AuditRecord.action == inspect_svc.INSPECT)
        ).all()
        details = [r.details for r in opened]
    assert details == [{"version": 1, "intervals": True}]


def test_the_author_never_opens_the_intervals_and_the_refusal_is_audited(world: World) -> None:
    from fivesafes.governance.roles import Role
    from fivesafes.services.governance import people

    rid = world.submit(first_release())
    world.reg.act("root", people.change_roles, "ada", [Role.OUTPUT_CHECKER], [])
    with pytest.raises(AccessDenied):
        world.reg.act("ada", inspect_svc.inspect_with_intervals, world.provider, rid)
    with transaction(world.engine) as session:
        outcomes = session.execute(
            select(AuditRecord.actor, AuditRecord.outcome).where(
                AuditRecord.action == inspect_svc.INSPECT
            )
        ).all()
    assert ("ada", "denied") in [tuple(o) for o in outcomes]


def test_a_file_output_keeps_no_intervals(world: World) -> None:
    rid = world.submit(FileSubmission("chart.svg", b"<svg></svg>"), source="ashe:chart")
    row = _version(world, rid)
    assert row.sealed_intervals is None and row.intervals_wrapped_key_json is None
    _view, _content, found = world.reg.act(
        "olga", inspect_svc.inspect_with_intervals, world.provider, rid
    )
    assert found is None
