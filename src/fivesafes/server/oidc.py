"""OpenID Connect sign-in over TCP: the authorization code flow with PKCE (authlib, joserfc).

The server is the OIDC client (a confidential one: its secret comes from a file or the
server's environment, never config.toml). ``begin`` makes a state, a nonce and a PKCE
verifier, keeps them in memory for ``PENDING_S`` and sends the browser to the provider;
``finish`` takes the callback's state (once: a second use is a replay) in the browser that
started the sign-in (a secret ``begin`` gives for a cookie: a callback URL handed to
another browser is a login CSRF and is refused), exchanges the code
with the verifier, checks the ID token's signature against the issuer's JWKS (fetched
again once when a key id is unknown: the provider rotated its keys) and its claims (issuer,
audience, expiry, nonce, azp, at_hash) with authlib's ``CodeIDToken``. What it returns is
only an ``ExternalIdentity``: whether that is a registered person is the sign-in
service's decision (``services.signin.sign_in_external``), audited like a password sign-in.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
import stat
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from fivesafes.errors import WorkspaceError
from fivesafes.services.signin import ExternalIdentity
from fivesafes.workspace.home import Workspace
from fivesafes.workspace.settings import OIDC_CLIENT_SECRET_ENV

PENDING_S = 600.0  # a sign-in must come back from the provider within 10 minutes
MAX_PENDING = 10_000  # unauthenticated callers can start sign-ins: bound the memory they use
LEEWAY_S = 60  # clock skew allowed between the provider and this server
# Asymmetric algorithms only: "none" and HS* (keyed with the client secret) are refused.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
TIMEOUT_S = 10.0
JWKS_REFRESH_S = 60.0  # a bad signature refetches the JWKS at most this often


class OidcFailure(Exception):
    """A sign-in the provider's answer does not support; ``who`` names it in the audit log."""

    def __init__(self, reason: str, who: str = "anonymous") -> None:
        super().__init__(reason)
        self.reason, self.who = reason, who


@dataclass(frozen=True)
class OidcSettings:
    """The [oidc] settings of a workspace, with the client secret read where it lives."""

    issuer: str
    client_id: str
    redirect_uri: str
    claim: str
    logins: Mapping[str, str]
    name: str
    client_secret: str = field(repr=False)


def oidc_settings(
    workspace: Workspace, environ: Mapping[str, str] | None = None
) -> OidcSettings | None:
    """The workspace's OIDC settings; None when ``[oidc] issuer`` is unset (no OIDC sign-in)."""
    issuer = workspace.setting("oidc_issuer")
    if issuer is None:
        return None
    _check_url(issuer, "[oidc] issuer")
    client_id = workspace.setting("oidc_client_id")
    redirect_uri = workspace.setting("oidc_redirect_uri")
    for name, value in (("client_id", client_id), ("redirect_uri", redirect_uri)):
        if value is None:
            raise WorkspaceError(
                f"config.toml sets [oidc] issuer but not [oidc] {name}",
                hint=f"add {name} = ... under [oidc] (docs/server-signin.md), or remove issuer",
            )
    _check_url(redirect_uri, "[oidc] redirect_uri")
    return OidcSettings(
        issuer=issuer.rstrip("/"),
        client_id=client_id,
        redirect_uri=redirect_uri,
        claim=workspace.setting("oidc_claim"),
        logins=parse_logins(workspace.setting("oidc_logins")),
        name=workspace.setting("oidc_name"),
        client_secret=_client_secret(workspace.setting("oidc_client_secret_file"), environ),
    )


def parse_logins(entries: tuple[str, ...]) -> dict[str, str]:
    """``("ada@example.org=ada", ...)`` as a mapping of claim value to login."""
    logins: dict[str, str] = {}
    for entry in entries:
        value, sep, login = entry.rpartition("=")
        if not sep or not value.strip() or not login.strip():
            raise WorkspaceError(
                f"[oidc] logins has {entry!r}, not CLAIM_VALUE=LOGIN",
                hint='write each entry as "ada@example.org=ada"',
            )
        logins[value.strip()] = login.strip()
    return logins


