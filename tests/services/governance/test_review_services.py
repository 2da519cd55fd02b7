"""Access reviews and the periodic review report, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from research_world import (  # noqa: F401
    TODAY,
    World,
    actor,
    build,
    complete,
    grant,
    person,
    publish,
    research_engine_fixture,
    rolled_back_session,
    sign,
)
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fivesafes.audit.log import query_events
from fivesafes.errors import AccessDenied
from fivesafes.governance.research import (
    AccreditationLevel,
)
from fivesafes.governance.research_projects import (
    ProjectAction,
    ProjectProposal,
)
from fivesafes.governance.review import Category
from fivesafes.governance.training import MANDATORY_COURSE
from fivesafes.services.governance import review as svc
from fivesafes.services.research import projects as research_projects
from fivesafes.services.research import researchers
from fivesafes.store.models.governance import AreaCourseRow, CourseRow
from fivesafes.store.models.research import ReviewRow


def _day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


@pytest.fixture
def session(research_engine: Engine) -> Iterator[Session]:
    # One migrated database per module; each test's writes are rolled back.
    yield from rolled_back_session(research_engine)


@pytest.fixture
def world(session: Session) -> World:
    w = build(session, approvers_ready=False)
    publish(session, 1)
    for p in (w.admin, w.hop, w.iao, w.iao2, w.sam, w.rita):
        sign(session, p, 1)
        if p is not w.rita:
            complete(session, p, MANDATORY_COURSE, _day(300))
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


def _found(session: Session, within: int = 30) -> set[tuple[str, str, str]]:
    result = svc.review_access(session, today=TODAY, within_days=within)
    return {(f.category.value, f.subject, f.item) for f in result.findings}


def test_a_tidy_register_has_no_findings(session: Session, world: World) -> None:
    assert _found(session) == set()


def test_grants_leavers_and_overdue(session: Session, world: World) -> None:
    due = grant(session, world.sam, world.earnings, _day(-300), _day(20))
    later = grant(session, world.sam, world.business, _day(-300), _day(200))
    overdue = grant(session, world.hop, world.earnings, _day(-300), _day(-3))
    lee = person(session, "lee", "statistician", status="leaver")
    kept = grant(session, lee, world.earnings, _day(-10), _day(100))
    grant(session, world.sam, world.earnings, _day(-10), _day(5), state="revoked")
    found = _found(session)
    assert ("grant_due", "sam", str(due.id)) in found
    assert ("grant_overdue", "hana", str(overdue.id)) in found
    assert ("leaver_with_grant", "lee", str(kept.id)) in found
    assert not any(item == str(later.id) for _, _, item in found)
    assert ("grant_due", "sam", str(later.id)) in _found(session, within=365)
    grants_found = {f for f in found if f[0].startswith(("grant", "leaver"))}
    assert len(grants_found) == 3  # the revoked one is not listed


def test_training_required_by_role_area_and_grant(session: Session, world: World) -> None:
    extra = CourseRow(name="Earnings data", validity_months=12, mandatory=False)
    session.add(extra)
    session.flush()
    world.earnings.courses.append(AreaCourseRow(area_id=world.earnings.id, course_id=extra.id))
    grant(session, world.sam, world.earnings, _day(-30), _day(200))
    person(session, "newbie", "statistician")
    complete(session, world.hop, "Earnings data", _day(10))  # not required: hana holds no grant
    found = _found(session)
    assert ("training_missing", "sam", "Earnings data") in found  # required by the area
    assert ("training_missing", "newbie", MANDATORY_COURSE) in found
    assert not any(s == "hana" for c, s, _ in found if c.startswith("training"))
    complete(session, world.sam, "Earnings data", _day(0))  # expires today: no longer valid
    complete(session, world.iao, MANDATORY_COURSE, _day(0))
    found = _found(session)
    assert ("training_expired", "sam", "Earnings data") in found
    # iona's latest completion counts: the older one expiring later is still the best
    assert not any(c == "training_expired" and s == "iona" for c, s, _ in found)


def test_training_expiring_and_safe_researcher_for_researchers(
    session: Session, world: World
) -> None:
    rob = person(session, "rob", "approved_researcher")
    complete(session, rob, MANDATORY_COURSE, _day(12))
    sign(session, rob, 1)
    found = _found(session)
    assert ("training_expiring", "rob", MANDATORY_COURSE) in found
    assert ("training_missing", "rob", "Safe researcher training") in found
    assert ("accreditation_lapsed", "rob", "none") in found


def test_no_declaration_published_is_one_finding(session: Session) -> None:
    build(session, approvers_ready=False)
    found = _found(session)
    assert ("no_declaration", "everyone", "none") in found
    assert not any(c == "declaration_unsigned" for c, _, _ in found)


def test_unsigned_current_declaration(session: Session, world: World) -> None:
    publish(session, 2)
    sign(session, world.sam, 2)
    found = {s for c, s, _ in _found(session) if c == "declaration_unsigned"}
    assert found == {"admin", "hana", "iona", "ivan", "rita"}


def test_accreditation_and_project_findings(session: Session, world: World) -> None:
    rob = person(session, "rob", "approved_researcher")
    complete(session, rob, MANDATORY_COURSE, _day(300))
    complete(session, rob, "Safe researcher training", _day(300))
    sign(session, rob, 1)
    admin = actor(session, "admin")
    researchers.accredit(
        session,
        admin,
        "rob",
        body="UKSA",
        reference="ACC-OLD",
        level=AccreditationLevel.PROVISIONAL,
        granted=date(2023, 7, 1),
        supervisor="sam",
        today=TODAY,
    )
    research_projects.propose_project(
        session,
        actor(session, "rita"),
        ProjectProposal(
            "PRJ-1", "t", "p", "statistical", "b", ("ashe",), _day(-400), _day(-1), "rita"
        ),
        today=TODAY,
    )
    research_projects.decide_project(
        session, actor(session, "hana"), "PRJ-1", ProjectAction.APPROVE, today=TODAY
    )
    world.sam.status = "leaver"  # rob's supervisor leaves
    session.flush()
    found = _found(session)
    assert ("accreditation_expiring", "rob", "ACC-OLD") in found  # valid until 2026-06-30
    assert ("supervisor_missing", "rob", "ACC-OLD") in found
    assert ("project_past_end", "PRJ-1", "PRJ-1") in found
    research_projects.close_project(session, actor(session, "hana"), "PRJ-1", "done", today=TODAY)
    assert not any(c.startswith("project") for c, _, _ in _found(session))


def test_report_is_written_hashed_and_audited(
    session: Session, world: World, tmp_path: Path
) -> None:
    grant(session, world.hop, world.earnings, _day(-300), _day(-3))
    out = tmp_path / "reviews"
    rec = svc.carry_out_review(session, actor(session, "admin"), out, today=TODAY, within_days=45)
    md, html = Path(rec.markdown_path), Path(rec.html_path)
    assert md.name == "review-2026-06-15.md" and html.name == "review-2026-06-15.html"
    assert hashlib.sha256(md.read_bytes()).hexdigest() == rec.markdown_sha256
    assert hashlib.sha256(html.read_bytes()).hexdigest() == rec.html_sha256
    assert rec.counts[Category.GRANT_OVERDUE.value] == 1 and rec.findings_total == 1
    text = md.read_text()
    assert "2026-06-15" in text and "45 days" in text and "admin" in text
    assert "<svg" in html.read_text() and "<svg" not in text
    stored = session.scalars(select(ReviewRow)).one()
    assert stored.markdown_sha256 == rec.markdown_sha256
    events = query_events(session, action="review.record")
    assert len(events) == 1 and events[0].actor == "admin"
    assert rec.markdown_sha256 in events[0].details_text
    assert not list(out.glob(".*.tmp"))


def test_review_needs_a_reviewer_role(session: Session, world: World, tmp_path: Path) -> None:
    with pytest.raises(AccessDenied, match="periodic review"):
        svc.carry_out_review(session, actor(session, "rita"), tmp_path / "r", today=TODAY)
    assert not (tmp_path / "r").exists()
    assert session.scalar(select(func.count(ReviewRow.id))) == 0


def test_a_second_review_the_same_day_keeps_the_first_report(
    session: Session, world: World, tmp_path: Path
) -> None:
    admin = actor(session, "admin")
    first = svc.carry_out_review(session, admin, tmp_path, today=TODAY)
    before = Path(first.markdown_path).read_bytes()
    grant(session, world.hop, world.earnings, _day(-300), _day(-3))
    second = svc.carry_out_review(session, admin, tmp_path, today=TODAY)
    assert Path(second.markdown_path).name == "review-2026-06-15-2.md"
    assert Path(first.markdown_path).read_bytes() == before
    assert second.markdown_sha256 != first.markdown_sha256
