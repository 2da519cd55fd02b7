"""OpenID Connect sign-in against a real (in-test) provider: each check able to refuse.

The provider runs on 127.0.0.1; the server's API runs in FastAPI's TestClient (a TCP
caller: no peer credentials). A browser's journey is three requests: the server's start
(a redirect to the provider), the provider's authorize (a redirect back with a code and
the state) and the server's callback (a bearer token, or a refusal in the audit log).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from joserfc.jwk import RSAKey
from oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

from fivesafes.app import App
from fivesafes.errors import WorkspaceError
from fivesafes.governance.roles import parse_roles
from fivesafes.server.api import create_app
from fivesafes.server.oidc import oidc_settings
from fivesafes.server.operations import run
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance.people import register_person
from fivesafes.services.setup import init_workspace

with warnings.catch_warnings():
    # starlette 1.x prefers httpx2 for its test client; httpx (pinned) works the same here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ADMIN = "ada"
BEA = {"sub": "u-42", "email": "bea@example.org", "email_verified": True}


@dataclass
class World:
    app: App
    client: TestClient
    provider: Provider
    home: Path


def _configure(home: Path, issuer: str, secret_file: Path, logins: list[str]) -> None:
    entries = ", ".join(f'"{e}"' for e in logins)
    with (home / "config.toml").open("a", encoding="utf-8") as config:
        config.write(
            "\n[oidc]\n"
            f'issuer = "{issuer}"\n'
            f'client_id = "{CLIENT_ID}"\n'
            f'client_secret_file = "{secret_file}"\n'
            'redirect_uri = "http://localhost/api/v1/auth/oidc/callback"\n'
            f"logins = [{entries}]\n"
            'name = "Test IdP"\n'
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    home = tmp_path / "ws"
    workspace, _ = init_workspace(home, ADMIN, "Ada Lovelace")
    with workspace.transaction() as session:
        register_person(
            session, resolve_actor(session, ADMIN), "bea", "Bea", parse_roles(["researcher"])
        )
    workspace.close()
    secret = tmp_path / "client-secret"
    secret.write_text(CLIENT_SECRET + "\n")
    secret.chmod(0o600)
    with running_provider() as provider:
        provider.login_as = dict(BEA)
        _configure(
            home,
            provider.issuer,
            secret,
            ["bea@example.org=bea", "ghost@example.org=ghost"],
        )
        app = App.open(home)
        try:
            with TestClient(create_app(app), base_url="http://localhost") as client:
                yield World(app, client, provider, home)
        finally:
            app.close()


def _journey(world: World) -> tuple[httpx.Response, str]:
    """Start, authorize, call back: the callback's answer and its URL (to replay it)."""
    start = world.client.get("/api/v1/auth/oidc/start", follow_redirects=False)
    assert start.status_code == 303, start.text
    assert "code_challenge_method=S256" in start.headers["location"]
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["location"])
    url = f"{back.path}?{back.query}"
    return world.client.get(url), url


def _signins(world: World) -> list[dict[str, Any]]:
    events = run(world.app, ADMIN, "audit.log", {"action": "server.signin", "limit": 1000})
    return [e for e in events if e["details"].get("via") == "oidc"]


def _refused(world: World, answer: httpx.Response, reason: str) -> None:
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert error["code"] == "denied" and "token" not in answer.json()
    assert reason in error["reasons"][0], error
    last = _signins(world)[-1]
    assert last["outcome"] == "denied" and reason in last["details"]["reason"], last


def test_a_mapped_person_signs_in_and_acts_as_themself(world: World) -> None:
    answer, _ = _journey(world)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["login"] == "bea" and body["token_type"] == "bearer"
    assert answer.headers.get("cache-control") == "no-store"  # a token is never cached
    me = world.client.post(
        "/api/v1/whoami", json={}, headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert me.status_code == 200 and me.json()["result"]["login"] == "bea"
    allowed = _signins(world)[-1]
    assert allowed["outcome"] == "allowed" and allowed["actor"] == "bea"
    assert allowed["details"] == {
        "via": "oidc",
        "issuer": world.provider.issuer,
        "claim": "email",
        "email": "bea@example.org",
    }


def test_a_replayed_callback_is_refused(world: World) -> None:
    first, url = _journey(world)
    assert first.status_code == 200
    _refused(world, world.client.get(url), "already used")
    # the same code under a new sign-in's state: the provider will not take it twice
    start = world.client.get("/api/v1/auth/oidc/start", follow_redirects=False)
    state = dict(p.split("=", 1) for p in urlsplit(start.headers["location"]).query.split("&"))[
        "state"
    ]
    code = url.split("code=")[1].split("&")[0]
    again = world.client.get(f"/api/v1/auth/oidc/callback?code={code}&state={state}")
    _refused(world, again, "refused the code (invalid_grant)")


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"nonce": "not-the-one-we-sent"}, "nonce"),
        ({"aud": "another-client"}, "aud"),
        ({"iss": "http://127.0.0.1:1"}, "iss"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}, "expired"),
        ({"email_verified": False}, "not verified"),
    ],
)
def test_an_id_token_with_a_wrong_claim_is_refused(
    world: World, tamper: dict[str, Any], reason: str
) -> None:
    world.provider.tamper = tamper
    answer, _ = _journey(world)
    _refused(world, answer, reason)


