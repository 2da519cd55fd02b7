"""Signing in to the server over TCP: local passwords (argon2id) and short-lived bearer tokens.

A person sets their own password through the Unix socket (where the operating system
already said who they are); over TCP they exchange it for a token. Only hashes are
stored. Every success and failure is audited (``server.signin``), and repeated failures
for one login are throttled in memory (a restart forgets them; the log does not).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.errors import AccessDenied, IdentityError, ValidationError
from fivesafes.services.context import Actor, record, resolve_actor
from fivesafes.store.models.server import ServerPasswordRow, ServerTokenRow

TOKEN_MINUTES = 60
MIN_PASSWORD = 12
MAX_FAILURES = 5  # per login in FAILURE_WINDOW_S, then refused without checking
FAILURE_WINDOW_S = 300.0
MAX_TRACKED_LOGINS = 10_000  # the throttle's memory, however many made-up logins are tried

_HASHER = PasswordHasher()
_STAND_IN: list[str] = []  # a hash no password matches, made once


@dataclass(frozen=True)
class Token:
    """A bearer token (shown once) and when it stops working."""

    token: str
    login: str
    expires_at: datetime


class Throttle:
    """Failed sign-ins per login in a sliding window (thread-safe, in memory).

    At most ``max_logins`` logins are remembered: past that, logins whose failures are
    all older than the window go first, then those with the fewest recent failures (a
    login already blocked is the last to be forgotten).
    """

    def __init__(
        self,
        limit: int = MAX_FAILURES,
        window_s: float = FAILURE_WINDOW_S,
        max_logins: int = MAX_TRACKED_LOGINS,
    ) -> None:
        self.limit, self.window_s, self.max_logins = limit, window_s, max_logins
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, login: str) -> bool:
        """Whether ``login`` has used up its failed attempts for now."""
        with self._lock:
            recent = [
                t for t in self._failures.get(login, []) if time.monotonic() - t < self.window_s
            ]
            if recent:
                self._failures[login] = recent
            else:  # a login with no recent failure takes no room (a success, a new name)
                self._failures.pop(login, None)
            return len(recent) >= self.limit

    def failed(self, login: str) -> None:
        """Count one failed attempt."""
        with self._lock:
            self._failures.setdefault(login, []).append(time.monotonic())
            if len(self._failures) > self.max_logins:
                self._forget()

    def _forget(self) -> None:
        now = time.monotonic()
        recent = {
            k: kept
            for k, times in self._failures.items()
            if (kept := [t for t in times if now - t < self.window_s])
        }
        if len(recent) > self.max_logins:
            # fewest recent failures first, then the oldest last failure
            ranked = sorted(recent, key=lambda k: (len(recent[k]), recent[k][-1]))
            for k in ranked[: len(recent) - self.max_logins]:
                del recent[k]
        self._failures = recent


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def set_password(session: Session, actor: Actor, password: str) -> None:
    """Set the acting person's own password (audited; the password itself never is)."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"a password needs at least {MIN_PASSWORD} characters",
            hint="choose a longer passphrase",
        )
    row = session.get(ServerPasswordRow, actor.id)
    now = datetime.now(UTC)
    if row is None:
        session.add(
            ServerPasswordRow(person_id=actor.id, password_hash=_HASHER.hash(password), set_at=now)
        )
    else:
        row.password_hash, row.set_at = _HASHER.hash(password), now
    # a new password ends every session signed in with the old one
    session.execute(delete(ServerTokenRow).where(ServerTokenRow.person_id == actor.id))
    record(session, actor.login, "server.password", subject=actor.login)


def sign_in(
    session: Session,
    login: str,
    password: str,
    throttle: Throttle,
    *,
    via: str,
    replaces: str | None = None,
) -> Token:
    """Exchange a login and password for a bearer token; AccessDenied (audited) otherwise.

    ``replaces``: the ``token_hash`` of the token the signing-in browser still holds (its
    cookie), revoked with the new one's issue so a copy of it stops working.
    """
    reason = None
    actor: Actor | None = None
    if throttle.blocked(login):
        reason = "too many failed sign-ins: try again in a few minutes"
    else:
        try:
            actor = resolve_actor(session, login)
        except IdentityError:
            reason = "unknown login or wrong password"
        row = session.get(ServerPasswordRow, actor.id) if actor is not None else None
        # one password check whatever the login: an unknown login, or a person without a
        # password, must not answer sooner than a wrong password (that would tell which
        # logins exist)
        stored = row.password_hash if row is not None else _stand_in()
        if not _verify(stored, password) or row is None:
            reason = "unknown login or wrong password"
    if reason is not None or actor is None:
        throttle.failed(login)
        denial = AccessDenied(
            "sign-in refused",
            reasons=(reason or "unknown login",),
            hint="check the login and password; set one with `fivesafes server password` "
            "through the Unix socket",
        )
        details = {"via": via, "reason": reason}
        denial.audited_by(
            lambda s: record(s, login, "server.signin", outcome=Outcome.DENIED, details=details)
        )
        raise denial
    return _issue(session, actor, {"via": via}, replaces)


