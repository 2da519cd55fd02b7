"""Grants and access decisions through the services, on both databases."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from governance_register import TODAY, Register

from fivesafes.errors import AccessDenied, ConflictError, NotFoundError, ValidationError
from fivesafes.governance.access import ReasonCode
from fivesafes.governance.grants import GrantPolicy, GrantState
from fivesafes.governance.roles import Role
from fivesafes.services.governance import access, declarations, grants, people, training


def _grant(reg: Register, login: str = "ada", approve: bool = True, **kw: object) -> int:
    made = reg.act(login, grants.request_grant, login, "earnings", "ASHE tables", today=TODAY, **kw)
    assert made.state is GrantState.REQUESTED and made.requester == login
    if approve:
        done = reg.act("iris", grants.approve_grant, made.id, "ok", TODAY)
        assert done.state is GrantState.APPROVED and done.approver == "iris"
    return made.id


def _check(reg: Register, login: str = "ada", dataset: str = "ashe", **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("today", TODAY)
    return reg.act(
        "root", access.check_access, login, dataset, kw.pop("purpose", "statistical"), **kw
    )


def test_allowed_access_is_audited_with_outcome_allowed(reg: Register) -> None:
    reg.make_ready("ada")
    _grant(reg)
    before = reg.audit_count()
    decision = _check(reg)
    assert decision.allowed and decision.reasons == ()
    assert reg.audit_count() == before + 1
    event = reg.last_event()
    assert (event.action, event.outcome, event.subject, event.dataset, event.area) == (
        "access.decide",
        "allowed",
        "ada",
        "ashe",
        "earnings",
    )


def test_denied_access_lists_every_reason_and_is_audited(reg: Register) -> None:
    before = reg.audit_count()
    decision = _check(reg, purpose="marketing")
    assert not decision.allowed
    assert decision.codes == {
        ReasonCode.TRAINING_NOT_VALID,
        ReasonCode.DECLARATION_NOT_SIGNED,
        ReasonCode.NO_ACTIVE_GRANT,
        ReasonCode.PURPOSE_NOT_STATISTICAL,
    }
    assert sum(r.code is ReasonCode.TRAINING_NOT_VALID for r in decision.reasons) == 2
    assert reg.audit_count() == before + 1
    event = reg.last_event()
    assert event.outcome == "denied"
    details = json.loads(event.details_text)
    assert {r["code"] for r in details["reasons"]} == {c.value for c in decision.codes}


def test_unknown_person_or_dataset_is_an_audited_denial(reg: Register) -> None:
    before = reg.audit_count()
    assert _check(reg, login="nobody").codes == {ReasonCode.UNKNOWN_PERSON}
    assert ReasonCode.UNKNOWN_DATASET in _check(reg, dataset="nothing").codes
    assert reg.audit_count() == before + 2
    assert reg.last_event().outcome == "denied"


def test_new_declaration_version_must_be_signed_before_next_access(reg: Register) -> None:
    reg.make_ready("ada")
    _grant(reg)
    assert _check(reg).allowed
    reg.act("root", declarations.publish_declaration, "Version two.")
    assert _check(reg).codes == {ReasonCode.DECLARATION_NOT_SIGNED}
    with pytest.raises(ConflictError):
        reg.act("ada", declarations.sign_declaration, 1)
    reg.act("ada", declarations.sign_declaration, 2)
    assert _check(reg).allowed


def test_area_extra_training_expiry_denies(reg: Register) -> None:
    reg.make_ready("ada")
    _grant(reg)
    later = TODAY + timedelta(days=400)  # mandatory (12 months) lapsed, extra (24) still valid
    decision = _check(reg, today=later)
    assert decision.codes == {ReasonCode.TRAINING_NOT_VALID, ReasonCode.NO_ACTIVE_GRANT}
    assert "Responsible for information" in decision.reasons[0].message


def test_leaver_loses_all_access_at_once_and_grants_are_revoked(reg: Register) -> None:
    reg.make_ready("ada")
    gid = _grant(reg)
    assert _check(reg).allowed
    reg.act("root", people.mark_leaver, "ada", "left")
    decision = _check(reg)
    assert ReasonCode.PERSON_NOT_ACTIVE in decision.codes
    assert reg.read(grants.get_grant, gid, TODAY).state is GrantState.REVOKED


def test_grant_lapses_after_end_date_and_expire_records_it(reg: Register) -> None:
    reg.make_ready("ada")
    gid = _grant(reg, end_on=TODAY + timedelta(days=10))
    assert _check(reg, today=TODAY + timedelta(days=10)).allowed
    assert _check(reg, today=TODAY + timedelta(days=11)).codes == {ReasonCode.NO_ACTIVE_GRANT}
    assert reg.read(grants.get_grant, gid, TODAY + timedelta(11)).state is GrantState.EXPIRED
    before = reg.audit_count()
    with_tx = reg.read(grants.expire_grants, TODAY + timedelta(days=11))
    assert with_tx == [gid] and reg.audit_count() == before + 1
    assert reg.last_event().action == "grant.expire" and reg.last_event().actor == "system"
    with pytest.raises(ConflictError):
        reg.act("iris", grants.revoke_grant, gid, "too late", TODAY)


def test_revoked_or_rejected_grant_gives_no_access(reg: Register) -> None:
    reg.make_ready("ada")
    gid = _grant(reg)
    reg.act("root", grants.revoke_grant, gid, "project over", TODAY)
    assert _check(reg).codes == {ReasonCode.NO_ACTIVE_GRANT}
    gid2 = _grant(reg, approve=False)
    reg.act("iris", grants.reject_grant, gid2, "not needed", TODAY)
    assert reg.read(grants.get_grant, gid2, TODAY).state is GrantState.REJECTED
    assert _check(reg).codes == {ReasonCode.NO_ACTIVE_GRANT}
    with pytest.raises(ConflictError):
        reg.act("iris", grants.approve_grant, gid2, None, TODAY)


def test_grant_rules_self_approval_and_limits_write_nothing(reg: Register) -> None:
    # iris owns the area and is an administrator too: she still cannot approve her own grant.
    reg.act("root", people.change_roles, "iris", [Role.ADMINISTRATOR])
    own = reg.act("iris", grants.request_grant, "iris", "earnings", "QA", today=TODAY).id
    ada = reg.act("ada", grants.request_grant, "ada", "earnings", "tables", today=TODAY).id
    before = reg.snapshot()
    bad = [
        ("iris", grants.approve_grant, (own, None, TODAY), AccessDenied, "own access"),
        ("root", grants.approve_grant, (ada, None, TODAY), AccessDenied, "asset owner"),
        ("ada", grants.approve_grant, (ada, None, TODAY), AccessDenied, "own access"),
        ("bob", grants.revoke_grant, (ada, "x", TODAY), ConflictError, "requested"),
        ("iris", grants.approve_grant, (999, None, TODAY), NotFoundError, "999"),
        ("iris", grants.reject_grant, (ada, " ", TODAY), ValidationError, "reason"),
    ]
    requests = [
        (dict(end_on=TODAY - timedelta(1)), ValidationError, "before start"),
        (dict(end_on=TODAY + timedelta(days=400)), ValidationError, "maximum"),
        (dict(start_on=TODAY - timedelta(1)), ValidationError, "past"),
        (dict(purpose="commercial"), ValidationError, "statistical"),
        (dict(policy=GrantPolicy(1, 1), end_on=TODAY + timedelta(40)), ValidationError, "1 months"),
    ]
    for login, fn, args, error, match in bad:
        with pytest.raises(error, match=match):
            reg.act(login, fn, *args)
    for kwargs, error, match in requests:
        with pytest.raises(error, match=match):
            reg.act("ada", grants.request_grant, "ada", "earnings", "x", today=TODAY, **kwargs)
    with pytest.raises(AccessDenied):
        reg.act("ada", grants.request_grant, "bob", "earnings", "for bob", today=TODAY)
    with pytest.raises(NotFoundError):
        reg.act("ada", grants.request_grant, "ada", "nowhere", "x", today=TODAY)
    with pytest.raises(ValidationError, match="justification"):
        reg.act("ada", grants.request_grant, "ada", "earnings", "  ", today=TODAY)
    assert reg.snapshot() == before


def test_default_grant_length_and_listing(reg: Register) -> None:
    gid = _grant(reg, approve=False, policy=GrantPolicy(default_months=3, max_months=12))
    got = reg.read(grants.get_grant, gid, TODAY)
    assert (got.start_on, got.end_on) == (TODAY, date(2026, 8, 31))
    assert [g.id for g in reg.read(grants.list_grants, "ada", None, TODAY)] == [gid]
    assert reg.read(grants.list_grants, "bob", None, TODAY) == []
    assert [g.id for g in reg.read(grants.list_grants, None, "earnings", TODAY)] == [gid]


def test_approved_researcher_without_researcher_facts_is_denied(reg: Register) -> None:
    reg.act("root", people.change_roles, "ada", [Role.APPROVED_RESEARCHER], [Role.STATISTICIAN])
    reg.make_ready("ada")
    _grant(reg)
    assert _check(reg, research=None).codes == {ReasonCode.RESEARCHER_FACTS_UNAVAILABLE}


def test_approved_researcher_without_accreditation_or_project_is_denied(reg: Register) -> None:
    reg.act("root", people.change_roles, "ada", [Role.APPROVED_RESEARCHER], [Role.STATISTICIAN])
    reg.make_ready("ada")
    _grant(reg)
    decision = _check(reg, project_ref="P-NONE")
    assert not decision.allowed
    assert {ReasonCode.ACCREDITATION_NOT_VALID, ReasonCode.NO_ACTIVE_PROJECT} <= decision.codes


def test_training_is_recorded_by_an_administrator_never_by_oneself(reg: Register) -> None:
    with pytest.raises(AccessDenied, match="administrator"):
        reg.act("bob", training.record_completion, "bob", "Earnings data", TODAY, None, TODAY)
    done = reg.act("root", training.record_completion, "bob", "Earnings data", TODAY, None, TODAY)
    assert done.expires_on == date(2028, 6, 1)


def test_person_summary_shows_training_signatures_and_grants(reg: Register) -> None:
    reg.make_ready("ada")
    gid = _grant(reg)
    summary = reg.read(people.summarise_person, "ada", TODAY)
    assert summary.current_declaration == 1 and summary.signed_declarations == [1]
    assert all(t.valid for t in summary.training if t.course != "Safe researcher training")
    assert [g.id for g in summary.grants] == [gid]
    bob = reg.read(people.summarise_person, "bob", TODAY)
    assert bob.signed_declarations == [] and bob.grants == []
    assert not any(t.valid for t in bob.training)
