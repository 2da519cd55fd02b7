"""Acting as the login the server established, with every refusal of an identity audited."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from fivesafes.app import Acting, App
from fivesafes.audit.events import Outcome
from fivesafes.errors import AccessDenied, IdentityError
from fivesafes.services.context import Actor, record, resolve_actor

IDENTITY_ACTION = "server.identity"
# A refusal the service did not audit itself (a role check, a grant missing)
DENIED_ACTION = "server.denied"


def refuse_identity(exc: IdentityError, who: str, details: dict[str, Any]) -> IdentityError:
    """``exc``, carrying the audit event of the refusal (written after its rollback)."""

    def write(session: Session) -> None:
        record(session, who, IDENTITY_ACTION, outcome=Outcome.DENIED, details=details)

    exc.audited_by(write)
    return exc


@contextmanager
def acting_as(app: App, login: str) -> Iterator[Acting]:
    """One transaction as the registered, active ``login``; a refusal is audited."""
    with app.workspace.transaction() as session:
        try:
            actor = resolve_actor(session, login)
        except IdentityError as exc:
            raise refuse_identity(exc, login, {"reason": exc.message}) from None
        try:
            yield Acting(app.workspace, actor, session)
        except AccessDenied as exc:
            audit_refusal(exc, login)
            raise


def audit_refusal(exc: AccessDenied, login: str) -> None:
    """Make sure a refusal leaves a record: services audit their access decisions
    (``access.decide``, ``people.qualify``), but a role check raises plainly; such a
    refusal gets a ``server.denied`` event, written after its rollback."""
    if not exc.audited:  # else the service's own record of it is on its way
        exc.audited_by(partial(_record_denied, exc, login))


@contextmanager
def refusals_recorded(app: App, login: str) -> Iterator[None]:
    """:func:`audit_refusal` around an operation, for its refusals out of its own
    transactions (not through :func:`acting_as`): recorded once they leave it, in a
    transaction of their own."""
    try:
        yield
    except AccessDenied as exc:
        if not exc.audited:
            try:
                with app.workspace.transaction() as session:
                    _record_denied(exc, login, session)
                exc.audited = True
            except Exception as failed:  # the refusal stands: it is what the caller is told
                exc.add_note(f"its record could not be written: {failed}")
        raise


def _record_denied(exc: AccessDenied, login: str, session: Session) -> None:
    record(
        session,
        login,
        DENIED_ACTION,
        outcome=Outcome.DENIED,
        details={"reason": exc.message, "reasons": list(exc.reasons)},
    )


def resolving(login: str) -> Callable[[Session], Actor]:
    """Resolve ``login`` in a caller's transaction (for a service that opens its own);
    a refusal is audited, as by ``acting_as``."""

    def resolve(session: Session) -> Actor:
        try:
            return resolve_actor(session, login)
        except IdentityError as exc:
            raise refuse_identity(exc, login, {"reason": exc.message}) from None

    return resolve
