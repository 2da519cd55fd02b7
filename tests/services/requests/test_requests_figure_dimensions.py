"""Figures on a dimension no release has, and figures of one combination of two (both databases).

'staff' (region, country, sector, shift, person, pay) in 'earnings'. Pay by region is
published, a3 hidden (three people: under the threshold of 7) with a complement; pay by
sector is published too. The data put a1 and a2 in country X and a3 in Y; every person of
a2 works in sector A and every person of a3 in B; a1 has both sectors. Every region and
every sector has people on both shifts (D and N).

- ``shift`` and ``country`` are dimensions no release has. The check must see every code of
  such a dimension, else the figure's own codes look like all of them and the figure's
  total clashes with the published grand total (refused, but for the wrong reason).
- ``region=a1,sector=B`` crosses the figure's own pair of columns, whose empty
  combinations ((a2, B), (a3, A)) are what pin a3: a3 = B - (a1, B).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from derived_world import publish
from release_world import AREA
from sqlalchemy import Engine, select
from staff_world import build_staff, open_case, pay_figure, pay_spec
from stored_world import Stored

from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.requests import gates
from fivesafes.services.vault import lifecycle
from fivesafes.store.models.requests import RequestFigureRow

POLICY = RequestPolicy()
PEOPLE = {"a1": 20, "a2": 10, "a3": 3}
COUNTRY = {"a1": "X", "a2": "X", "a3": "Y"}


def _sector(region: str, k: int) -> str:
    return {"a1": "AB"[k % 2], "a2": "A", "a3": "B"}[region]


def _shift(k: int) -> str:
    return "D" if k % 3 == 0 else "N"


def _pay(k: int) -> int:
    return 20 + 3 * k


ROWS = [
    (region, COUNTRY[region], _sector(region, k), _shift(k), f"{region}-{k}", _pay(k))
    for region, n in PEOPLE.items()
    for k in range(n)
]


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    """'staff' in 'earnings', fiona an FOI officer with access; pay by region (a3 hidden)
    and pay by sector published from it (proven sources)."""
    header = ["region", "country", "sector", "shift", "person", "pay"]
    s = build_staff(engine, tmp_path, header, ROWS)
    (regions,) = s.protect(pay_spec(s, "regions", "region"), dataset="staff", name="r")
    assert regions.by_status["primary"] == 1  # a3
    publish(s, "r")
    (sectors,) = s.protect(pay_spec(s, "sectors", "sector"), dataset="staff", name="s")
    assert sectors.by_status.get("primary", 0) == 0
    publish(s, "s")
    return s


def _total(**where: str) -> int:
    names = ("region", "country", "sector", "shift")
    return sum(r[5] for r in ROWS if all(r[names.index(c)] == v for c, v in where.items()))


def _value_free(reasons: tuple[str, ...], *values: int) -> None:
    for reason in reasons:
        for value in (_total(region="a3"), *values):
            assert str(value) not in reason, reason


def test_a_safe_figure_on_a_dimension_no_release_has_is_approved(stored: Stored) -> None:
    """The pay of shift D leaves every hidden cell exactly the interval it had.

    Why (the attacker's model: atoms by region, sector and shift, the data's empty pairs
    held at zero): every pair of shift with region or sector holds people (asserted
    below), so no atom with a shift is held at zero. Take any values of the (region,
    sector) atoms that agree with the published cells and the data's zeros, total T > 0;
    split each one into D and N in the proportion D / T. The split agrees with every
    published cell (they sum over shift), with every zero (a zero atom splits into zeros),
    and with the figure (its D parts add up to D). So every value a hidden cell could take
    before, it can take with the figure: no interval narrows, the figure discloses
    nothing. It breaks no primary rule (12 people, none dominant).
    """
    for i in (0, 2):  # the premise: shift D and N beside every region and every sector
        for value in {r[i] for r in ROWS}:
            assert {r[3] for r in ROWS if r[i] == value} == {"D", "N"}
    case_id = open_case(stored, "pay by shift")
    shift = pay_figure(stored, case_id, "shift=D")
    assert shift.reasons == () and shift.approved
    assert shift.value == _total(shift="D")
    # approved, it joins the register: a later figure is checked with it, read back whole
    # (not refused because the figure's shift D looks like every shift), also after the
    # area's key was rotated (its sealed codes re-wrapped) and by a new process
    lifecycle.rotate_area_key_for(stored.tx, stored.vault, "root", AREA)
    gates.forget_all()
    later = pay_figure(stored, case_id, "region=a1")  # published already
    assert later.approved, later.reasons
    with stored.tx() as s:
        row = s.scalars(select(RequestFigureRow).where(RequestFigureRow.id == shift.id)).one()
        # the plain register keeps the figure's own codes; the rest of the dimension is
        # sealed under the area's key (a dimension may be a unit identifier)
        assert "N" not in {code for code, *_ in json.loads(row.hierarchies_json)["shift"]}
        assert row.sealed_hierarchies is not None


def test_a_disclosive_figure_on_a_dimension_no_release_has_is_refused_for_it(
    stored: Stored,
) -> None:
    """Country X is a1 + a2 (no one of a3 in X, no one of a1 or a2 in Y): a3 is the
    published total minus the figure. Refused by differencing, naming a3, not because the
    check could not run."""
    case_id = open_case(stored, "pay by shift")
    refused = pay_figure(stored, case_id, "country=X")
    assert not refused.approved and refused.value is None
    (reason,) = refused.reasons
    assert "could not run" not in reason, reason
    assert "differencing" in reason and "region=a3" in reason, reason
    _value_free(refused.reasons, _total(country="X"))


def test_a_figure_of_one_combination_that_pins_a_hidden_cell_with_the_zeros_is_refused(
    stored: Stored,
) -> None:
    """The attacker's figure: the pay of region a1 in sector B.

    Sector B is published, and holds people of a1 and a3 only (no one of a2 is in B), and
    a3 is all in B (no one of a3 is in A): so a3 = B - (a1, B), exactly. Only the empty
    combinations of the figure's own two columns show it; a check that does not read them
    (the figure crosses region and sector, as a table of both would) lets it pass.
    """
    assert _total(sector="B") - _total(region="a1", sector="B") == _total(region="a3")
    case_id = open_case(stored, "pay by shift")
    refused = pay_figure(stored, case_id, "region=a1,sector=B")
    assert not refused.approved and refused.value is None
    (reason,) = refused.reasons
    assert "differencing" in reason and "region=a3" in reason, reason
    _value_free(refused.reasons, _total(region="a1", sector="B"))
    # held at its zeros, the check still approves what the published cells fix already:
    # region a1 in every sector is the published a1 (a2, the complement, stays hidden)
    assert pay_figure(stored, case_id, "region=a1,sector=A+B").approved
