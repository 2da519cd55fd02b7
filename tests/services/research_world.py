"""A small register for the research and review tests, built directly from rows.

Rows, not GOVERNANCE's services, so that these tests set any state they need
(a leaver who still holds a grant, a grant that ended long ago, ...).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from fivesafes.governance.research import (
    SAFE_RESEARCHER_COURSE,
)
from fivesafes.governance.training import MANDATORY_COURSE
from fivesafes.services.context import Actor, resolve_actor
from fivesafes.store.db import make_engine, migrate, session_factory
from fivesafes.store.models.governance import (
    AreaRow,
    CompletionRow,
    CourseRow,
    DatasetRow,
    DeclarationVersionRow,
    GrantRow,
    PersonRoleRow,
    PersonRow,
    SignatureRow,
)

TODAY = date(2026, 6, 15)
AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PG_CANDIDATES = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_server() -> str:
    override = os.environ.get("FIVESAFES_TEST_PG_URL", "").strip()
    for url in (override,) if override else PG_CANDIDATES:
        try:
            with psycopg.connect(_libpq(url), connect_timeout=3):
                return url
        except psycopg.Error:
            continue
    pytest.skip("no PostgreSQL server answered (set FIVESAFES_TEST_PG_URL)")


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    name="research_engine",
)
def research_engine_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database per test module and backend (migrating per test is slow)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('research') / 'test.db'}")
        migrate(engine)
        yield engine
        engine.dispose()
        return
    server = _pg_server()
    schema = f"fs_research_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(server), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(server).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(_libpq(server), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (schema,),
            )
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def rolled_back_session(engine: Engine) -> Iterator[Session]:
    """A session whose whole test runs in one transaction that is rolled back at the end."""
    with session_factory(engine)() as session:
        try:
            yield session
        finally:
            session.rollback()


def person(session: Session, login: str, *roles: str, status: str = "active") -> PersonRow:
    """Register ``login`` with ``roles``."""
    row = PersonRow(login=login, name=login.title(), status=status, registered_at=AT)
    row.roles = [PersonRoleRow(role=r) for r in roles]
    session.add(row)
    session.flush()
    return row


def area(session: Session, name: str, owner: PersonRow) -> AreaRow:
    """Create restricted area ``name`` owned by ``owner``."""
    row = AreaRow(name=name, owner_id=owner.id, description="", created_at=AT)
    session.add(row)
    session.flush()
    return row


def dataset(session: Session, name: str, in_area: AreaRow) -> DatasetRow:
    """Register confidential dataset ``name`` in ``in_area``."""
    row = DatasetRow(
        name=name,
        area_id=in_area.id,
        identifiable=True,
        not_public=True,
        harmful=True,
        source="survey",
        lawful_basis="SRSA 2007",
        registered_at=AT,
        registered_by="admin",
    )
    session.add(row)
    session.flush()
    return row


def course(session: Session, name: str) -> CourseRow:
    """The course called ``name`` (seeded by the migrations)."""
    return session.scalars(select(CourseRow).where(CourseRow.name == name)).one()


def complete(session: Session, who: PersonRow, course_name: str, expires: date) -> None:
    """Record that ``who`` completed ``course_name``, valid until ``expires`` (exclusive)."""
    session.add(
        CompletionRow(
            person_id=who.id,
            course_id=course(session, course_name).id,
            completed_on=min(expires, TODAY) - timedelta(days=400),  # in the past for any today
            expires_on=expires,
            recorded_at=AT,
            # an administrator's own completion is recorded by another (the review lists
            # self-recorded training: governance/review.py)
            recorded_by="admin" if who.login != "admin" else "deputy",
        )
    )
    session.flush()


def grant(
    session: Session, who: PersonRow, to: AreaRow, start: date, end: date, state: str = "approved"
) -> GrantRow:
    """A grant of ``who`` to ``to`` from ``start`` to ``end`` (inclusive)."""
    row = GrantRow(
        person_id=who.id,
        area_id=to.id,
        purpose="statistical",
        justification="need to know",
        requester_id=who.id,
        approver_id=to.owner_id,
        state=state,
        start_on=start,
        end_on=end,
        requested_at=AT,
    )
    session.add(row)
    session.flush()
    return row


def publish(session: Session, version: int) -> None:
    """Publish declaration ``version``."""
    session.add(
        DeclarationVersionRow(
            version=version,
            text=f"declaration v{version}",
            text_hash="0" * 64,
            published_at=AT,
            published_by="admin",
        )
    )
    session.flush()


def sign(session: Session, who: PersonRow, version: int) -> None:
    """``who`` signs declaration ``version``."""
    session.add(SignatureRow(person_id=who.id, version=version, text_hash="0" * 64, signed_at=AT))
    session.flush()


def actor(session: Session, login: str) -> Actor:
    """The acting person ``login``."""
    return resolve_actor(session, login)


@dataclass
class World:
    """Who and what the research tests use."""

    admin: PersonRow
    hop: PersonRow  # head of profession
    iao: PersonRow  # owns area "earnings"
    iao2: PersonRow  # owns area "business"
    sam: PersonRow  # statistician (staff)
    rita: PersonRow  # approved researcher, to be accredited by the tests
    earnings: AreaRow
    business: AreaRow
    ashe: DatasetRow  # in earnings
    idbr: DatasetRow  # in business


def build(session: Session, today: date = TODAY, *, approvers_ready: bool = True) -> World:
    """People, two areas with one dataset each; rita has valid safe-researcher training.

    ``approvers_ready``: declaration 1 published, the approvers trained and signed (they
    decide on access); False leaves the register before any declaration."""
    admin = person(session, "admin", "administrator")
    hop = person(session, "hana", "head_of_profession")
    iao = person(session, "iona", "information_asset_owner")
    iao2 = person(session, "ivan", "information_asset_owner")
    sam = person(session, "sam", "statistician")
    rita = person(session, "rita", "approved_researcher")
    earnings = area(session, "earnings", iao)
    business = area(session, "business", iao2)
    world = World(
        admin,
        hop,
        iao,
        iao2,
        sam,
        rita,
        earnings,
        business,
        dataset(session, "ashe", earnings),
        dataset(session, "idbr", business),
    )
    complete(session, rita, SAFE_RESEARCHER_COURSE, today + timedelta(days=400))
    complete(session, rita, MANDATORY_COURSE, today + timedelta(days=300))
    if not approvers_ready:  # a register before any declaration (the review's findings)
        return world
    # Approvers decide on access: trained and signed, like analysts (issue 14).
    publish(session, 1)
    for approver in (hop, iao, iao2):
        complete(session, approver, MANDATORY_COURSE, today + timedelta(days=300))
        sign(session, approver, 1)
    return world