def test_an_id_token_not_signed_by_the_issuer_is_refused(world: World) -> None:
    world.provider.sign_with = RSAKey.generate_key(2048, {"kid": "k1"})
    answer, _ = _journey(world)
    _refused(world, answer, "signature")


def test_an_unmapped_or_unregistered_person_is_refused(world: World) -> None:
    world.provider.login_as = {**BEA, "email": "mallory@example.org"}
    answer, _ = _journey(world)
    _refused(world, answer, "not mapped to a registered person")
    assert _signins(world)[-1]["actor"] == "email:mallory@example.org"
    world.provider.login_as = {**BEA, "email": "ghost@example.org"}  # mapped, not registered
    answer, _ = _journey(world)
    _refused(world, answer, "ghost")


def test_a_callback_without_a_state_we_gave_is_refused(world: World) -> None:
    answer = world.client.get("/api/v1/auth/oidc/callback?code=abc&state=forged")
    _refused(world, answer, "state is unknown")
    answer = world.client.get("/api/v1/auth/oidc/callback?error=access_denied")
    _refused(world, answer, "access_denied")


def test_without_oidc_settings_the_routes_say_so(tmp_path: Path) -> None:
    workspace, _ = init_workspace(tmp_path / "ws", ADMIN, "Ada Lovelace")
    workspace.close()
    with App.open(tmp_path / "ws") as app, TestClient(create_app(app)) as client:
        answer = client.get("/api/v1/auth/oidc/start", follow_redirects=False)
    assert answer.status_code == 404 and "not configured" in answer.json()["error"]["message"]


def test_the_client_secret_must_be_private_and_never_in_config(world: World) -> None:
    secret_file = Path(world.app.workspace.setting("oidc_client_secret_file"))
    assert CLIENT_SECRET not in (world.home / "config.toml").read_text()
    secret_file.chmod(0o644)
    with pytest.raises(WorkspaceError, match="readable by others"):
        oidc_settings(world.app.workspace)
    secret_file.chmod(0o600)
    settings = oidc_settings(world.app.workspace)
    assert settings is not None and CLIENT_SECRET not in repr(settings)


def test_the_web_pages_offer_oidc_and_land_the_browser_signed_in(world: World) -> None:
    from fivesafes.web import mount
    from fivesafes.web.headers import CSP
    from fivesafes.web.sessions import COOKIE

    with TestClient(create_app(world.app, extend=mount), base_url="http://localhost") as browser:
        form = browser.get("/web/signin")
        assert "Sign in with Test IdP" in form.text
        start = browser.get("/api/v1/auth/oidc/start?to=web", follow_redirects=False)
        # handed to the pages' own start (the path that gets their session cookie)
        assert start.status_code == 303 and start.headers["location"] == "/web/signin/oidc"
        start = browser.get(start.headers["location"], follow_redirects=False)
        at_provider = httpx.get(start.headers["location"], follow_redirects=False)
        back = urlsplit(at_provider.headers["location"])
        landed = browser.get(f"{back.path}?{back.query}", follow_redirects=False)
        assert landed.status_code == 200 and 'url=/web/"' in landed.text
        # a page of ours, served under /api: the pages' headers all the same (it had none)
        assert landed.headers.get("cache-control") == "no-store"
        assert landed.headers.get("content-security-policy") == CSP
        assert landed.headers.get("x-frame-options") == "DENY"
        assert COOKIE in landed.headers["set-cookie"] and "samesite=strict" in (
            landed.headers["set-cookie"].lower()
        )
        status = browser.get("/web/", follow_redirects=False)
        assert status.status_code == 200 and "bea" in status.text, status.text[:300]
    assert _signins(world)[-1]["outcome"] == "allowed"


