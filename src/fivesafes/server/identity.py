"""Who calls: the OS login behind a Unix-socket peer, or the holder of a bearer token on TCP.

Never a value the caller supplies (FIVESAFES_USER, a header, a field), with one
exception kept narrow on purpose: a server on a *demo-identity* workspace (``fivesafes
init --demo-identity``, signed at creation; ``make demo``) honours the login named in
the ``X-Fivesafes-Demo-User`` header, and only from a socket peer running as the
server's own account, so that a demo can play several people through one server.
Every other server ignores the header. Every refusal is audited, with the uid (and pid)
when the kernel gave one.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fivesafes.app import App
from fivesafes.audit.events import Outcome
from fivesafes.errors import IdentityError
from fivesafes.server.acting import IDENTITY_ACTION
from fivesafes.server.peer import peer_in_scope
from fivesafes.services import signin
from fivesafes.services.context import record


@dataclass(frozen=True)
class Caller:
    """The login a request acts as, and how the server knows it."""

    login: str
    via: str  # "socket" (peer credentials) or "token" (signed in over TCP)


def _refuse(app: App, who: str, message: str, hint: str, details: dict[str, Any]) -> IdentityError:
    with app.workspace.transaction() as session:
        record(session, who, IDENTITY_ACTION, outcome=Outcome.DENIED, details=details)
    return IdentityError(message, hint=hint)


DEMO_USER_HEADER = "x-fivesafes-demo-user"


def caller_of(
    app: App,
    scope: Mapping[str, Any],
    authorization: str | None,
    demo_user: str | None = None,
    *,
    demo: bool = False,
) -> Caller:
    """The caller of one request; IdentityError (audited) when none can be established.

    ``demo``: the workspace is a demo-identity one (decided once, when the server starts);
    only then, and only for a peer of the server's own uid, is ``demo_user`` honoured.
    """
    peer = peer_in_scope(scope)
    if peer is not None and demo and demo_user and peer.uid == os.geteuid():
        return Caller(demo_user.strip()[:64], "demo")
    if peer is not None:
        try:
            login = pwd.getpwuid(peer.uid).pw_name
        except KeyError:
            raise _refuse(
                app,
                f"uid:{peer.uid}",
                f"user id {peer.uid} has no login on the server's machine",
                "run fivesafes as a user with an entry in the system's user database",
                {"uid": peer.uid, "pid": peer.pid, "via": "socket", "reason": "unknown uid"},
            ) from None
        return Caller(login, "socket")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise IdentityError(
            "sign in first: this connection has no operating-system identity",
            hint="POST /api/v1/auth/token with your login and password, then send "
            "'Authorization: Bearer TOKEN'; or use the server's Unix socket",
        )
    with app.workspace.reader() as session:
        holder = signin.login_of_token(session, token.strip())
    if holder is None:
        raise _refuse(
            app,
            "anonymous",
            "the bearer token is unknown or has expired",
            "sign in again (POST /api/v1/auth/token)",
            {"via": "token", "reason": "unknown or expired token"},
        )
    return Caller(holder, "token")
