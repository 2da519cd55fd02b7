"""A stored world whose differencing check reads the data's zeros: 'staff' by region.

a3 (3 people) is the only region of country Y; a1 and a2 (10 each) make country X. A
region table publishes a1 and a2 and hides a3; a country table then pairs with it, and
only the data's zeros (which regions have nobody) tell whether X's total gives a3 away.
"""

from __future__ import annotations

import csv
from pathlib import Path

from governance_register import TODAY
from release_world import AREA
from sqlalchemy import Engine
from stored_world import Stored, build_stored

from fivesafes.governance.areas import Dataset
from fivesafes.services.governance import datasets
from fivesafes.services.vault.lifecycle import ingest_dataset

COUNTRY = {"a1": "X", "a2": "X", "a3": "Y"}
PEOPLE = {"a1": 10, "a2": 10, "a3": 3}


def build_staff_world(engine: Engine, tmp_path: Path) -> Stored:
    """The stored world with 'staff' registered and ingested (its source file removed)."""
    s = build_stored(engine, tmp_path)
    entry = Dataset("staff", AREA, True, True, True, "survey", "SRSA 2007")
    s.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    src = tmp_path / "incoming" / "staff.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["region", "country", "sector", "person", "pay"])
        for region, n in PEOPLE.items():
            for k in range(n):
                w.writerow([region, COUNTRY[region], "AB"[k % 2], f"{region}-{k}", 20 + 3 * k])
    ingest_dataset(s.tx, s.vault, "iris", AREA, src, name="staff")
    src.unlink()
    return s


def staff_spec(stored: Stored, name: str, dimension: str, where: str = "") -> Path:
    """A spec of 'staff' by one dimension (threshold 7, `optimal`, no singleton check)."""
    text = (
        f'[table]\nname = "{name}"\nresponse = "pay"\ncontributor = "person"\n{where}\n'
        f'[[dimension]]\nname = "{dimension}"\n\n[rules]\nthreshold = 7\n'
        '\n[suppression]\nmethod = "optimal"\nsingleton = false\n'
    )
    return stored.spec(name, text)
