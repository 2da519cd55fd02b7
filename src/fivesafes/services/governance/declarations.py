"""Publish versions of the confidentiality declaration and sign the current one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError
from fivesafes.governance import permissions
from fivesafes.governance.declarations import (
    DeclarationVersion,
    check_signable,
    new_version,
)
from fivesafes.services.context import Actor, now, record
from fivesafes.store.models.governance import DeclarationVersionRow, SignatureRow


def current_version_number(session: Session) -> int | None:
    """The number of the current (latest) declaration version, None if none published."""
    return session.scalar(select(func.max(DeclarationVersionRow.version)))


def current_declaration(session: Session) -> DeclarationVersion | None:
    """The current declaration version with its text, None if none was published."""
    number = current_version_number(session)
    if number is None:
        return None
    row = session.get(DeclarationVersionRow, number)
    assert row is not None
    return DeclarationVersion(row.version, row.text, row.text_hash)


def publish_declaration(session: Session, actor: Actor, text: str) -> DeclarationVersion:
    """Publish a new declaration version; everyone must sign it before their next access."""
    permissions.check_administer(actor.person)
    version = new_version(current_version_number(session), text)
    session.add(
        DeclarationVersionRow(
            version=version.version,
            text=version.text,
            text_hash=version.text_hash,
            published_at=now(),
            published_by=actor.login,
        )
    )
    session.flush()
    record(
        session,
        actor.login,
        "declaration.publish",
        subject=str(version.version),
        details={"version": version.version, "text_hash": version.text_hash},
    )
    return version


@dataclass(frozen=True)
class Signature:
    """A person's signature of one declaration version."""

    login: str
    version: int
    text_hash: str
    signed_at: datetime


def sign_declaration(session: Session, actor: Actor, version: int) -> Signature:
    """Sign declaration ``version`` as the actor; only the current version may be signed."""
    permissions.check_active(actor.person)
    current = current_declaration(session)
    check_signable(version, current.version if current else None)
    assert current is not None
    already = session.scalars(
        select(SignatureRow.id).where(
            SignatureRow.person_id == actor.id, SignatureRow.version == version
        )
    ).first()
    if already is not None:
        raise ConflictError(
            f"{actor.login} has already signed version {version}", hint="nothing to do"
        )
    signed_at = now()
    session.add(
        SignatureRow(
            person_id=actor.id, version=version, text_hash=current.text_hash, signed_at=signed_at
        )
    )
    session.flush()
    record(
        session,
        actor.login,
        "declaration.sign",
        subject=actor.login,
        details={"version": version, "text_hash": current.text_hash},
    )
    return Signature(actor.login, version, current.text_hash, signed_at)


def signed_versions(session: Session, person_id: int) -> frozenset[int]:
    """The declaration versions a person has signed."""
    rows = session.scalars(select(SignatureRow.version).where(SignatureRow.person_id == person_id))
    return frozenset(rows)
