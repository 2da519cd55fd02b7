"""A workspace ready for the web pages: the release world's people, each with a password,
one table request by ada awaiting review, and the server's app with the pages mounted."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from release_world import World, build_world, first_release

from fivesafes.app import App
from fivesafes.server.api import create_app
from fivesafes.services import signin
from fivesafes.services.context import resolve_actor
from fivesafes.web import mount
from fivesafes.web.sessions import Sessions
from fivesafes.workspace import create_workspace

with warnings.catch_warnings():
    # starlette 1.x prefers httpx2 for its test client; httpx (pinned) works the same here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"
PEOPLE = ("root", "iris", "ada", "bob", "olga", "oscar")


@dataclass
class WebWorld:
    """The app, the release world on its database, and ada's request awaiting review."""

    app: App
    world: World
    request_id: int
    sessions: Sessions
    api: FastAPI

    def client(self) -> TestClient:
        """A browser of its own (its own cookies)."""
        return TestClient(self.api, raise_server_exceptions=False, follow_redirects=False)

    def signed_in(self, login: str) -> TestClient:
        """A browser signed in as ``login``."""
        browser = self.client()
        form = browser.get("/web/signin")
        answer = browser.post(
            "/web/signin",
            data={"login": login, "password": PASSWORD, "csrf": csrf_of(form.text)},
        )
        assert answer.status_code == 303, answer.text
        return browser

    def events(self, action: str) -> list[tuple[str, str]]:
        """(actor, outcome) of every audit event of ``action``, oldest first."""
        from sqlalchemy import select

        from fivesafes.store.models.audit import AuditRecord

        with self.app.workspace.reader() as session:
            rows = session.execute(
                select(AuditRecord.actor, AuditRecord.outcome)
                .where(AuditRecord.action == action)
                .order_by(AuditRecord.seq)
            ).all()
        return [(str(a), str(o)) for a, o in rows]


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@contextmanager
def web_world(tmp_path: Path, *, idle_seconds: float = 900.0) -> Iterator[WebWorld]:
    """Build it in ``tmp_path``; the app is closed afterwards."""
    workspace = create_workspace(tmp_path / "ws")
    world = build_world(workspace.engine(), tmp_path)
    app = App(workspace)
    world.provider = app.vault().provider  # the server unseals with the workspace's keys
    with app.workspace.transaction() as session:
        for login in PEOPLE:
            signin.set_password(session, resolve_actor(session, login), PASSWORD)
    rid = world.submit(first_release())
    sessions = Sessions(idle_seconds)
    api = create_app(app, extend=lambda a, ctx: mount(a, ctx, sessions=sessions))
    try:
        yield WebWorld(app, world, rid, sessions, api)
    finally:
        app.close()
