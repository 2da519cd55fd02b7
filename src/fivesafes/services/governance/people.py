"""Register people, change their roles, mark leavers (who lose all access at once)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError, ValidationError
from fivesafes.governance import permissions
from fivesafes.governance.grants import GrantState, GrantStep, transition
from fivesafes.governance.people import Person, PersonStatus, validate_login, validate_name
from fivesafes.governance.roles import Role
from fivesafes.services.context import SYSTEM, Actor, now, person_of, record
from fivesafes.services.governance.declarations import current_version_number, signed_versions
from fivesafes.services.governance.grants import Grant, list_grants
from fivesafes.services.governance.lookup import person_row
from fivesafes.services.governance.training import TrainingStatus, training_of
from fivesafes.store.models.governance import GrantRow, PersonRoleRow, PersonRow


def _insert_person(session: Session, login: str, name: str, roles: Iterable[Role]) -> PersonRow:
    # No checks on the actor here: the public callers authorise and audit.
    validate_login(login)
    name = validate_name(name)
    # Logins that differ only by case ("ada", "Ada") would be two people who read alike in
    # every listing, grant and audit line: whoever the OS or a sign-in mapping calls "Ada"
    # would take the place meant for "ada". One of them only.
    taken = session.scalars(
        select(PersonRow.login).where(func.lower(PersonRow.login) == login.lower())
    ).first()
    if taken is not None:
        same = "" if taken == login else f" (as {taken!r}: logins differing only by case)"
        raise ConflictError(
            f"login {login!r} is already registered{same}",
            hint="each person is registered once; use `fivesafes people show LOGIN`",
        )
    row = PersonRow(login=login, name=name, status=PersonStatus.ACTIVE.value, registered_at=now())
    row.roles = [PersonRoleRow(role=r.value) for r in sorted(set(roles))]
    session.add(row)
    session.flush()
    return row


def register_person(
    session: Session, actor: Actor, login: str, name: str, roles: Iterable[Role]
) -> Person:
    """Register a new active person with ``roles`` (administrators only)."""
    permissions.check_administer(actor.person)
    row = _insert_person(session, login, name, roles)
    person = person_of(row)
    record(
        session,
        actor.login,
        "person.register",
        subject=login,
        details={"name": person.name, "roles": sorted(r.value for r in person.roles)},
    )
    return person


def change_roles(
    session: Session,
    actor: Actor,
    login: str,
    add: Iterable[Role] = (),
    remove: Iterable[Role] = (),
) -> Person:
    """Give and take away roles (administrators only; nobody removes their own admin role)."""
    permissions.check_administer(actor.person)
    add, remove = set(add), set(remove)
    if add & remove:
        raise ValidationError(
            "the same role is both added and removed",
            hint="name each role once, either to add or to remove",
        )
    if login == actor.login and Role.ADMINISTRATOR in remove:
        raise ValidationError(
            "you cannot remove your own administrator role",
            hint="ask another administrator to do it, so the workspace keeps an administrator",
        )
    row = person_row(session, login)
    held = {Role(r.role) for r in row.roles}
    wanted = (held | add) - remove
    if wanted == held:
        raise ConflictError(f"{login} already has exactly these roles", hint="nothing to change")
    row.roles = [r for r in row.roles if Role(r.role) in wanted] + [
        PersonRoleRow(role=r.value) for r in sorted(wanted - held)
    ]
    session.flush()
    record(
        session,
        actor.login,
        "person.roles",
        subject=login,
        details={
            "added": sorted(r.value for r in wanted - held),
            "removed": sorted(r.value for r in held - wanted),
        },
    )
    return person_of(row)


def mark_leaver(session: Session, actor: Actor, login: str, reason: str = "left") -> Person:
    """Mark a person as a leaver and revoke every open grant they hold (administrators only)."""
    permissions.check_administer(actor.person)
    if login == actor.login:
        raise ValidationError(
            "you cannot mark yourself as a leaver", hint="ask another administrator"
        )
    row = person_row(session, login)
    if row.status == PersonStatus.LEAVER:
        raise ConflictError(f"{login} is already a leaver", hint="nothing to change")
    at = now()
    row.status = PersonStatus.LEAVER.value
    row.left_at = at
    record(session, actor.login, "person.leave", subject=login, details={"reason": reason})
    # A leaver loses every access at once: the decision already refuses them, and
    # their approved grants are revoked too so that the register says so.
    approved = session.scalars(
        select(GrantRow).where(
            GrantRow.person_id == row.id, GrantRow.state == GrantState.APPROVED.value
        )
    ).all()
    step = transition(GrantState.APPROVED, GrantStep.REVOKE)
    for grant in approved:
        grant.state = step.target.value
        grant.revoked_at = at
        grant.revocation_reason = f"leaver: {reason}"
        record(
            session,
            actor.login,
            step.audit_action,
            area=grant.area.name,
            subject=str(grant.id),
            details={"person": login, "reason": grant.revocation_reason},
        )
    session.flush()
    return person_of(row)


def bootstrap_administrator(session: Session, login: str, name: str) -> Person:
    """Register the first person as administrator; refused once anyone is registered."""
    if session.scalar(select(func.count()).select_from(PersonRow)):
        raise ConflictError(
            "the register already has people; the first administrator is set only once",
            hint="ask an administrator to register you: fivesafes people add LOGIN --name NAME",
        )
    row = _insert_person(session, login, name, [Role.ADMINISTRATOR])
    record(
        session,
        SYSTEM,
        "person.register",
        subject=login,
        details={"name": row.name, "roles": [Role.ADMINISTRATOR.value], "first": True},
    )
    return person_of(row)


def list_people(session: Session) -> list[Person]:
    """Every registered person, by login."""
    rows = session.scalars(select(PersonRow).order_by(PersonRow.login)).all()
    return [person_of(r) for r in rows]


def get_person(session: Session, login: str) -> Person:
    """The registered person with ``login`` (NotFoundError otherwise)."""
    return person_of(person_row(session, login))


@dataclass(frozen=True)
class PersonSummary:
    """A person with their training, declaration signatures and grants."""

    person: Person
    training: list[TrainingStatus]
    current_declaration: int | None
    signed_declarations: list[int]
    grants: list[Grant]


def summarise_person(session: Session, login: str, today: date | None = None) -> PersonSummary:
    """Everything the register holds about ``login``, with states as of today."""
    row = person_row(session, login)
    return PersonSummary(
        person=person_of(row),
        training=training_of(session, login, today),
        current_declaration=current_version_number(session),
        signed_declarations=sorted(signed_versions(session, row.id)),
        grants=list_grants(session, person=login, today=today),
    )
