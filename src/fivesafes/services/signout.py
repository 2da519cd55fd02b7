"""Signing out of the server: the bearer token (a web session's too) stops working, audited."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from fivesafes.services.context import record
from fivesafes.services.signin import token_hash
from fivesafes.store.models.server import ServerTokenRow


def sign_out(session: Session, login: str, token: str, *, reason: str = "signed out") -> None:
    """Delete ``token`` so a copy of it (a replayed cookie) is refused from now on."""
    session.execute(delete(ServerTokenRow).where(ServerTokenRow.token_sha256 == token_hash(token)))
    record(session, login, "server.signout", details={"reason": reason})
