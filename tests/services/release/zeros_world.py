"""A stored world whose differencing check reads the data's zeros: 'staff' by region.

a3 (3 people) is the only region of country Y; a1 and a2 (10 each) make country X. A
region table publishes a1 and a2 and hides a3; a country table then pairs with it, and
only the data's zeros (which regions have nobody) tell whether X's total gives a3 away.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from staff_world import ingest_staff
from stored_world import Stored, build_stored

COUNTRY = {"a1": "X", "a2": "X", "a3": "Y"}
PEOPLE = {"a1": 10, "a2": 10, "a3": 3}


def build_staff_world(engine: Engine, tmp_path: Path) -> Stored:
    """The stored world with 'staff' registered and ingested (its source file removed)."""
    s = build_stored(engine, tmp_path)
    rows = [
        [region, COUNTRY[region], "AB"[k % 2], f"{region}-{k}", 20 + 3 * k]
        for region, n in PEOPLE.items()
        for k in range(n)
    ]
    ingest_staff(s, tmp_path, ["region", "country", "sector", "person", "pay"], rows)
    return s
