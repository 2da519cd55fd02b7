"""The access decision attacked through the services, as a person who wants in or a careless
administrator would: logins that look alike, a leaver coming back, days at the edge of a
course, a grant or a project, an area made sensitive after the grant, and an audit log that
cannot be written (on both databases)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from governance_register import MANDATORY, TODAY, Register
from sqlalchemy import select, update

from fivesafes.audit import log as audit_log
from fivesafes.errors import ConflictError
from fivesafes.governance.access import ReasonCode
from fivesafes.governance.roles import Role
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance import access, areas, declarations, grants, people, training
from fivesafes.services.governance.access import check_access
from fivesafes.store.db import transaction
from fivesafes.store.models.governance import CompletionRow, CourseRow, PersonRow


def _grant(reg: Register, login: str = "ada", **kw: object) -> int:
    gid = reg.act(login, grants.request_grant, login, "earnings", "tables", today=TODAY, **kw).id
    reg.act("iris", grants.approve_grant, gid, "ok", TODAY)
    return gid


def _check(reg: Register, login: str = "ada", today: date = TODAY):  # type: ignore[no-untyped-def]
    return reg.act("root", access.check_access, login, "ashe", "statistical", today)


@pytest.mark.parametrize("variant", ["Ada", "ADA", "aDa"])
def test_a_login_differing_only_by_case_is_not_registered_again(
    reg: Register, variant: str
) -> None:
    # Two people "ada" and "Ada": every listing, grant and audit line reads alike, and
    # whichever OS account or sign-in mapping says "Ada" gets the other's place.
    before = reg.snapshot()
    with pytest.raises(ConflictError, match="ada"):
        reg.act("root", people.register_person, variant, "Another Ada", [Role.STATISTICIAN])
    assert reg.snapshot() == before


def test_a_case_variant_of_a_ready_login_has_none_of_its_access(reg: Register) -> None:
    reg.make_ready("ada")
    _grant(reg)
    assert _check(reg).allowed
    before = reg.audit_count()
    assert _check(reg, "Ada").codes == {ReasonCode.UNKNOWN_PERSON}
    assert _check(reg, "ada ").codes == {ReasonCode.UNKNOWN_PERSON}
    assert _check(reg, "\uff41da").codes == {ReasonCode.UNKNOWN_PERSON}  # fullwidth a
    assert reg.audit_count() == before + 3 and reg.last_event().outcome == "denied"


def test_a_leaver_cannot_come_back_under_the_same_login_with_old_grants(reg: Register) -> None:
    reg.make_ready("ada")
    _grant(reg)
    reg.act("root", people.mark_leaver, "ada", "left")
    with pytest.raises(ConflictError, match="already registered"):
        reg.act("root", people.register_person, "ada", "Ada Again", [Role.STATISTICIAN])
    assert ReasonCode.PERSON_NOT_ACTIVE in _check(reg).codes


def test_mandatory_training_expiring_today_denies_from_the_first_moment_of_the_day(
    reg: Register,
) -> None:
    reg.make_ready("ada")
    _grant(reg)
    expiry = TODAY + timedelta(days=5)  # as if done a year before that day
    with transaction(reg.engine) as session:
        ada = session.scalar(select(PersonRow.id).where(PersonRow.login == "ada"))
        course = session.scalar(select(CourseRow.id).where(CourseRow.name == MANDATORY))
        session.execute(
            update(CompletionRow)
            .where(CompletionRow.person_id == ada, CompletionRow.course_id == course)
            .values(expires_on=expiry)
        )
    assert _check(reg, today=expiry - timedelta(days=1)).allowed
    decision = _check(reg, today=expiry)
    assert decision.codes == {ReasonCode.TRAINING_NOT_VALID}
    assert f"expired on {expiry.isoformat()}" in decision.reasons[0].message


def test_an_area_made_sensitive_after_the_grant_needs_its_extra_training_at_once(
    reg: Register,
) -> None:
    reg.make_ready("ada")
    _grant(reg)
    assert _check(reg).allowed
    reg.act("root", training.add_course, "Sensitive health data", 12)
    reg.act("root", areas.require_course, "earnings", "Sensitive health data")
    decision = _check(reg)
    assert decision.codes == {ReasonCode.TRAINING_NOT_VALID}
    assert "Sensitive health data" in decision.reasons[0].message
    reg.act("root", training.record_completion, "ada", "Sensitive health data", TODAY, "c", TODAY)
    assert _check(reg).allowed


def test_base_training_alone_does_not_open_a_sensitive_area(reg: Register) -> None:
    reg.act("root", training.record_completion, "bob", MANDATORY, TODAY, "c", TODAY)
    reg.act("bob", declarations.sign_declaration, 1)
    _grant(reg, "bob")
    decision = _check(reg, "bob")
    assert decision.codes == {ReasonCode.TRAINING_NOT_VALID}
    assert "Earnings data" in decision.reasons[0].message


def test_a_grant_ending_today_covers_today_and_not_tomorrow(reg: Register) -> None:
    reg.make_ready("ada")
    _grant(reg, end_on=TODAY)
    assert _check(reg).allowed
    assert _check(reg, today=TODAY + timedelta(days=1)).codes == {ReasonCode.NO_ACTIVE_GRANT}


def test_a_grant_starting_tomorrow_does_not_cover_today(reg: Register) -> None:
    reg.make_ready("ada")
    _grant(reg, start_on=TODAY + timedelta(days=1))
    assert _check(reg).codes == {ReasonCode.NO_ACTIVE_GRANT}
    assert _check(reg, today=TODAY + timedelta(days=1)).allowed


def test_every_denial_is_audited_with_the_decision_and_each_reason(reg: Register) -> None:
    _grant(reg, "bob")
    decision = _check(reg, "bob")
    assert not decision.allowed
    event = reg.last_event()
    details = json.loads(event.details_text)
    assert (event.action, event.outcome, event.subject, event.actor) == (
        "access.decide",
        "denied",
        "bob",
        "root",
    )
    assert details["allowed"] is False
    assert [r["code"] for r in details["reasons"]] == [r.code.value for r in decision.reasons]


@pytest.mark.parametrize("ready", [True, False])
def test_a_decision_whose_audit_cannot_be_written_is_not_given(
    reg: Register, monkeypatch: pytest.MonkeyPatch, ready: bool
) -> None:
    if ready:
        reg.make_ready("ada")
        _grant(reg)
    real = audit_log.append_event

    def failing(session, event):  # type: ignore[no-untyped-def]
        if event.action == "access.decide":
            raise RuntimeError("audit log unavailable")
        return real(session, event)

    monkeypatch.setattr(audit_log, "append_event", failing)
    before = reg.audit_count()
    given = []
    with (
        pytest.raises(RuntimeError, match="audit log unavailable"),
        transaction(reg.engine) as session,
    ):
        root = resolve_actor(session, "root")
        given.append(check_access(session, root, "ada", "ashe", "statistical", TODAY))
    assert given == [] and reg.audit_count() == before