def _check_url(url: str, where: str) -> None:
    # Plain http only to this machine (a provider in a test, a local proxy): a token
    # exchange in clear over a network would hand the code and the secret to anyone on it.
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = host == "localhost"
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise WorkspaceError(
            f"{where} {url!r} is not an https URL",
            hint="use the provider's https address (plain http only on localhost)",
        )


def _client_secret(path: Path | None, environ: Mapping[str, str] | None) -> str:
    if path is None:
        secret = (os.environ if environ is None else environ).get(OIDC_CLIENT_SECRET_ENV, "")
        if not secret.strip():
            raise WorkspaceError(
                "OIDC sign-in has no client secret",
                hint=f"set [oidc] client_secret_file (a 0600 file of the service account's) "
                f"or {OIDC_CLIENT_SECRET_ENV} in the server's environment",
            )
        return secret.strip()
    try:
        info = path.stat()
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise WorkspaceError(
            f"the OIDC client secret file {path} cannot be read: {exc.strerror}",
            hint="create it as the service account, mode 0600, with the secret on one line",
        ) from None
    if stat.S_IMODE(info.st_mode) & 0o077 or info.st_uid != os.geteuid():
        raise WorkspaceError(
            f"the OIDC client secret file {path} is readable by others "
            f"(mode {stat.S_IMODE(info.st_mode):o}) or not the service account's",
            hint=f"as the service account: chmod 600 {path}",
        )
    if not secret:
        raise WorkspaceError(f"the OIDC client secret file {path} is empty", hint="put it there")
    return secret


@dataclass(frozen=True)
class Pending:
    """A sign-in sent to the provider: what its callback must match."""

    nonce: str
    verifier: str
    started: float
    landing: str = "api"  # where the callback answers: "api" (JSON) or "web" (the pages)
    browser: str = ""  # the secret the starting browser keeps (a cookie); "" matches nothing
    replaces: str = ""  # token_hash of the web session the browser held (revoked at success)


