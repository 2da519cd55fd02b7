"""A 'staff' dataset in 'earnings' and fiona, an FOI officer who may answer from it: the
request gate's figure tests (the data's zeros, a figure's dimensions) build on it."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

from governance_register import TODAY
from release_world import AREA
from requests_world import RECEIVED, REQUESTER
from sqlalchemy import Engine
from stored_world import Stored, build_stored

from fivesafes.governance.areas import Dataset
from fivesafes.governance.roles import Role
from fivesafes.requests.figure import parse_cell
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.governance import areas, datasets, grants, people
from fivesafes.services.requests import cases, figures, moves
from fivesafes.services.requests.figures import FigureAnswer
from fivesafes.services.vault.lifecycle import ingest_dataset

POLICY = RequestPolicy()


def build_staff(
    engine: Engine, tmp_path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Stored:
    """The stored world with fiona (an FOI officer with access to the area) and 'staff'
    ingested from ``header`` and ``rows`` (the file is removed after)."""
    s = with_fiona(build_stored(engine, tmp_path))
    ingest_staff(s, tmp_path, header, rows)
    return s


def with_fiona(s: Stored) -> Stored:
    """``s`` with fiona, an FOI officer with access to the area, and the requests area."""
    reg = s.world.reg
    reg.act("root", people.register_person, "fiona", "Fiona Foi", [Role.FOI_OFFICER])
    reg.make_ready("fiona")
    asked = reg.act("fiona", grants.request_grant, "fiona", AREA, "answers to FOI requests")
    reg.act("iris", grants.approve_grant, asked.id, "ok")
    reg.act("root", areas.create_area, "requests", "iris")
    return s


def ingest_staff(
    s: Stored, tmp_path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """'staff' registered in the area and ingested from ``header`` and ``rows`` (the
    file is removed after)."""
    entry = Dataset("staff", AREA, True, True, True, "survey", "SRSA 2007")
    s.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    src = tmp_path / "incoming" / "staff.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    ingest_dataset(s.tx, s.vault, "iris", AREA, src, name="staff")
    src.unlink()


def pay_spec(stored: Stored, name: str, dimension: str, where: str = "") -> Path:
    """Pay by ``dimension`` (threshold 7, optimal suppression), filtered by ``where``."""
    text = (
        f'[table]\nname = "{name}"\nresponse = "pay"\ncontributor = "person"\n{where}\n'
        f'[[dimension]]\nname = "{dimension}"\n\n[rules]\nthreshold = 7\n'
        '\n[suppression]\nmethod = "optimal"\nsingleton = false\n'
    )
    return stored.spec(name, text)


def open_case(s: Stored, subject: str) -> int:
    """An FOI case about ``subject``, assigned to fiona."""
    reg = s.world.reg
    view = reg.act(
        "fiona", cases.open_case, s.world.provider, POLICY, RequestKind.FOI, RECEIVED,
        REQUESTER, subject, TODAY,
    )  # fmt: skip
    reg.act("fiona", moves.assign_case, POLICY, view.id, "fiona")
    return view.id


def pay_figure(s: Stored, case_id: int, cell: str) -> FigureAnswer:
    """fiona's figure of the pay of ``cell`` in 'staff'."""
    return figures.answer_figure(
        s.tx, s.vault, "fiona", case_id, f"{AREA}/staff", "pay", parse_cell(cell),
        contributor="person",
    )  # fmt: skip
