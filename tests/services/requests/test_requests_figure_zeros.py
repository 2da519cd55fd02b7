"""The request gate knows the data's zeros, as `release submit` does (both databases).

Pay by region is published, region a3 hidden (three people: under the threshold of 7)
with a complement. Regions a1 and a2 lie in country X, a3 in Y: the data hold no one in
(a3, X) and no one in (a1, Y) or (a2, Y). A figure of the pay of country X is a1 + a2,
so a3 is the published total minus it. Only an attacker who knows those empty
combinations sees it: the gate reads them from the figure's dataset, as the check at
submission does (services/release/zeros.py), and refuses the figure, never with its
value; where it cannot read them, it refuses the figure and says what to do.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from derived_world import publish
from governance_register import TODAY
from release_world import AREA
from requests_world import RECEIVED, REQUESTER
from sqlalchemy import Engine, select
from stored_world import Stored, build_stored

from fivesafes.governance.areas import Dataset
from fivesafes.governance.roles import Role
from fivesafes.requests.figure import parse_cell
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.sdc.tabulate import sources
from fivesafes.services.governance import areas, datasets, grants, people
from fivesafes.services.release import zeros as release_zeros
from fivesafes.services.requests import cases, figures, moves
from fivesafes.services.requests.figures import FigureAnswer
from fivesafes.services.vault.lifecycle import ingest_dataset
from fivesafes.store.models.requests import RequestFigureRow

POLICY = RequestPolicy()
COUNTRY = {"a1": "X", "a2": "X", "a3": "Y"}
PEOPLE = {"a1": 10, "a2": 10, "a3": 3}


def _pay(k: int) -> int:
    return 20 + 3 * k


def _spec(stored: Stored, name: str, dimension: str, where: str = "") -> Path:
    text = (
        f'[table]\nname = "{name}"\nresponse = "pay"\ncontributor = "person"\n{where}\n'
        f'[[dimension]]\nname = "{dimension}"\n\n[rules]\nthreshold = 7\n'
        '\n[suppression]\nmethod = "optimal"\nsingleton = false\n'
    )
    return stored.spec(name, text)


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    """'staff' (region, country, sector, person, pay) in 'earnings'; fiona an FOI officer
    with access; pay by region published from it (a proven source), a3 hidden."""
    s = build_stored(engine, tmp_path)
    reg = s.world.reg
    reg.act("root", people.register_person, "fiona", "Fiona Foi", [Role.FOI_OFFICER])
    reg.make_ready("fiona")
    asked = reg.act("fiona", grants.request_grant, "fiona", AREA, "answers to FOI requests")
    reg.act("iris", grants.approve_grant, asked.id, "ok")
    reg.act("root", areas.create_area, "requests", "iris")
    entry = Dataset("staff", AREA, True, True, True, "survey", "SRSA 2007")
    reg.act("iris", datasets.register_dataset, entry, TODAY)
    src = tmp_path / "incoming" / "staff.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["region", "country", "sector", "person", "pay"])
        for region, n in PEOPLE.items():
            for k in range(n):
                w.writerow([region, COUNTRY[region], "AB"[k % 2], f"{region}-{k}", _pay(k)])
    ingest_dataset(s.tx, s.vault, "iris", AREA, src, name="staff")
    src.unlink()
    (regions,) = s.protect(_spec(s, "regions", "region"), dataset="staff", name="r")
    assert regions.by_status["primary"] == 1  # a3
    publish(s, "r")
    # the people of country X by sector, protected with the release (and its zeros)
    country_x = _spec(s, "x", "sector", 'where = { country = ["X"] }')
    (made,) = s.protect(country_x, dataset="staff", name="x")
    assert made.hidden_for_releases >= 1
    publish(s, "x")
    return s


def _case(s: Stored) -> int:
    reg = s.world.reg
    view = reg.act(
        "fiona", cases.open_case, s.world.provider, POLICY, RequestKind.FOI, RECEIVED,
        REQUESTER, "pay by country", TODAY,
    )  # fmt: skip
    reg.act("fiona", moves.assign_case, POLICY, view.id, "fiona")
    return view.id


def _figure(s: Stored, case_id: int, cell: str) -> FigureAnswer:
    return figures.answer_figure(
        s.tx, s.vault, "fiona", case_id, f"{AREA}/staff", "pay", parse_cell(cell),
        contributor="person",
    )  # fmt: skip


def _value_free(reasons: tuple[str, ...]) -> None:
    country_x = sum(_pay(k) for r in ("a1", "a2") for k in range(PEOPLE[r]))
    a3 = sum(_pay(k) for k in range(PEOPLE["a3"]))
    for reason in reasons:
        assert str(country_x) not in reason and str(a3) not in reason, reason


def test_a_country_figure_that_gives_away_a_hidden_region_is_refused(stored: Stored) -> None:
    case_id = _case(stored)
    refused = _figure(stored, case_id, "country=X")
    assert not refused.approved and refused.value is None
    (reason,) = refused.reasons
    assert "differencing" in reason and "region=a3" in reason
    _value_free(refused.reasons)
    with stored.tx() as s:
        row = s.scalars(select(RequestFigureRow).where(RequestFigureRow.id == refused.id)).one()
        assert row.value is None and not row.approved
    event = stored.world.reg.last_event()
    assert event.action == "request.figure" and event.outcome == "denied"
    assert event.details["reasons"] == [reason]
    # checked with the zeros too, a figure that the releases publish already passes
    assert _figure(stored, case_id, "region=a1+a2+a3").approved


def test_a_figure_whose_zeros_cannot_be_read_is_refused_with_what_to_do(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = _case(stored)
    # more value pairs than the check holds: refused, not approved without the zeros
    monkeypatch.setattr(sources, "MAX_VALUE_PAIRS", 2)
    too_many = _figure(stored, case_id, "country=X")
    assert not too_many.approved and too_many.value is None
    (reason,) = too_many.reasons
    assert "'country' and 'region'" in reason and "coarser" in reason, reason
    assert "distinct pairs" in reason
    _value_free(too_many.reasons)
    monkeypatch.undo()

    def unreadable(*args: object, **kw: object) -> object:
        raise OSError("the stored dataset cannot be decrypted")

    monkeypatch.setattr(release_zeros, "decrypt", unreadable)
    broken = _figure(stored, case_id, "country=X")
    assert not broken.approved and broken.value is None
    (reason,) = broken.reasons
    assert "leave empty" in reason and "OSError" in reason and "again" in reason, reason
    assert "decrypted" not in reason  # only the kind of error: its text may quote data
