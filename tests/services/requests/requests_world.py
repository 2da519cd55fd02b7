"""A register ready for requests: FOI officers, a DPO, the requests area and its keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from governance_register import Register, build_register
from sqlalchemy import Engine

from fivesafes.governance.roles import Role
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.governance import areas, people
from fivesafes.services.requests import cases, moves
from fivesafes.vault.keys import FileKeyProvider

RECEIVED = date(2026, 3, 2)
TODAY = date(2026, 3, 3)
REQUESTER = "Zebedee Marker-7Q <zeb@example.org>"  # a marker to scan logs for
POLICY = RequestPolicy()


@dataclass
class RequestsWorld:
    """root (admin), iris (IAO, owns 'earnings' and 'requests'), fiona and fred (FOI
    officers), dora (DPO), ada (analyst); a key provider in tmp_path."""

    reg: Register
    provider: FileKeyProvider
    policy: RequestPolicy = POLICY

    @property
    def engine(self) -> Engine:
        return self.reg.engine

    def open(
        self,
        login: str = "fiona",
        kind: RequestKind = RequestKind.FOI,
        received: date = RECEIVED,
        requester: str = REQUESTER,
        summary: str = "Earnings by region, 2025",
    ) -> cases.CaseView:
        return self.reg.act(
            login,
            cases.open_case,
            self.provider,
            self.policy,
            kind,
            received,
            requester,
            summary,
            TODAY,
        )

    def move(self, login: str, fn: Any, case_id: int, *args: Any, **kw: Any) -> Any:
        return self.reg.act(login, fn, self.policy, case_id, *args, **kw)

    def assigned(self, kind: RequestKind = RequestKind.FOI, officer: str = "fiona") -> int:
        view = self.open(kind=kind)
        self.move("fiona", moves.assign_case, view.id, officer, on=RECEIVED)
        return view.id


def build_requests_world(engine: Engine, tmp_path: Path) -> RequestsWorld:
    """The register of :class:`RequestsWorld`."""
    reg = build_register(engine)
    reg.act("root", people.register_person, "fiona", "Fiona Foi", [Role.FOI_OFFICER])
    reg.act("root", people.register_person, "fred", "Fred Foi", [Role.FOI_OFFICER])
    reg.act("root", people.register_person, "dora", "Dora Dpo", [Role.DATA_PROTECTION_OFFICER])
    reg.act("root", areas.create_area, "requests", "iris")
    return RequestsWorld(reg, FileKeyProvider(tmp_path / "keys"))