@dataclass(frozen=True)
class ExternalIdentity:
    """Whom an identity provider vouched for, once its signature and claims were checked."""

    issuer: str
    claim: str  # the ID token claim that names the person ("email", "sub", ...)
    value: str


def sign_in_external(
    session: Session,
    identity: ExternalIdentity,
    logins: Mapping[str, str],
    *,
    replaces: str | None = None,
) -> Token:
    """A bearer token for the registered person ``logins`` maps ``identity`` to.

    Deny by default: a claim value the mapping does not list, or one mapped to a login
    that is not an active registered person, is refused (AccessDenied, audited).
    ``replaces`` as for ``sign_in``.
    """
    details = {"via": "oidc", "issuer": identity.issuer, "claim": identity.claim}
    login = logins.get(identity.value)
    if login is None:
        raise refuse_external(
            f"{identity.claim}:{identity.value}",
            identity.issuer,
            f"{identity.claim} {identity.value!r} is not mapped to a registered person",
        )
    try:
        actor = resolve_actor(session, login)
    except IdentityError as exc:
        raise refuse_external(login, identity.issuer, exc.message) from None
    return _issue(session, actor, {**details, identity.claim: identity.value}, replaces)


def refuse_external(who: str, issuer: str, reason: str) -> AccessDenied:
    """The refusal of an external sign-in, audited (``server.signin`` denied) after rollback."""
    denial = AccessDenied(
        "sign-in refused",
        reasons=(reason,),
        hint="sign in again from the start; if it is refused again, ask an administrator "
        "to check the server's [oidc] settings and that your account is mapped to a person",
    )
    details = {"via": "oidc", "issuer": issuer, "reason": reason}
    denial.audited_by(
        lambda s: record(s, who, "server.signin", outcome=Outcome.DENIED, details=details)
    )
    return denial


def _issue(session: Session, actor: Actor, details: dict[str, str], replaces: str | None) -> Token:
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires = now + timedelta(minutes=TOKEN_MINUTES)
    session.execute(delete(ServerTokenRow).where(ServerTokenRow.expires_at < now))
    if replaces:
        _revoke_replaced(session, actor, replaces, details.get("via", ""))
    session.add(
        ServerTokenRow(
            token_sha256=token_hash(token), person_id=actor.id, created_at=now, expires_at=expires
        )
    )
    record(session, actor.login, "server.signin", outcome=Outcome.ALLOWED, details=details)
    return Token(token, actor.login, expires)


def _revoke_replaced(session: Session, actor: Actor, sha256: str, via: str) -> None:
    """A browser signing in again drops the token it held (its cookie is overwritten): a
    copy of it must not outlive it. Revoked in the new sign-in's transaction, audited as
    ``server.signout`` of its holder (an expired or unknown token: nothing to revoke)."""
    holder = _holder(session, sha256)
    if holder is None:
        return
    session.execute(delete(ServerTokenRow).where(ServerTokenRow.token_sha256 == sha256))
    record(
        session,
        holder,
        "server.signout",
        subject=holder,
        details={"reason": f"replaced by a new sign-in of {actor.login}", "via": via},
    )


def login_of_token(session: Session, token: str) -> str | None:
    """The login a live token belongs to, or None (unknown or expired)."""
    return _holder(session, token_hash(token))


def _holder(session: Session, sha256: str) -> str | None:
    from fivesafes.store.models.governance import PersonRow

    row = session.execute(
        select(PersonRow.login, ServerTokenRow.expires_at)
        .join(ServerTokenRow, ServerTokenRow.person_id == PersonRow.id)
        .where(ServerTokenRow.token_sha256 == sha256)
    ).first()
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return str(row.login) if expires > datetime.now(UTC) else None


def _stand_in() -> str:
    if not _STAND_IN:
        _STAND_IN.append(_HASHER.hash(secrets.token_urlsafe(32)))
    return _STAND_IN[0]


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
