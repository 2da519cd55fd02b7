"""The stored release world for a figure's answer: fiona, an FOI officer with access."""

from __future__ import annotations

from pathlib import Path

from release_world import AREA
from requests_world import RECEIVED, REQUESTER, TODAY
from sqlalchemy import Engine
from stored_world import Stored, build_stored

from fivesafes.governance.roles import Role
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.governance import areas, grants, people
from fivesafes.services.requests import cases, moves


def build_figure_world(engine: Engine, tmp_path: Path) -> Stored:
    """The stored release world ('ashe' in 'earnings'), fiona an FOI officer with access."""
    s = build_stored(engine, tmp_path)
    reg = s.world.reg
    reg.act("root", people.register_person, "fiona", "Fiona Foi", [Role.FOI_OFFICER])
    reg.make_ready("fiona")
    asked = reg.act("fiona", grants.request_grant, "fiona", AREA, "answers to FOI requests")
    reg.act("iris", grants.approve_grant, asked.id, "ok")
    reg.act("root", areas.create_area, "requests", "iris")
    return s


def open_assigned_case(s: Stored) -> int:
    """A request case opened by fiona and assigned to her; its id."""
    policy = RequestPolicy()
    view = s.world.reg.act(
        "fiona", cases.open_case, s.world.provider, policy, RequestKind.FOI, RECEIVED,
        REQUESTER, "pay of area a2", TODAY,
    )  # fmt: skip
    s.world.reg.act("fiona", moves.assign_case, policy, view.id, "fiona")
    return view.id
