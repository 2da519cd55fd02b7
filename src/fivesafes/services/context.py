"""Who is acting, and the one way services write to the audit log.

The acting person is the login (``fivesafes.workspace.identity.current_login``) mapped to a
registered, active person. Every service that changes anything calls
:func:`record` inside the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from fivesafes.audit import log as audit_log
from fivesafes.audit.events import AuditEvent, Outcome
from fivesafes.errors import IdentityError
from fivesafes.governance.people import Person, PersonStatus
from fivesafes.governance.roles import Role
from fivesafes.store.models.governance import PersonRoleRow, PersonRow

SYSTEM = "system"  # the actor of steps fivesafes takes by itself (e.g. lapsing grants)


@dataclass(frozen=True)
class Actor:
    """The registered person on whose behalf a service acts."""

    id: int
    person: Person

    @property
    def login(self) -> str:
        """The actor's login."""
        return self.person.login


def person_of(row: PersonRow) -> Person:
    """Return the domain view of a person row."""
    return Person(
        login=row.login,
        name=row.name,
        roles=frozenset(Role(r.role) for r in row.roles),
        status=PersonStatus(row.status),
    )


_ACTOR = (
    select(PersonRow.id, PersonRow.name, PersonRow.status, PersonRoleRow.role)
    .outerjoin(PersonRoleRow, PersonRoleRow.person_id == PersonRow.id)
    .where(PersonRow.login == bindparam("login"))
)


def resolve_actor(session: Session, login: str) -> Actor:
    """Return the active registered person with ``login``, or raise IdentityError."""
    # One Core query, built once: every command and every access check starts here.
    rows = session.connection().execute(_ACTOR, {"login": login}).all()
    if not rows:
        raise IdentityError(
            f"login {login!r} is not a registered person",
            hint="ask an administrator to register you: fivesafes people add LOGIN --name NAME",
        )
    row = rows[0]
    if row.status != PersonStatus.ACTIVE:
        raise IdentityError(
            f"{login} is registered as a leaver and can no longer act",
            hint="ask an administrator if this is a mistake",
        )
    roles = frozenset(Role(r.role) for r in rows if r.role is not None)
    return Actor(row.id, Person(login, row.name, roles, PersonStatus(row.status)))


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def today_or(today: date | None) -> date:
    """Return ``today`` if given, else the current UTC date."""
    return today if today is not None else now().date()


def record(
    session: Session,
    actor: str,
    action: str,
    *,
    outcome: Outcome = Outcome.DONE,
    area: str | None = None,
    dataset: str | None = None,
    subject: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event to the log in the caller's transaction; the event appended."""
    event = AuditEvent(
        action=action,
        actor=actor,
        outcome=outcome,
        area=area,
        dataset=dataset,
        subject=subject,
        details=details or {},
    )
    # Through the module, so that a test can spy on every write to the log.
    audit_log.append_event(session, event)
    return event
