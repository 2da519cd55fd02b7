"""Attacks on the API's request bodies: who calls is known before a byte of a body is read,
and no body is taken past a bound (an anonymous TCP caller could make the server hold and
parse any amount of JSON before being asked who it is)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from fivesafes.app import App
from fivesafes.server.api import MAX_BODY_ENV, create_app
from fivesafes.server.operations import run
from fivesafes.services.setup import init_workspace
from fivesafes.web import mount

with warnings.catch_warnings():
    # starlette 1.x prefers httpx2 for its test client; httpx (pinned) works the same here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[App, TestClient]]:
    home = tmp_path / "ws"
    init_workspace(home, "ada", "Ada Lovelace")[0].close()
    app = App.open(home)
    try:
        with TestClient(create_app(app, extend=mount), raise_server_exceptions=False) as client:
            yield app, client
    finally:
        app.close()


def _json(size: int) -> bytes:
    return b'{"login": "' + b"x" * size + b'"}'


def test_an_anonymous_body_is_refused_for_want_of_identity_not_parsed(
    world: tuple[App, TestClient],
) -> None:
    app, client = world
    # not JSON at all: had it been read, the answer would be 422 (invalid parameters)
    answer = client.post(
        "/api/v1/people/show",
        content=b"{" + b"x" * 1_000_000,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "identity"
    # a forged bearer token: refused before the body too, and audited
    answer = client.post(
        "/api/v1/people/show",
        content=b"{",
        headers={"content-type": "application/json", "authorization": "Bearer forged"},
    )
    assert answer.status_code == 403, answer.text
    events = run(app, "ada", "audit.log", {"action": "server.identity"})
    assert events[-1]["outcome"] == "denied"


def test_a_body_past_the_bound_is_refused_unread(
    world: tuple[App, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    _app, client = world
    monkeypatch.setenv(MAX_BODY_ENV, "1000")
    for path in ("/api/v1/auth/token", "/web/signin"):
        answer = client.post(path, content=_json(2000), headers={"content-type": "text/plain"})
        assert answer.status_code == 413, (path, answer.text)
    # streamed without a length (chunked): cut at the bound as well
    answer = client.post(
        "/api/v1/auth/token",
        content=iter([_json(600), b" " * 600]),
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 413, answer.text
    error = answer.json()["error"]
    assert "1,000 bytes" in error["message"] and MAX_BODY_ENV in error["hint"]
    # within the bound: answered as before
    answer = client.post("/api/v1/auth/token", json={"login": "ada", "password": "wrong"})
    assert answer.status_code == 403, answer.text