class OidcClient:
    """The server's client of one provider (thread-safe: FastAPI runs it in a pool)."""

    def __init__(self, settings: OidcSettings, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self._http = http or httpx.Client(timeout=TIMEOUT_S)
        self._lock = threading.Lock()
        self._pending: dict[str, Pending] = {}
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    # --- the provider's documents -------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once; its issuer must be ours)."""
        if self._metadata is None:
            url = f"{self.settings.issuer}/.well-known/openid-configuration"
            document = self._get_json(url)
            if str(document.get("issuer", "")).rstrip("/") != self.settings.issuer:
                raise OidcFailure(f"the discovery document at {url} names another issuer")
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(key), str):
                    raise OidcFailure(f"the discovery document at {url} has no {key}")
            self._metadata = document
        return self._metadata

    def _key_set(self, *, fresh: bool = False) -> KeySet:
        stale = fresh and time.monotonic() - self._keys_at > JWKS_REFRESH_S
        if self._keys is None or stale:
            self._keys_at = time.monotonic()
            try:
                document: Any = self._get_json(self.metadata()["jwks_uri"])
                self._keys = KeySet.import_key_set(document)
            except (JoseError, ValueError, TypeError) as exc:
                raise OidcFailure(f"the provider's JWKS cannot be read: {exc}") from None
        return self._keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            answer = self._http.get(url)
            answer.raise_for_status()
            document = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcFailure(f"the provider could not be asked ({url}): {exc}") from None
        if not isinstance(document, dict):
            raise OidcFailure(f"the provider's {url} is not a JSON object")
        return document

    # --- the flow ---------------------------------------------------------------------
    def begin(self, landing: str = "api", replaces: str = "") -> tuple[str, str]:
        """A new sign-in: the provider's authorization URL to send the browser to, and the
        secret that browser must keep (a cookie) and show at the callback. ``replaces``:
        the hash of the token the browser still holds, for the callback to revoke."""
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        browser = generate_token(32)
        now = time.monotonic()
        with self._lock:
            for old in [s for s, p in self._pending.items() if now - p.started > PENDING_S]:
                del self._pending[old]
            if len(self._pending) >= MAX_PENDING:
                raise OidcFailure("too many sign-ins in progress: try again in a few minutes")
            self._pending[state] = Pending(nonce, verifier, now, landing, browser, replaces)
        params = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_uri,
            "scope": "openid email profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        url = str(add_params_to_uri(self.metadata()["authorization_endpoint"], params))
        return url, browser

    def finish(self, state: str, code: str, browser: str) -> tuple[ExternalIdentity, Pending]:
        """The identity a callback proves, and its sign-in as begun (landing, the token it
        replaces); OidcFailure (to audit) if none.

        ``browser``: the secret ``begin`` gave, as the calling browser kept it.
        """
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None:
            raise OidcFailure("the sign-in's state is unknown or was already used (a replay?)")
        # the state is used up either way: a lured browser's visit also spends the lure
        if not pending.browser or not hmac.compare_digest(
            pending.browser.encode(), browser.encode()
        ):
            raise OidcFailure(
                "this browser did not start the sign-in (a callback address sent by someone "
                "else, or the browser's cookies were cleared): start again from the sign-in page"
            )
        if time.monotonic() - pending.started > PENDING_S:
            raise OidcFailure("the sign-in took too long: start again")
        tokens = self._exchange(code, pending.verifier)
        claims = self._verified_claims(tokens, pending.nonce)
        who = f"{self.settings.claim}:{claims.get(self.settings.claim)}"
        value = claims.get(self.settings.claim)
        if not isinstance(value, str) or not value:
            raise OidcFailure(f"the ID token has no {self.settings.claim} claim", who=who)
        if self.settings.claim == "email" and claims.get("email_verified") is not True:
            raise OidcFailure("the provider has not verified this email address", who=who)
        identity = ExternalIdentity(self.settings.issuer, self.settings.claim, value)
        return identity, pending

    def _exchange(self, code: str, verifier: str) -> dict[str, Any]:
        metadata = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.redirect_uri,
            "code_verifier": verifier,
        }
        methods = metadata.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        basic = "client_secret_basic" in methods or "client_secret_post" not in methods
        if not basic:
            form |= {
                "client_id": self.settings.client_id,
                "client_secret": self.settings.client_secret,
            }
        auth = (self.settings.client_id, self.settings.client_secret) if basic else None
        try:
            answer = self._http.post(metadata["token_endpoint"], data=form, auth=auth)  # type: ignore[arg-type]
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcFailure(f"the provider's token endpoint failed: {exc}") from None
        if answer.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", answer.status_code) if isinstance(body, dict) else "?"
            raise OidcFailure(f"the provider refused the code ({error})")
        if not isinstance(body.get("id_token"), str):
            raise OidcFailure("the provider's answer has no ID token")
        return body

    def _verified_claims(self, tokens: dict[str, Any], nonce: str) -> CodeIDToken:
        raw = tokens["id_token"]
        allowed = [
            a
            for a in self.metadata().get("id_token_signing_alg_values_supported", ["RS256"])
            if a in ALGORITHMS
        ] or ["RS256"]
        try:
            decoded = jwt.decode(raw, self._key_set(), algorithms=allowed)
        except (JoseError, ValueError):
            # perhaps signed with a key the provider rotated in since we fetched its JWKS:
            # fetch it again (at most once a minute) and try once more
            try:
                decoded = jwt.decode(raw, self._key_set(fresh=True), algorithms=allowed)
            except (JoseError, ValueError) as exc:
                raise OidcFailure(f"the ID token's signature is not the issuer's: {exc}") from None
        client_id = self.settings.client_id
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": self.settings.issuer},
                "aud": {"essential": True, "value": client_id},
                "exp": {"essential": True},
                "nonce": {"essential": True, "value": nonce},
            },
            params={
                "nonce": nonce,
                "client_id": client_id,
                "access_token": tokens.get("access_token"),
            },
        )
        who = f"{self.settings.claim}:{decoded.claims.get(self.settings.claim)}"
        try:
            claims.validate(leeway=LEEWAY_S)
        except JoseError as exc:
            raise OidcFailure(f"the ID token is not valid here: {exc}", who=who) from None
        return claims
