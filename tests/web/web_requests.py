"""FOI officers in the web world: fiona and fred (FOI officers, with passwords), the
requests area, and cases whose requester carries a marker (to scan pages for)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from web_world import PASSWORD, WebWorld

from fivesafes.governance.roles import Role
from fivesafes.server.operations import run
from fivesafes.services import signin
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance import areas, people

MARKER = "Marker-7Q"
REQUESTER = f"Zebedee {MARKER} <script>alert(1)</script> <zeb@example.org>"
SUMMARY = "Earnings by region <script>alert(2)</script>"


def add_officers(ww: WebWorld) -> None:
    """fiona and fred, FOI officers who can sign in; the requests area (owned by iris)."""
    reg = ww.world.reg
    reg.act("root", people.register_person, "fiona", "Fiona Foi", [Role.FOI_OFFICER])
    reg.act("root", people.register_person, "fred", "Fred Foi", [Role.FOI_OFFICER])
    reg.act("root", areas.create_area, "requests", "iris")
    with ww.app.workspace.transaction() as session:
        for login in ("fiona", "fred"):
            signin.set_password(session, resolve_actor(session, login), PASSWORD)


def open_case(ww: WebWorld, days_ago: int = 1, login: str = "fiona") -> dict[str, Any]:
    """An FOI case opened by ``login`` (through the operation the CLI runs)."""
    received = date.today() - timedelta(days=days_ago)
    params = {"kind": "foi", "received": received.isoformat(), "requester": REQUESTER,
              "summary": SUMMARY}  # fmt: skip
    return dict(run(ww.app, login, "request.open", params))


def assigned_case(ww: WebWorld, days_ago: int = 1) -> int:
    """An FOI case opened by fiona and assigned to her."""
    case = open_case(ww, days_ago)
    run(ww.app, "fiona", "request.move", {"case_id": case["id"], "move": "assign",
                                          "officer": "fiona"})  # fmt: skip
    return int(case["id"])
