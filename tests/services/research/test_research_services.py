"""Accreditations and researcher_facts on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from research_world import (  # noqa: F401
    TODAY,
    World,
    actor,
    build,
    complete,
    person,
    research_engine_fixture,
    rolled_back_session,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fivesafes.audit.log import query_events
from fivesafes.errors import AccessDenied, ConflictError, NotFoundError, ValidationError
from fivesafes.governance.access import AccessFacts, GrantFact, ReasonCode, decide_access
from fivesafes.governance.grants import GrantState
from fivesafes.governance.research import (
    SAFE_RESEARCHER_COURSE,
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
from fivesafes.services.research import facts as svc
from fivesafes.services.research import projects, researchers
from fivesafes.store.models.governance import CourseRow
from fivesafes.store.models.research import AccreditationRow


@pytest.fixture
def session(research_engine: Engine) -> Iterator[Session]:
    # One migrated database per module; each test's writes are rolled back.
    yield from rolled_back_session(research_engine)


@pytest.fixture
def world(session: Session) -> World:
    return build(session)


def _accredit(session: Session, login: str = "rita", **kw: object) -> researchers.AccreditationView:
    args: dict[str, object] = {
        "body": "UK Statistics Authority",
        "reference": f"ACC-{login}",
        "level": AccreditationLevel.FULL,
        "today": TODAY,
    }
    args.update(kw)
    return researchers.accredit(session, actor(session, "admin"), login, **args)  # type: ignore[arg-type]


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count(AccreditationRow.id))) or 0)


def test_accredit_full_defaults_to_five_years_and_is_audited(
    session: Session, world: World
) -> None:
    view = _accredit(session)
    assert view.granted == TODAY
    assert view.expires == date(2031, 6, 14)
    assert view.valid_today and view.level == "full"
    events = query_events(session, action="researcher.accredit")
    assert [(e.actor, e.subject) for e in events] == [("admin", "rita")]
    shown = researchers.show_researcher(session, "rita", today=TODAY)
    assert shown.accredited and len(shown.history) == 1
    assert shown.current is not None and shown.current.reference == view.reference
    assert [r.login for r in researchers.list_researchers(session, today=TODAY)] == ["rita"]
    assert shown.to_dict()["current"]["expires"] == "2031-06-14"


def test_provisional_needs_a_supervisor_and_nothing_is_written(
    session: Session, world: World
) -> None:
    with pytest.raises(ValidationError, match="supervisor"):
        _accredit(session, level=AccreditationLevel.PROVISIONAL)
    assert _count(session) == 0
    assert query_events(session, action="researcher.accredit") == []


def test_provisional_with_staff_supervisor(session: Session, world: World) -> None:
    view = _accredit(session, level=AccreditationLevel.PROVISIONAL, supervisor="sam")
    assert view.supervisor == "sam"
    assert view.expires == date(2029, 6, 14)
    assert researchers.show_researcher(session, "rita", today=TODAY).supervisor_ok


def test_supervisor_must_be_staff_or_fully_accredited(session: Session, world: World) -> None:
    person(session, "rob", "approved_researcher")
    with pytest.raises(ValidationError, match="neither staff nor a fully accredited"):
        _accredit(session, level=AccreditationLevel.PROVISIONAL, supervisor="rob")
    _accredit(session, "rob")  # now rob is fully accredited and may supervise
    _accredit(session, level=AccreditationLevel.PROVISIONAL, supervisor="rob")


@pytest.mark.parametrize("login", ["rita", "sam"])
def test_only_admin_or_head_of_profession_records_and_never_their_own(
    session: Session, world: World, login: str
) -> None:
    # rita would be recording her own; sam is a statistician
    with pytest.raises(AccessDenied):
        researchers.accredit(
            session,
            actor(session, login),
            "rita",
            body="UKSA",
            reference="X",
            level=AccreditationLevel.FULL,
            today=TODAY,
        )
    assert _count(session) == 0


def test_unknown_researcher(session: Session, world: World) -> None:
    with pytest.raises(NotFoundError, match="nobody"):
        _accredit(session, "nobody")


def test_person_without_researcher_role_is_refused(session: Session, world: World) -> None:
    with pytest.raises(ValidationError, match="approved_researcher role") as info:
        _accredit(session, "sam")
    assert "fivesafes people roles sam" in (info.value.hint or "")


def test_duplicate_reference_and_future_grant_are_refused(session: Session, world: World) -> None:
    _accredit(session)
    with pytest.raises(ConflictError):
        _accredit(session)
    with pytest.raises(ValidationError, match="future"):
        _accredit(session, reference="NEW", granted=TODAY + timedelta(days=1))
    with pytest.raises(ValidationError, match="at most 5 years"):
        _accredit(session, reference="NEW", expires=TODAY + timedelta(days=5 * 366))


# --- researcher_facts + decide_access ------------------------------------------------


def _project(session: Session, ref: str = "PRJ-1", **kw: object) -> None:
    fields: dict[str, object] = {
        "reference": ref,
        "title": "Earnings",
        "purpose": "Regional earnings statistics",
        "purpose_category": "statistical",
        "public_benefit": "Better policy",
        "datasets": ("ashe",),
        "start": TODAY - timedelta(days=10),
        "end": TODAY + timedelta(days=100),
        "lead": "rita",
        "members": (),
    }
    fields.update(kw)
    projects.propose_project(
        session,
        actor(session, "rita"),
        ProjectProposal(**fields),
        today=TODAY,  # type: ignore[arg-type]
    )
    projects.decide_project(
        session, actor(session, "hana"), ref, ProjectAction.APPROVE, today=TODAY
    )


def _decide(session: Session, facts: svc.ResearcherFacts, dataset: str = "ashe") -> set[str]:
    access = AccessFacts(
        person="rita",
        dataset=dataset,
        purpose="statistical",
        person_known=True,
        person_active=True,
        approved_researcher=True,
        dataset_area="earnings",
        current_declaration=None,
        grants=(GrantFact("earnings", GrantState.APPROVED, TODAY, TODAY),),
        researcher=facts,
    )
    codes = decide_access(access, TODAY).codes - {ReasonCode.NO_DECLARATION_PUBLISHED}
    return {c.value for c in codes}


def test_facts_allow_an_accredited_member_of_an_active_project(
    session: Session, world: World
) -> None:
    _accredit(session)
    _project(session)
    facts = svc.researcher_facts(session, "rita", "ashe", "PRJ-1", TODAY)
    assert facts.project_active and facts.project_includes_person
    assert facts.project_includes_dataset and facts.safe_researcher_training_valid
    assert _decide(session, facts) == set()


def test_facts_deny_by_default(session: Session, world: World) -> None:
    facts = svc.researcher_facts(session, "ghost", "nope", None, TODAY)
    assert facts.accreditation_level is None and not facts.supervisor_ok
    assert not (facts.project_active or facts.project_includes_person)
    assert _decide(session, facts) == {
        "accreditation_not_valid",
        "safe_researcher_training_not_valid",
        "no_active_project",
        "project_excludes_person",
        "project_excludes_dataset",
    }


def test_facts_for_unknown_project_dataset_out_of_scope_and_non_member(
    session: Session, world: World
) -> None:
    _accredit(session)
    _project(session)
    unknown = svc.researcher_facts(session, "rita", "ashe", "PRJ-404", TODAY)
    assert _decide(session, unknown) >= {"no_active_project"}
    assert _decide(session, svc.researcher_facts(session, "rita", "idbr", "PRJ-1", TODAY)) == {
        "project_excludes_dataset"
    }
    rob = person(session, "rob", "approved_researcher")
    _accredit(session, "rob")
    complete(session, rob, SAFE_RESEARCHER_COURSE, TODAY + timedelta(days=30))
    facts = svc.researcher_facts(session, "rob", "ashe", "PRJ-1", TODAY)
    assert _decide(session, facts) == {"project_excludes_person"}


def test_facts_project_not_active_before_start_after_end_or_closed(
    session: Session, world: World
) -> None:
    _accredit(session)
    _project(session, start=TODAY + timedelta(days=5), end=TODAY + timedelta(days=50))
    before = svc.researcher_facts(session, "rita", "ashe", "PRJ-1", TODAY)
    assert _decide(session, before) == {"no_active_project"}
    during = svc.researcher_facts(session, "rita", "ashe", "PRJ-1", TODAY + timedelta(days=5))
    assert during.project_active
    after = svc.researcher_facts(session, "rita", "ashe", "PRJ-1", TODAY + timedelta(days=51))
    assert not after.project_active
    projects.close_project(session, actor(session, "hana"), "PRJ-1", "done", today=TODAY)
    closed = svc.researcher_facts(session, "rita", "ashe", "PRJ-1", TODAY + timedelta(days=6))
    assert not closed.project_active


def test_facts_lapsed_accreditation_denies(session: Session, world: World) -> None:
    _accredit(session, granted=date(2020, 1, 1), expires=date(2024, 12, 31))
    facts = svc.researcher_facts(session, "rita", "ashe", None, TODAY)
    assert facts.accreditation_expires == date(2024, 12, 31)
    assert "accreditation_not_valid" in _decide(session, facts)


def test_facts_provisional_whose_supervisor_left_denies(session: Session, world: World) -> None:
    _accredit(session, level=AccreditationLevel.PROVISIONAL, supervisor="sam")
    _project(session)
    assert _decide(session, svc.researcher_facts(session, "rita", "ashe", "PRJ-1", TODAY)) == set()
    world.sam.status = "leaver"
    session.flush()
    facts = svc.researcher_facts(session, "rita", "ashe", "PRJ-1", TODAY)
    assert not facts.supervisor_ok
    assert _decide(session, facts) == {"supervisor_missing"}


def test_facts_removed_member_and_removed_dataset_deny(session: Session, world: World) -> None:
    _accredit(session)
    person(session, "rob", "approved_researcher")
    _accredit(session, "rob")
    _project(session, members=("rob",), datasets=("ashe", "idbr"))
    hana = actor(session, "hana")
    rita = actor(session, "rita")
    for change in (
        ChangeRequest(ChangeKind.CHANGE_TEAM, "rob moved on", remove_members=("rob",)),
        ChangeRequest(ChangeKind.CHANGE_SCOPE, "no longer needed", remove_datasets=("idbr",)),
    ):
        view = projects.request_change(session, rita, "PRJ-1", change, today=TODAY)
        projects.decide_change(session, hana, view.id, ChangeStatus.APPROVED, today=TODAY)
    assert not svc.researcher_facts(session, "rob", "ashe", "PRJ-1", TODAY).project_includes_person
    assert not svc.researcher_facts(
        session, "rita", "idbr", "PRJ-1", TODAY
    ).project_includes_dataset
    assert svc.researcher_facts(session, "rita", "ashe", "PRJ-1", TODAY).project_includes_dataset


def test_facts_without_safe_researcher_training_deny(session: Session, world: World) -> None:
    person(session, "rob", "approved_researcher")
    _accredit(session, "rob")
    _accredit(session)
    never = svc.researcher_facts(session, "rob", "ashe", None, TODAY)
    assert not never.safe_researcher_training_valid
    assert "safe_researcher_training_not_valid" in _decide(session, never)
    # rita's completion expires 400 days from TODAY: that day it no longer counts
    assert svc.researcher_facts(session, "rita", "ashe", None, TODAY).safe_researcher_training_valid
    lapsed = svc.researcher_facts(session, "rita", "ashe", None, TODAY + timedelta(days=400))
    assert not lapsed.safe_researcher_training_valid


def test_new_supervisor_restores_a_provisional_researcher(session: Session, world: World) -> None:
    _accredit(session, level=AccreditationLevel.PROVISIONAL, supervisor="sam")
    world.sam.status = "leaver"
    session.flush()
    assert not svc.researcher_facts(session, "rita", "ashe", None, TODAY).supervisor_ok
    admin = actor(session, "admin")
    with pytest.raises(ValidationError, match="neither staff"):
        person(session, "rob", "approved_researcher")
        researchers.change_supervisor(session, admin, "rita", "rob", today=TODAY)
    view = researchers.change_supervisor(session, admin, "rita", "hana", today=TODAY)
    assert view.supervisor == "hana"
    assert svc.researcher_facts(session, "rita", "ashe", None, TODAY).supervisor_ok
    events = query_events(session, action="researcher.supervisor")
    assert len(events) == 1 and '"from":"sam"' in events[0].details_text.replace(" ", "")
    with pytest.raises(ConflictError):
        researchers.change_supervisor(session, admin, "rita", "hana", today=TODAY)


def test_full_accreditation_has_no_supervisor_to_change(session: Session, world: World) -> None:
    _accredit(session)
    with pytest.raises(ValidationError, match="no provisional"):
        researchers.change_supervisor(session, actor(session, "admin"), "rita", "sam", today=TODAY)


def test_access_check_end_to_end_uses_researcher_facts(session: Session, world: World) -> None:
    from research_world import grant, sign

    from fivesafes.services.governance.access import check_access

    sign(session, world.rita, 1)  # version 1 is published by the world (approvers signed it)
    grant(
        session, world.rita, world.earnings, TODAY - timedelta(days=1), TODAY + timedelta(days=30)
    )
    _accredit(session)
    _project(session)
    admin = actor(session, "admin")
    allowed = check_access(session, admin, "rita", "ashe", "statistical", TODAY, "PRJ-1")
    assert allowed.allowed, allowed.reasons
    denied = check_access(session, admin, "rita", "ashe", "statistical", TODAY, None)
    assert {r.code.value for r in denied.reasons} == {
        "no_active_project",
        "project_excludes_person",
        "project_excludes_dataset",
    }
    later = TODAY + timedelta(days=101)  # the project has ended; the grant too
    codes = {
        r.code.value
        for r in check_access(session, admin, "rita", "ashe", "statistical", later, "PRJ-1").reasons
    }
    assert {"no_active_project", "no_active_grant"} <= codes
    events = query_events(session, action="access.decide")
    assert [e.outcome for e in events] == ["allowed", "denied", "denied"]


def test_migration_0003_seeds_the_course_once_and_downgrades(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from fivesafes.store.db import MIGRATIONS_DIR, make_engine, migrate, table_names

    engine = make_engine(db_url)
    try:
        migrate(engine)
        assert {"accreditations", "projects", "project_changes", "reviews"} <= table_names(engine)

        def courses() -> list[tuple[str, int, bool]]:
            with engine.connect() as conn:
                return [
                    (r.name, r.validity_months, bool(r.mandatory))
                    for r in conn.execute(
                        select(CourseRow).where(CourseRow.name == SAFE_RESEARCHER_COURSE)
                    )
                ]

        assert courses() == [(SAFE_RESEARCHER_COURSE, 60, False)]
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        assert not {"accreditations", "projects", "reviews"} & table_names(engine)
        migrate(engine)  # up again: the course is still there and not seeded twice
        assert courses() == [(SAFE_RESEARCHER_COURSE, 60, False)]
    finally:
        engine.dispose()
