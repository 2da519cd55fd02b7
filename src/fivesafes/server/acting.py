"""Acting as the login the server established, with every refusal of an identity audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from fivesafes.app import Acting, App
from fivesafes.audit.events import Outcome
from fivesafes.errors import IdentityError
from fivesafes.services.context import Actor, record, resolve_actor

IDENTITY_ACTION = "server.identity"


def refuse_identity(exc: IdentityError, who: str, details: dict[str, Any]) -> IdentityError:
    """``exc``, carrying the audit event of the refusal (written after its rollback)."""

    def write(session: Session) -> None:
        record(session, who, IDENTITY_ACTION, outcome=Outcome.DENIED, details=details)

    exc.after_rollback.append(write)
    return exc


@contextmanager
def acting_as(app: App, login: str) -> Iterator[Acting]:
    """One transaction as the registered, active ``login``; a refusal is audited."""
    with app.workspace.transaction() as session:
        try:
            actor = resolve_actor(session, login)
        except IdentityError as exc:
            raise refuse_identity(exc, login, {"reason": exc.message}) from None
        yield Acting(app.workspace, actor, session)


def resolving(login: str) -> Callable[[Session], Actor]:
    """Resolve ``login`` in a caller's transaction (for a service that opens its own);
    a refusal is audited, as by ``acting_as``."""

    def resolve(session: Session) -> Actor:
        try:
            return resolve_actor(session, login)
        except IdentityError as exc:
            raise refuse_identity(exc, login, {"reason": exc.message}) from None

    return resolve
