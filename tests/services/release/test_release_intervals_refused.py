"""The audit's intervals are refused to everyone but a qualified output checker who is not
the author (attack review): an administrator or auditor (no checker role) and an output
checker who has not passed the people checks are refused, each refusal audited, and the
refusal's text holds no interval."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_world import World, build_world, first_release
from sqlalchemy import Engine, select

from fivesafes.errors import AccessDenied
from fivesafes.governance.roles import Role
from fivesafes.services.governance import people
from fivesafes.services.governance.qualification import QUALIFY
from fivesafes.services.release import inspect as inspect_svc
from fivesafes.store.db import transaction
from fivesafes.store.models.audit import AuditRecord


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def _outcomes(world: World, action: str) -> list[tuple[str, str]]:
    with transaction(world.engine) as session:
        rows = session.execute(
            select(AuditRecord.actor, AuditRecord.outcome).where(AuditRecord.action == action)
        ).all()
    return [(str(a), str(o)) for a, o in rows]


def test_no_checker_role_and_no_people_checks_are_both_refused(world: World) -> None:
    rid = world.submit(first_release())
    with pytest.raises(AccessDenied) as no_role:
        world.reg.act("root", inspect_svc.inspect_with_intervals, world.provider, rid)
    assert "[" not in str(no_role.value)
    # an output checker never trained nor signed the declaration for the area
    world.reg.act("root", people.register_person, "otto", "Otto New", [Role.OUTPUT_CHECKER])
    with pytest.raises(AccessDenied):
        world.reg.act("otto", inspect_svc.inspect_with_intervals, world.provider, rid)
    inspected = _outcomes(world, inspect_svc.INSPECT)
    assert ("root", "denied") in inspected
    assert ("otto", "allowed") not in inspected
    assert ("otto", "denied") in _outcomes(world, QUALIFY)
    # and the qualified checker opens them (the refusals are not a broken world)
    _view, _content, found = world.reg.act(
        "olga", inspect_svc.inspect_with_intervals, world.provider, rid
    )
    assert found is not None and len(found.cells)
