"""Tables of part of the units (issue 15 §6) through the register (both databases).

Pay by area for every person is published (a1 hidden: dominated by one person); then
the same table for the small employers only ([table] where, a1 published: seven
small units of 1). A third table for the other size bands publishes a1 too: added to
the small band's, it is a1 of the first release, exactly. The register records each
table's population, so the differencing check sees the three as parts of one set of
units and blocks the third protected alone; protected with the releases (the
default), it passes and publishes.
"""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest
from governance_register import TODAY
from release_world import AREA
from sqlalchemy import Engine, text
from stored_world import Stored, build_stored

from fivesafes.errors import UnsafeTableError
from fivesafes.governance.areas import Dataset
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState
from fivesafes.services.governance import datasets
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release.register import earlier_outputs, published_cells
from fivesafes.services.vault.lifecycle import ingest_dataset
from fivesafes.store.base import Base

SIZES = ("small", "medium", "large")


def _rows() -> list[tuple[str, str, str, float]]:
    """(area, person, size, pay): 8 people per area and band, but a1: seven small of 1,
    a medium one of 1000 and six of 1, no large."""
    rows = []
    for a, area in enumerate(("a1", "a2", "a3", "a4")):
        for size in SIZES:
            if area == "a1":
                pays = {"small": [1.0] * 7, "medium": [1000.0] + [1.0] * 6, "large": []}[size]
            else:
                pays = [float(10 + 3 * a + k) for k in range(8)]
            rows += [(area, f"{area}-{size}-{k}", size, p) for k, p in enumerate(pays)]
    return rows


def _spec(stored: Stored, name: str, where: str = "", p_percent: bool = False) -> Path:
    text = (
        f'[table]\nname = "{name}"\nresponse = "pay"\ncontributor = "person"\n{where}\n'
        '[[dimension]]\nname = "area"\n\n[rules]\nthreshold = 7\n'
        + ("p_percent = 10\n" if p_percent else "")
        + '\n[suppression]\nmethod = "optimal"\nsingleton = false\n'
    )
    return stored.spec(name, text)


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    s = build_stored(engine, tmp_path)
    entry = Dataset("firms", AREA, True, True, True, "survey", "SRSA 2007")
    s.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    src = tmp_path / "incoming" / "firms.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["area", "person", "size", "pay"])
        w.writerows(_rows())
    ingest_dataset(s.tx, s.vault, "iris", AREA, src, name="firms")
    src.unlink()
    return s


def _verdicts(view: release_requests.RequestView) -> dict[str, str]:
    return {c.name: c.verdict for c in view.versions[-1].checks}


def _publish(stored: Stored, output: str) -> release_requests.RequestView:
    view = stored.submit(f"{AREA}/{output}")
    assert _verdicts(view)["differencing"] == "pass", view.versions[-1].checks
    stored.world.vote("olga", view.id, Vote.APPROVE)
    stored.world.vote("oscar", view.id, Vote.APPROVE)
    stored.world.publish(view.id)
    return view


def test_the_other_bands_are_blocked_alone_and_published_when_protected_with_both(
    stored: Stored,
) -> None:
    (whole,) = stored.protect(_spec(stored, "all", p_percent=True), dataset="firms", name="all")
    assert whole.by_rule.get("p%(10)", 0) >= 1  # a1: one person's pay
    _publish(stored, "all")
    small_where = 'where = { size = ["small"] }'
    (small,) = stored.protect(_spec(stored, "small", small_where), dataset="firms", name="small")
    assert small.by_status["primary"] == 0  # a1 published: seven small units of 1
    _publish(stored, "small")
    with stored.tx() as s:
        frame = published_cells(s, "firms:pay")
    assert any('"size": "small"' in c for c in frame["codes"])  # the population, recorded

    others_where = 'where = { size = ["medium", "large"] }'
    others = _spec(stored, "others", others_where)
    stored.protect(others, dataset="firms", name="alone", with_releases=False)
    view = stored.submit(f"{AREA}/alone")
    assert _verdicts(view)["differencing"] == "fail"
    with pytest.raises(UnsafeTableError, match="area=a1"):
        stored.world.vote("olga", view.id, Vote.APPROVE)

    (made,) = stored.protect(others, dataset="firms", name="others")
    assert len(made.published_releases) == 2 and made.hidden_for_releases >= 1
    assert made.population == {"size": ["large", "medium"]}
    assert stored.world.reg.last_event().details["population"] == made.population
    _publish(stored, "others")


def _plain_text(stored: Stored) -> str:
    """Everything readable without an area key: every text of every row of the database
    (sealed columns are bytes) and every file of the published bundles (zips opened)."""
    parts: list[str] = []
    with stored.tx() as s:
        for name in Base.metadata.tables:
            for row in s.execute(text(f'SELECT * FROM "{name}"')):
                parts += [str(v) for v in row if not isinstance(v, bytes | memoryview)]
    for path in sorted(stored.world.releases.rglob("*")):
        if path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
        elif path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def test_a_filter_on_a_unit_identifier_leaves_only_the_units_it_selects_in_plain_text(
    stored: Stored,
) -> None:
    # The small band listed by person (a unit identifier) rather than by size band: the
    # check needs every person of the data to relate it to the table of everyone, but
    # the persons it does not select are in none of the published cells and must be in
    # no plain text (the register, the audit log, the bundle), only in the area's seal.
    stored.protect(_spec(stored, "all", p_percent=True), dataset="firms", name="all")
    _publish(stored, "all")
    small = sorted(p for _, p, size, _ in _rows() if size == "small")
    others = sorted(p for _, p, size, _ in _rows() if size != "small")
    listed = f"where = {{ person = {json.dumps(small)} }}"
    (made,) = stored.protect(_spec(stored, "listed", listed), dataset="firms", name="listed")
    assert made.population == {"person": small}
    view = _publish(stored, "listed")
    plain = _plain_text(stored)
    assert all(p in plain for p in small)  # the filter's codes are published with it
    leaked = [p for p in others if p in plain]
    assert leaked == [], leaked[:5]
    assert stored.world.show(view.id).state is RequestState.RELEASED
    # what the check reads back: every person (from the seal), as at publication
    with stored.tx() as s:
        _, again = earlier_outputs(s, stored.world.provider, "firms:pay")
    (person,) = (h for h in again.hierarchies if h.name == "person")
    assert sorted(person.leaves) == sorted(small + others)
    # fail closed: the check still relates it to the other persons, from the seal, so the
    # others listed by person and protected alone give a1 of the first release away
    rest = f"where = {{ person = {json.dumps(others)} }}"
    stored.protect(_spec(stored, "rest", rest), dataset="firms", name="rest", with_releases=False)
    blocked = stored.submit(f"{AREA}/rest")
    assert _verdicts(blocked)["differencing"] == "fail"
    with pytest.raises(UnsafeTableError, match="area=a1"):
        stored.world.vote("olga", blocked.id, Vote.APPROVE)
