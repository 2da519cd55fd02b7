"""`table protect --dataset` protects a new table together with the releases of its source.

The known attack (issue 15 §4): a table of 'ashe' by region (N = a1 + a2 + a3, a3 hidden)
is published; a table of the same data by a shifted grouping (N2 = a1 + a2) then
discloses a3 = N - N2, and was blocked at `release submit`, leaving its author to guess
what to hide. Protected by default with the published release, it passes the check and
publishes, and an LP of our own over both published tables leaves every primary at
least its protection. With --ignore-published it is protected alone and still blocked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from release_world import AREA, BY_REGION, SHIFTED, SOURCE, first_release
from scipy.optimize import linprog
from sqlalchemy import Engine
from stored_world import Stored, build_stored

from fivesafes.errors import UnsafeTableError
from fivesafes.release.votes import Vote
from fivesafes.sdc import LOWER, STATUS, UPPER, VALUE, Status
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release.register import published_cells
from fivesafes.services.vault.tables import stored_table

LEAVES = ("a1", "a2", "a3", "a4", "a5")


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    s = build_stored(engine, tmp_path)
    s.world.release(first_release())  # a3 hidden (a2 its complement), N published
    return s


def _checks(view: release_requests.RequestView) -> dict[str, str]:
    return {c.name: c.verdict for c in view.versions[-1].checks}


def _publish(stored: Stored, rid: int) -> None:
    stored.world.vote("olga", rid, Vote.APPROVE)
    stored.world.vote("oscar", rid, Vote.APPROVE)
    stored.world.publish(rid)


def _attacker_interval(
    sums: list[tuple[frozenset[str], float]], target: str
) -> tuple[float, float]:
    """min and max of a leaf over non-negative leaves that add up to every published sum
    (scipy's linprog: not the library's attacker)."""
    a_eq = np.array([[1.0 if leaf in cover else 0.0 for leaf in LEAVES] for cover, _ in sums])
    b_eq = np.array([v for _, v in sums])
    c = np.array([1.0 if leaf == target else 0.0 for leaf in LEAVES])
    low = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    high = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    assert low.status == 0 and high.status == 0
    return float(low.fun), float(-high.fun)


def _published_sums(stored: Stored) -> list[tuple[frozenset[str], float]]:
    """Every published cell of the source as (its leaves, its value), from the register."""
    by_code: dict[str, frozenset[str]] = {}
    for h in (BY_REGION, SHIFTED):
        by_code.update({c: frozenset(h.leaves_under(c)) for c in h.order})
    with stored.tx() as s:
        frame = published_cells(s, SOURCE)
    assert set(frame["release"]) and len(set(frame["release"])) == 2  # both releases
    # a code is the same leaves in both groupings only where the code is shared
    sums = []
    for codes, value in zip(frame["codes"], frame["value"], strict=True):
        code = json.loads(codes)["area"]
        sums.append((by_code[code], float(value)))
    return sums


def test_a_shifted_grouping_is_protected_with_the_release_and_publishes(stored: Stored) -> None:
    made = stored.shifted()  # N2 = a1 + a2: alone, N - N2 = a3
    assert made.with_releases
    (first_id,) = made.published_releases
    assert made.hidden_for_releases >= 1
    event = stored.world.reg.last_event()
    assert event.action == "table.protect"
    assert event.details["published_releases"] == [first_id]
    view = stored.submit(f"{AREA}/{made.output.name}")
    assert view.source_verified
    assert _checks(view) == {
        "source": "pass",
        "rules": "pass",
        "audit": "pass",
        "differencing": "pass",
        "regime": "pass",
    }
    diff = next(c for c in view.versions[-1].checks if c.name == "differencing")
    assert first_id in diff.details["earlier_releases"]
    _publish(stored, view.id)

    # Our own attacker over both published tables: no primary of either narrower than
    # its protection (a3: 1 in the first release; its requirement in the new table).
    with stored.tx() as s:
        new_table, _ = stored_table(s, stored.vault, AREA, made.output.name)
    cells = new_table.cells
    primaries = cells[cells[STATUS].astype(str) == Status.PRIMARY.value]
    need = {"a3": (1.0, 1.0)}
    for code, lo, up in zip(primaries["area"], primaries[LOWER], primaries[UPPER], strict=True):
        old = need.get(str(code), (0.0, 0.0))
        need[str(code)] = (max(old[0], float(lo)), max(old[1], float(up)))
    values = dict(zip(cells["area"].astype(str), cells[VALUE].astype(float), strict=True))
    sums = _published_sums(stored)
    for code, (lo, up) in need.items():
        leaves = SHIFTED.leaves_under(code) if code in SHIFTED.order else [code]
        assert len(leaves) == 1, "the primaries here are leaves"
        low, high = _attacker_interval(sums, leaves[0])
        assert high - low > 1e-6, f"{code} exactly disclosed"
        assert low <= values[code] - lo + 1e-6 and high >= values[code] + up - 1e-6, (
            code,
            low,
            high,
        )


def test_ignoring_the_releases_protects_alone_and_submission_still_blocks(
    stored: Stored,
) -> None:
    made = stored.shifted(with_releases=False)
    assert not made.with_releases and made.published_releases == ()
    assert stored.world.reg.last_event().details["with_releases"] is False
    view = stored.submit(f"{AREA}/{made.output.name}")
    assert _checks(view)["differencing"] == "fail"
    with pytest.raises(UnsafeTableError, match="differencing"):
        stored.world.vote("olga", view.id, Vote.APPROVE)


def test_a_source_with_no_release_is_protected_as_before(engine: Engine, tmp_path: Path) -> None:
    fresh = build_stored(engine, tmp_path)
    made = fresh.shifted()
    alone = fresh.shifted(with_releases=False, name="alone")
    assert made.published_releases == () and made.hidden_for_releases == 0
    assert made.by_status == alone.by_status
