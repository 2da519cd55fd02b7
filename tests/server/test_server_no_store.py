"""Attacks on what caches keep: a bearer token or an operation's result (people, audit
events, a requester's details) is never stored by a browser or a proxy on the way."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from fivesafes.app import App
from fivesafes.server.api import create_app
from fivesafes.services import signin
from fivesafes.services.context import resolve_actor
from fivesafes.services.setup import init_workspace
from fivesafes.web import mount

with warnings.catch_warnings():
    # starlette 1.x prefers httpx2 for its test client; httpx (pinned) works the same here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    home = tmp_path / "ws"
    init_workspace(home, "ada", "Ada Lovelace")[0].close()
    app = App.open(home)
    with app.workspace.transaction() as session:
        signin.set_password(session, resolve_actor(session, "ada"), PASSWORD)
    try:
        with TestClient(create_app(app, extend=mount), raise_server_exceptions=False) as made:
            yield made
    finally:
        app.close()


def test_a_token_and_every_api_answer_are_never_cached(client: TestClient) -> None:
    # RFC 6749 5.1: the token's answer carries Cache-Control: no-store (it carried none)
    made = client.post("/api/v1/auth/token", json={"login": "ada", "password": PASSWORD})
    assert made.status_code == 200 and made.headers.get("cache-control") == "no-store"
    bearer = {"authorization": f"Bearer {made.json()['token']}"}
    for answer in (
        client.post("/api/v1/people/list", headers=bearer),  # a result
        client.post("/api/v1/people/list"),  # a refusal
        client.post("/api/v1/auth/token", json={"login": "ada", "password": "wrong"}),
    ):
        assert answer.headers.get("cache-control") == "no-store", answer.request.url
    # an answer that sets its own keeps it (none does today; the web pages set no-store too)
    assert client.get("/web/signin").headers.get("cache-control") == "no-store"
