"""Whoever sees confidential values or decides on access passes the analyst's people checks.

Before: an output checker or asset owner with neither valid training nor a signed
declaration could approve a confidential output and a grant. Now each refusal lists
every reason and is audited (in its own transaction: the refused action rolls back).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from governance_register import EXTRA_COURSE, MANDATORY, TODAY, Register
from release_world import World, build_world, first_release
from sqlalchemy import Engine, select

from fivesafes.errors import AccessDenied
from fivesafes.governance.roles import Role
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance import areas, declarations, grants, people, training
from fivesafes.services.release.reviews import resolve_conflict
from fivesafes.store.db import transaction
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.release import ReviewRow


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    w = build_world(engine, tmp_path)
    w.reg.act("root", people.register_person, "uma", "Uma Untrained", [Role.OUTPUT_CHECKER])
    return w


def _events(world: World, action: str) -> list[AuditRecord]:
    with transaction(world.engine) as s:
        return list(
            s.scalars(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
            )
        )


def test_an_untrained_unsigned_output_checker_cannot_review(world: World) -> None:
    rid = world.submit(first_release())
    with pytest.raises(AccessDenied) as refused:
        world.vote("uma", rid, Vote.APPROVE)
    reasons = refused.value.reasons
    assert any(MANDATORY in r and "never completed" in r for r in reasons)
    assert any(EXTRA_COURSE in r for r in reasons)  # the area's own course counts too
    assert any("has not signed the current declaration" in r for r in reasons)
    # Nothing was recorded but the audited refusal, with every reason.
    with transaction(world.engine) as s:
        assert s.scalars(select(ReviewRow)).all() == []
    event = world.reg.last_event()
    assert (event.action, event.actor, event.outcome) == ("people.qualify", "uma", "denied")
    assert event.details["for"] == f"review request #{rid}"
    assert len(event.details["reasons"]) == 3
    assert world.show(rid).reviews_in == 0
    # Once trained and signed, the same vote goes through (and the check is audited).
    world.reg.make_ready("uma")
    world.vote("uma", rid, Vote.APPROVE)
    assert _events(world, "people.qualify")[-1].outcome == "allowed"


def test_an_unqualified_checker_cannot_resolve_a_conflict(world: World) -> None:
    rid = world.submit(first_release())
    world.vote("olga", rid, Vote.REJECT)
    world.vote("oscar", rid, Vote.APPROVE)  # a conflict
    with pytest.raises(AccessDenied, match="uma may not resolve request"):
        world.reg.act("uma", resolve_conflict, rid, Vote.REJECT, "identifiable")
    assert world.show(rid).state is RequestState.REVIEWED


def _sign(reg: Register, login: str) -> None:
    version = reg.read(declarations.current_version_number)
    with transaction(reg.engine) as session:
        declarations.sign_declaration(session, resolve_actor(session, login), version)


def test_an_untrained_asset_owner_cannot_approve_a_grant(world: World) -> None:
    reg = world.reg
    reg.act("root", people.register_person, "ivan", "Ivan Owner", [Role.INFORMATION_ASSET_OWNER])
    reg.act("root", areas.create_area, "health", "ivan", [])
    asked = reg.act("ada", grants.request_grant, "ada", "health", "hospital tables", today=TODAY)
    with pytest.raises(AccessDenied, match="ivan may not approve grants on area health"):
        reg.act("ivan", grants.approve_grant, asked.id, "ok", TODAY)
    assert reg.read(grants.get_grant, asked.id, TODAY).state.value == "requested"
    event = reg.last_event()
    assert (event.action, event.outcome, event.area) == ("people.qualify", "denied", "health")
    # Rejecting closes access: never held up by missing training.
    other = reg.act("bob", grants.request_grant, "bob", "health", "curiosity", today=TODAY)
    reg.act("ivan", grants.reject_grant, other.id, "no need shown", TODAY)
    # Trained (health has no extra course) and signed: the approval goes through.
    reg.act("root", training.record_completion, "ivan", MANDATORY, TODAY, "cert", TODAY)
    _sign(reg, "ivan")
    reg.act("ivan", grants.approve_grant, asked.id, "ok", TODAY)
    assert reg.read(grants.get_grant, asked.id, TODAY).state.value == "approved"


def test_an_owner_whose_training_expired_cannot_approve(world: World) -> None:
    reg = world.reg
    reg.act("root", people.register_person, "ines", "Ines Owner", [Role.INFORMATION_ASSET_OWNER])
    reg.act("root", areas.create_area, "trade", "ines", [])
    long_ago = date(TODAY.year - 2, 1, 1)
    reg.act("root", training.record_completion, "ines", MANDATORY, long_ago, "cert", long_ago)
    _sign(reg, "ines")
    asked = reg.act("bob", grants.request_grant, "bob", "trade", "tables", today=TODAY)
    with pytest.raises(AccessDenied, match="expired on"):
        reg.act("ines", grants.approve_grant, asked.id, "ok", TODAY)
