"""Approved projects through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from research_world import (  # noqa: F401
    TODAY,
    World,
    actor,
    build,
    person,
    research_engine_fixture,
    rolled_back_session,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fivesafes.audit.log import query_events
from fivesafes.errors import AccessDenied, ConflictError, NotFoundError, ValidationError
from fivesafes.governance.research import (
    AccreditationLevel,
)
from fivesafes.governance.research_changes import (
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
)
from fivesafes.governance.research_projects import (
    ProjectAction,
    ProjectProposal,
)
from fivesafes.services.research import projects as svc
from fivesafes.services.research import researchers
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.governance import PersonRoleRow
from fivesafes.store.models.research import ProjectChangeRow, ProjectRow

PROPOSAL = ProjectProposal(
    reference="PRJ-2026-001",
    title="Earnings by region",
    purpose="Estimate regional earnings distributions",
    purpose_category="statistical",
    public_benefit="Better regional statistics for local policy",
    datasets=("ashe",),
    start=TODAY - timedelta(days=1),
    end=TODAY + timedelta(days=365),
    lead="rita",
    members=("sam",),
)
REF = PROPOSAL.reference


@pytest.fixture
def session(research_engine: Engine) -> Iterator[Session]:
    # One migrated database per module; each test's writes are rolled back.
    yield from rolled_back_session(research_engine)


@pytest.fixture
def world(session: Session) -> World:
    w = build(session)
    researchers.accredit(
        session,
        actor(session, "admin"),
        "rita",
        body="UKSA",
        reference="ACC-1",
        level=AccreditationLevel.FULL,
        today=TODAY,
    )
    return w


def _events(session: Session) -> int:
    return int(session.scalar(select(func.count(AuditRecord.seq))) or 0)


def _propose(session: Session, proposal: ProjectProposal = PROPOSAL) -> svc.ProjectView:
    return svc.propose_project(session, actor(session, "rita"), proposal, today=TODAY)


def _approved(session: Session) -> svc.ProjectView:
    _propose(session)
    return svc.decide_project(
        session, actor(session, "hana"), REF, ProjectAction.APPROVE, today=TODAY
    )


def test_propose_then_approve_makes_the_project_active(session: Session, world: World) -> None:
    proposed = _propose(session)
    assert proposed.status == "proposed" and proposed.lead == "rita"
    assert proposed.members == ("sam",) and proposed.datasets == ("ashe",)
    approved = svc.decide_project(
        session, actor(session, "hana"), REF, ProjectAction.APPROVE, "fine", today=TODAY
    )
    assert approved.status == "active" and approved.decided_by == "hana"
    after = svc.show_project(session, REF, today=PROPOSAL.end + timedelta(days=1))
    assert after.status == "ended" and after.stored_status == "approved"
    before = svc.show_project(session, REF, today=PROPOSAL.start - timedelta(days=1))
    assert before.status == "approved"
    actions = [e.action for e in query_events(session, subject=REF)]
    assert actions == ["project.propose", "project.approve"]
    assert [v.reference for v in svc.list_projects(session, today=TODAY, status="active")] == [REF]
    assert approved.to_dict()["start"] == PROPOSAL.start.isoformat()


def test_asset_owner_of_every_area_may_approve_but_not_of_only_some(
    session: Session, world: World
) -> None:
    _propose(session, replace(PROPOSAL, datasets=("ashe", "idbr")))
    with pytest.raises(AccessDenied) as info:
        svc.decide_project(session, actor(session, "iona"), REF, ProjectAction.APPROVE, today=TODAY)
    assert "business" in " ".join(info.value.reasons)
    _propose(session, replace(PROPOSAL, reference="PRJ-2"))
    view = svc.decide_project(
        session, actor(session, "iona"), "PRJ-2", ProjectAction.APPROVE, today=TODAY
    )
    assert view.status == "active"


def test_lead_never_approves_own_project_and_nothing_changes(
    session: Session, world: World
) -> None:
    world.rita.roles.append(PersonRoleRow(role="head_of_profession"))
    session.flush()
    _propose(session)
    before = _events(session)
    with pytest.raises(AccessDenied, match="may not decide") as info:
        svc.decide_project(session, actor(session, "rita"), REF, ProjectAction.APPROVE, today=TODAY)
    assert any("leads project" in r for r in info.value.reasons)
    assert svc.show_project(session, REF, today=TODAY).status == "proposed"
    assert _events(session) == before


def test_reject_is_final(session: Session, world: World) -> None:
    _propose(session)
    hana = actor(session, "hana")
    view = svc.decide_project(session, hana, REF, ProjectAction.REJECT, "no benefit", today=TODAY)
    assert view.status == "rejected"
    assert [e.action for e in query_events(session, subject=REF)][-1] == "project.reject"
    with pytest.raises(ValidationError, match="cannot approve"):
        svc.decide_project(session, hana, REF, ProjectAction.APPROVE, today=TODAY)


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"end": TODAY - timedelta(days=5)}, ValidationError, "not after its start"),
        ({"purpose_category": "marketing"}, ValidationError, "statistical purposes only"),
        ({"datasets": ("nosuch",)}, NotFoundError, "nosuch"),
        ({"members": ("ghost",)}, NotFoundError, "ghost"),
        ({"lead": "ghost"}, AccessDenied, "may not propose"),
    ],
)
def test_bad_proposals_write_nothing(
    session: Session, world: World, changes: dict[str, object], error: type, message: str
) -> None:
    before = _events(session)
    with pytest.raises(error, match=message):
        _propose(session, replace(PROPOSAL, **changes))  # type: ignore[arg-type]
    assert session.scalar(select(func.count(ProjectRow.id))) == 0
    assert _events(session) == before


def test_unaccredited_researcher_cannot_join(session: Session, world: World) -> None:
    person(session, "rob", "approved_researcher")
    with pytest.raises(ValidationError, match="rob is neither staff"):
        _propose(session, replace(PROPOSAL, members=("rob",)))


def test_duplicate_reference_conflicts(session: Session, world: World) -> None:
    _propose(session)
    with pytest.raises(ConflictError):
        _propose(session)


def test_unknown_project(session: Session, world: World) -> None:
    with pytest.raises(NotFoundError, match="PRJ-404"):
        svc.show_project(session, "PRJ-404")
    with pytest.raises(NotFoundError, match="change request number 99"):
        svc.decide_change(session, actor(session, "hana"), 99, ChangeStatus.APPROVED)


def test_extension_requested_by_lead_and_approved_keeps_history(
    session: Session, world: World
) -> None:
    _approved(session)
    new_end = PROPOSAL.end + timedelta(days=90)
    change = svc.request_change(
        session,
        actor(session, "rita"),
        REF,
        ChangeRequest(ChangeKind.EXTEND, "fieldwork delayed", new_end=new_end),
        today=TODAY,
    )
    assert change.status == "requested" and change.payload == {"new_end": new_end.isoformat()}
    assert svc.show_project(session, REF, today=TODAY).end == PROPOSAL.end  # not yet
    with pytest.raises(AccessDenied):  # the lead does not decide
        svc.decide_change(session, actor(session, "rita"), change.id, ChangeStatus.APPROVED)
    decided = svc.decide_change(
        session, actor(session, "hana"), change.id, ChangeStatus.APPROVED, "ok", today=TODAY
    )
    assert decided.status == "approved" and decided.decided_by == "hana"
    view = svc.show_project(session, REF, today=TODAY)
    assert view.end == new_end
    assert [(c.kind, c.status) for c in view.changes] == [("extend", "approved")]
    actions = [e.action for e in query_events(session, subject=REF)]
    assert actions[-2:] == ["project.change.request", "project.change.approve"]
    with pytest.raises(ValidationError, match="already approved"):
        svc.decide_change(session, actor(session, "hana"), change.id, ChangeStatus.REJECTED)


def test_rejected_change_changes_nothing(session: Session, world: World) -> None:
    _approved(session)
    change = svc.request_change(
        session,
        actor(session, "rita"),
        REF,
        ChangeRequest(ChangeKind.CHANGE_SCOPE, "more data", add_datasets=("idbr",)),
        today=TODAY,
    )
    svc.decide_change(session, actor(session, "hana"), change.id, ChangeStatus.REJECTED)
    assert svc.show_project(session, REF, today=TODAY).datasets == ("ashe",)
    assert [e.action for e in query_events(session, subject=REF)][-1] == "project.change.reject"


def test_scope_and_team_changes_keep_former_entries(session: Session, world: World) -> None:
    _approved(session)
    rita, hana = actor(session, "rita"), actor(session, "hana")
    person(session, "tom", "statistician")
    for change in (
        ChangeRequest(
            ChangeKind.CHANGE_SCOPE, "swap", add_datasets=("idbr",), remove_datasets=("ashe",)
        ),
        ChangeRequest(
            ChangeKind.CHANGE_TEAM, "swap", add_members=("tom",), remove_members=("sam",)
        ),
    ):
        view = svc.request_change(session, rita, REF, change, today=TODAY)
        svc.decide_change(session, hana, view.id, ChangeStatus.APPROVED, today=TODAY)
    shown = svc.show_project(session, REF, today=TODAY)
    assert shown.datasets == ("idbr",) and shown.former_datasets == ("ashe",)
    assert shown.members == ("tom",) and shown.former_members == ("sam",)


def test_outsider_cannot_request_and_bad_requests_write_nothing(
    session: Session, world: World
) -> None:
    _approved(session)
    before = _events(session)
    with pytest.raises(AccessDenied):
        svc.request_change(
            session,
            actor(session, "sam"),  # a member, but not the lead
            REF,
            ChangeRequest(ChangeKind.CLOSE, "done"),
        )
    with pytest.raises(NotFoundError, match="nosuch"):
        svc.request_change(
            session,
            actor(session, "rita"),
            REF,
            ChangeRequest(ChangeKind.CHANGE_SCOPE, "x", add_datasets=("nosuch",)),
        )
    with pytest.raises(ValidationError, match="not after the current end"):
        svc.request_change(
            session,
            actor(session, "rita"),
            REF,
            ChangeRequest(ChangeKind.EXTEND, "x", new_end=PROPOSAL.start),
        )
    assert _events(session) == before
    assert session.scalar(select(func.count(ProjectChangeRow.id))) == 0


def test_close_by_request_then_no_more_changes(session: Session, world: World) -> None:
    _approved(session)
    rita, hana = actor(session, "rita"), actor(session, "hana")
    change = svc.request_change(session, rita, REF, ChangeRequest(ChangeKind.CLOSE, "finished"))
    svc.decide_change(session, hana, change.id, ChangeStatus.APPROVED, today=TODAY)
    view = svc.show_project(session, REF, today=TODAY)
    assert view.status == "closed" and view.closed_at is not None
    assert "project.close" in [e.action for e in query_events(session, subject=REF)]
    with pytest.raises(ValidationError, match="closed") as info:
        svc.request_change(
            session,
            rita,
            REF,
            ChangeRequest(ChangeKind.EXTEND, "more", new_end=PROPOSAL.end + timedelta(days=9)),
        )
    assert "new project" in (info.value.hint or "")


def test_pending_change_cannot_be_approved_after_close(session: Session, world: World) -> None:
    _approved(session)
    rita, hana = actor(session, "rita"), actor(session, "hana")
    change = svc.request_change(
        session,
        rita,
        REF,
        ChangeRequest(ChangeKind.EXTEND, "more", new_end=PROPOSAL.end + timedelta(days=9)),
    )
    svc.close_project(session, hana, REF, "ended early", today=TODAY)
    with pytest.raises(ValidationError, match="closed"):
        svc.decide_change(session, hana, change.id, ChangeStatus.APPROVED, today=TODAY)
    svc.decide_change(session, hana, change.id, ChangeStatus.REJECTED, "closed", today=TODAY)
    with pytest.raises(ValidationError, match="cannot close"):
        svc.close_project(session, hana, REF, "again", today=TODAY)


def test_only_an_approver_closes_directly(session: Session, world: World) -> None:
    _approved(session)
    with pytest.raises(AccessDenied):
        svc.close_project(session, actor(session, "rita"), REF, "done", today=TODAY)
    view = svc.close_project(session, actor(session, "hana"), REF, "done", today=TODAY)
    assert view.status == "closed"
    assert [(c.kind, c.status, c.decided_by) for c in view.changes] == [
        ("close", "approved", "hana")
    ]


def test_an_untrained_unsigned_approver_cannot_approve_a_project(
    session: Session, world: World
) -> None:
    # Approving opens the datasets to the team: the approver passes the analyst's checks.
    person(session, "hugo", "head_of_profession")  # neither trained nor signed
    _propose(session)
    with pytest.raises(AccessDenied, match="hugo may not approve project") as info:
        svc.decide_project(session, actor(session, "hugo"), REF, ProjectAction.APPROVE, today=TODAY)
    reasons = " ".join(info.value.reasons)
    assert "training" in reasons and "declaration" in reasons
    assert svc.show_project(session, REF, today=TODAY).status == "proposed"
    # hana is trained and signed (the world's approvers are): she may.
    approved = svc.decide_project(
        session, actor(session, "hana"), REF, ProjectAction.APPROVE, today=TODAY
    )
    assert approved.status == "active"
    qualify = [e for e in query_events(session, subject="hana") if e.action == "people.qualify"]
    assert qualify and qualify[-1].details["for"] == f"approve project {REF}"


def test_an_approver_whose_training_expired_cannot_approve_a_change(
    session: Session, world: World
) -> None:
    from research_world import MANDATORY_COURSE, complete, person, sign

    hugo = person(session, "hugo", "head_of_profession")
    complete(session, hugo, MANDATORY_COURSE, TODAY)  # valid until yesterday
    sign(session, hugo, 1)
    _approved(session)
    change = svc.request_change(
        session,
        actor(session, "rita"),
        REF,
        ChangeRequest(ChangeKind.CHANGE_SCOPE, "more data", add_datasets=("idbr",)),
        today=TODAY,
    )
    with pytest.raises(AccessDenied, match="not valid"):
        svc.decide_change(
            session, actor(session, "hugo"), change.id, ChangeStatus.APPROVED, today=TODAY
        )
    svc.decide_change(
        session, actor(session, "hana"), change.id, ChangeStatus.APPROVED, today=TODAY
    )


def test_the_active_projects_covering_a_dataset_leave_out_former_scope_and_team(
    session: Session, world: World
) -> None:
    # what release submit takes for a researcher who names no project: only a project
    # active that day, with them on the team and the dataset in scope, counts
    from fivesafes.services.research.facts import active_projects_covering

    _approved(session)
    assert active_projects_covering(session, world.rita.id, "ashe", TODAY) == (REF,)
    assert active_projects_covering(session, world.sam.id, "ashe", TODAY) == (REF,)
    assert active_projects_covering(session, world.rita.id, "idbr", TODAY) == ()
    assert (
        active_projects_covering(session, world.rita.id, "ashe", PROPOSAL.end + timedelta(1)) == ()
    )
    rita, hana = actor(session, "rita"), actor(session, "hana")
    for change in (
        ChangeRequest(
            ChangeKind.CHANGE_SCOPE, "swap", add_datasets=("idbr",), remove_datasets=("ashe",)
        ),
        ChangeRequest(ChangeKind.CHANGE_TEAM, "out", remove_members=("sam",)),
    ):
        view = svc.request_change(session, rita, REF, change, today=TODAY)
        svc.decide_change(session, hana, view.id, ChangeStatus.APPROVED, today=TODAY)
    assert active_projects_covering(session, world.rita.id, "ashe", TODAY) == ()
    assert active_projects_covering(session, world.rita.id, "idbr", TODAY) == (REF,)
    assert active_projects_covering(session, world.sam.id, "idbr", TODAY) == ()
    svc.close_project(session, hana, REF, "done", today=TODAY)
    assert active_projects_covering(session, world.rita.id, "idbr", TODAY) == ()
