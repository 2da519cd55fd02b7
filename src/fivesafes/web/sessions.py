"""Web sessions: a server bearer token in an HttpOnly cookie, a CSRF token, an idle timeout.

The cookie holds the token ``services.signin`` issued (stored only as a hash), so a web
session is refused exactly where a token is: expired, or deleted at sign-out. What the
token cannot say lives here, in memory: the session's CSRF token and when it was last
used. A restart forgets both, which signs every browser out (fail closed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

COOKIE = "fivesafes_session"
IDLE_SECONDS = 15 * 60


@dataclass
class WebSession:
    """One signed-in browser: who, its CSRF token, when it was last used."""

    login: str
    token: str
    csrf: str
    last_seen: float


class Sessions:
    """Live web sessions by the hash of their token (thread-safe)."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._live: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def start(self, login: str, token: str) -> WebSession:
        """A new session for a token just issued at sign-in."""
        made = WebSession(login, token, secrets.token_urlsafe(32), time.monotonic())
        with self._lock:
            self._live[self._key(token)] = made
        return made

    def get(self, token: str | None) -> WebSession | None:
        """The live session of ``token`` (touched), or None: unknown, ended or idle too long."""
        if not token:
            return None
        key = self._key(token)
        with self._lock:
            found = self._live.get(key)
            if found is None:
                return None
            if time.monotonic() - found.last_seen > self.idle_seconds:
                del self._live[key]
                return None
            found.last_seen = time.monotonic()
            return found

    def end(self, token: str) -> None:
        """Forget the session (its token is deleted by the sign-out service)."""
        with self._lock:
            self._live.pop(self._key(token), None)


def csrf_ok(session: WebSession, sent: str | None) -> bool:
    """Whether a form carried this session's CSRF token (constant-time comparison)."""
    return bool(sent) and hmac.compare_digest(session.csrf.encode(), str(sent).encode())