@pytest.mark.parametrize("begin", ["/web/signin/oidc", "/api/v1/auth/oidc/start?to=web"])
def test_signing_in_again_from_the_pages_revokes_the_browsers_earlier_token(
    world: World, begin: str
) -> None:
    # from the pages' link or from the API's start for the pages alike: the API's path
    # does not get the pages' session cookie, so it hands the browser to theirs
    from fivesafes.web import mount
    from fivesafes.web.sessions import COOKIE

    def oidc_sign_in(browser: TestClient) -> str:
        start = browser.get(begin, follow_redirects=False)
        while start.headers["location"].startswith("/"):  # hops within this server
            start = browser.get(start.headers["location"], follow_redirects=False)
        at_provider = httpx.get(start.headers["location"], follow_redirects=False)
        back = urlsplit(at_provider.headers["location"])
        landed = browser.get(f"{back.path}?{back.query}", follow_redirects=False)
        assert landed.status_code == 200, landed.text[:300]
        token = browser.cookies.get(COOKIE)
        assert token
        return token

    with TestClient(create_app(world.app, extend=mount), base_url="http://localhost") as browser:
        assert 'href="/web/signin/oidc"' in browser.get("/web/signin").text
        first = oidc_sign_in(browser)
        second = oidc_sign_in(browser)  # the same cookie jar signs in again
        assert second != first
        assert "bea" in browser.get("/web/", follow_redirects=False).text
        replay = browser.post("/api/v1/whoami", headers={"authorization": f"Bearer {first}"})
        assert replay.status_code == 403
        assert browser.post(
            "/api/v1/whoami", headers={"authorization": f"Bearer {second}"}
        ).is_success
    events = run(world.app, ADMIN, "audit.log", {"action": "server.signout", "limit": 10})
    assert [(e["actor"], e["details"]["via"]) for e in events] == [("bea", "oidc")]


class _Settings:
    """A workspace's ``setting`` with only [oidc] values (the rest default)."""

    def __init__(self, **values: object) -> None:
        self.values = values

    def setting(self, name: str) -> object:
        from fivesafes.workspace.settings import get_setting

        return self.values.get(name, get_setting(name).default)


def test_oidc_settings_refuse_what_would_leak_or_cannot_work() -> None:
    from fivesafes.workspace.settings import OIDC_CLIENT_SECRET_ENV

    good = {
        "oidc_issuer": "https://idp.example.org",
        "oidc_client_id": "fivesafes",
        "oidc_redirect_uri": "https://fs.example.org/api/v1/auth/oidc/callback",
        "oidc_logins": ("ada@example.org=ada",),
    }
    env = {OIDC_CLIENT_SECRET_ENV: "from-the-environment"}
    settings = oidc_settings(_Settings(**good), env)  # type: ignore[arg-type]
    assert settings is not None and settings.client_secret == "from-the-environment"
    assert settings.logins == {"ada@example.org": "ada"}
    assert oidc_settings(_Settings(), env) is None  # type: ignore[arg-type]
    with pytest.raises(WorkspaceError, match="no client secret"):
        oidc_settings(_Settings(**good), {})  # type: ignore[arg-type]
    with pytest.raises(WorkspaceError, match="not an https URL"):
        oidc_settings(_Settings(**{**good, "oidc_issuer": "http://idp.example.org"}), env)  # type: ignore[arg-type]
    with pytest.raises(WorkspaceError, match=r"not \[oidc\] client_id"):
        oidc_settings(_Settings(**{**good, "oidc_client_id": None}), env)  # type: ignore[arg-type]
    with pytest.raises(WorkspaceError, match="CLAIM_VALUE=LOGIN"):
        oidc_settings(_Settings(**{**good, "oidc_logins": ("ada",)}), env)  # type: ignore[arg-type]


def test_a_callback_is_refused_in_a_browser_that_did_not_start_the_sign_in(
    world: World,
) -> None:
    """Login CSRF: a registered person ("ghost") starts a sign-in as himself, stops before
    his callback and sends its URL to a colleague; her browser must not be signed in as
    him (what she then does, notes and submissions included, would be recorded as his).
    The state is bound to the browser that started the sign-in, as the password form's
    pre-session CSRF token is."""
    from fivesafes.web import mount
    from fivesafes.web.sessions import COOKIE

    with world.app.workspace.transaction() as session:
        register_person(
            session, resolve_actor(session, ADMIN), "ghost", "Ghost", parse_roles(["researcher"])
        )
    world.provider.login_as = {"sub": "u-66", "email": "ghost@example.org", "email_verified": True}
    api = create_app(world.app, extend=mount)
    with (
        TestClient(api, base_url="http://localhost") as attacker,
        TestClient(api, base_url="http://localhost") as victim,
    ):
        start = attacker.get("/api/v1/auth/oidc/start?to=web", follow_redirects=False)
        # handed to the pages' own start, which leaves the browser its secret
        start = attacker.get(start.headers["location"], follow_redirects=False)
        at_provider = httpx.get(start.headers["location"], follow_redirects=False)
        back = urlsplit(at_provider.headers["location"])
        lured = victim.get(f"{back.path}?{back.query}", follow_redirects=False)
        assert lured.status_code == 403, lured.text
        assert COOKIE not in lured.headers.get("set-cookie", "")
        assert "did not start" in lured.json()["error"]["reasons"][0]
        last = _signins(world)[-1]
        assert last["outcome"] == "denied" and "did not start" in last["details"]["reason"]
        # the API landing is bound the same way (a token handed to another browser)
        start = attacker.get("/api/v1/auth/oidc/start", follow_redirects=False)
        at_provider = httpx.get(start.headers["location"], follow_redirects=False)
        back = urlsplit(at_provider.headers["location"])
        assert victim.get(f"{back.path}?{back.query}").status_code == 403
