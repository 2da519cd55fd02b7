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

from pathlib import Path

import pytest
from derived_world import publish
from sqlalchemy import Engine, select
from staff_world import build_staff, open_case, pay_figure, pay_spec
from stored_world import Stored

from fivesafes.requests.policy import RequestPolicy
from fivesafes.sdc.tabulate import sources
from fivesafes.services.release import zeros as release_zeros
from fivesafes.store.models.requests import RequestFigureRow

POLICY = RequestPolicy()
COUNTRY = {"a1": "X", "a2": "X", "a3": "Y"}
PEOPLE = {"a1": 10, "a2": 10, "a3": 3}


def _pay(k: int) -> int:
    return 20 + 3 * k


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    """'staff' (region, country, sector, person, pay) in 'earnings'; fiona an FOI officer
    with access; pay by region published from it (a proven source), a3 hidden."""
    rows = [
        (region, COUNTRY[region], "AB"[k % 2], f"{region}-{k}", _pay(k))
        for region, n in PEOPLE.items()
        for k in range(n)
    ]
    s = build_staff(engine, tmp_path, ["region", "country", "sector", "person", "pay"], rows)
    (regions,) = s.protect(pay_spec(s, "regions", "region"), dataset="staff", name="r")
    assert regions.by_status["primary"] == 1  # a3
    publish(s, "r")
    # the people of country X by sector, protected with the release (and its zeros)
    country_x = pay_spec(s, "x", "sector", 'where = { country = ["X"] }')
    (made,) = s.protect(country_x, dataset="staff", name="x")
    assert made.hidden_for_releases >= 1
    publish(s, "x")
    return s


def _value_free(reasons: tuple[str, ...]) -> None:
    country_x = sum(_pay(k) for r in ("a1", "a2") for k in range(PEOPLE[r]))
    a3 = sum(_pay(k) for k in range(PEOPLE["a3"]))
    for reason in reasons:
        assert str(country_x) not in reason and str(a3) not in reason, reason


def test_a_country_figure_that_gives_away_a_hidden_region_is_refused(stored: Stored) -> None:
    case_id = open_case(stored, "pay by country")
    refused = pay_figure(stored, case_id, "country=X")
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
    assert pay_figure(stored, case_id, "region=a1+a2+a3").approved


def test_a_figure_whose_zeros_cannot_be_read_is_refused_with_what_to_do(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = open_case(stored, "pay by country")
    # more value pairs than the check holds: refused, not approved without the zeros
    monkeypatch.setattr(sources, "MAX_VALUE_PAIRS", 2)
    too_many = pay_figure(stored, case_id, "country=X")
    assert not too_many.approved and too_many.value is None
    (reason,) = too_many.reasons
    assert "'country' and 'region'" in reason and "coarser" in reason, reason
    assert "distinct pairs" in reason
    _value_free(too_many.reasons)
    monkeypatch.undo()

    def unreadable(*args: object, **kw: object) -> object:
        raise OSError("the stored dataset cannot be decrypted")

    monkeypatch.setattr(release_zeros, "decrypt", unreadable)
    broken = pay_figure(stored, case_id, "country=X")
    assert not broken.approved and broken.value is None
    (reason,) = broken.reasons
    assert "leave empty" in reason and "OSError" in reason and "again" in reason, reason
    assert "decrypted" not in reason  # only the kind of error: its text may quote data
