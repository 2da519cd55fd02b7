"""A family of datasets in the stored release world (issue 15 §6), for the release tests.

``firms`` holds every person; ``firms-small`` (the small band) and ``firms-rest`` (the
medium and large bands) are registered as derived from it, unit ``person``. Pay by
area x industry: 8 people per area, industry and band, but a1 x k has seven small of 1, a
medium one of 1000 and six medium of 1, no large (so a1 x k is dominated by one person).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from governance_register import TODAY
from release_world import AREA
from sqlalchemy import Engine
from stored_world import Stored, build_stored

from fivesafes.governance.areas import Dataset
from fivesafes.release.votes import Vote
from fivesafes.services.governance import datasets
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release.register import published_cells
from fivesafes.services.vault.lifecycle import ingest_dataset

SIZES = ("small", "medium", "large")
AREAS = ("a1", "a2", "a3")
INDUSTRIES = ("k", "m")
HEADER = ["area", "industry", "person", "size", "pay"]
# each dataset's bands (the parent's: all of them)
BANDS = {"firms": SIZES, "firms-small": ("small",), "firms-rest": ("medium", "large")}


def rows() -> list[list[object]]:
    """One row per person: area, industry, person, size band, pay."""
    out: list[list[object]] = []
    for a, area in enumerate(AREAS):
        for i, industry in enumerate(INDUSTRIES):
            for size in SIZES:
                if (area, industry) == ("a1", "k"):
                    pays = {"small": [1.0] * 7, "medium": [1000.0] + [1.0] * 6, "large": []}
                    values = pays[size]
                else:
                    values = [float(10 + 3 * a + 5 * i + k) for k in range(8)]
                for k, pay in enumerate(values):
                    out.append([area, industry, f"{area}-{industry}-{size}-{k}", size, pay])
    return out


def band(*sizes: str) -> list[list[object]]:
    return [r for r in rows() if r[3] in sizes]


def register(stored: Stored, name: str, parent: str | None = None) -> None:
    entry = Dataset(
        name, AREA, True, True, True, "survey", "SRSA 2007",
        derived_from=parent, unit="person" if parent else None,
    )  # fmt: skip
    stored.world.reg.act("iris", datasets.register_dataset, entry, TODAY)


def ingest(stored: Stored, name: str, data: list[list[object]]) -> None:
    src = stored.folder / "incoming" / f"{name}.csv"
    src.parent.mkdir(parents=True, exist_ok=True)
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(data)
    try:
        ingest_dataset(stored.tx, stored.vault, "iris", AREA, src, name=name)
    finally:
        src.unlink()


def spec(stored: Stored, name: str, p_percent: bool = False, threshold: int = 7) -> Path:
    """Pay by area x industry (contributor person), optimal suppression, no singleton."""
    text = (
        f'[table]\nname = "{name}"\nresponse = "pay"\ncontributor = "person"\n\n'
        '[[dimension]]\nname = "area"\n\n[[dimension]]\nname = "industry"\n\n'
        f"[rules]\nthreshold = {threshold}\n"
        + ("p_percent = 10\n" if p_percent else "")
        + '\n[suppression]\nmethod = "optimal"\nsingleton = false\n'
    )
    return stored.spec(name, text)


def build_family(engine: Engine, tmp_path: Path) -> Stored:
    """The stored release world with the family registered and ingested."""
    s = build_stored(engine, tmp_path)
    register(s, "firms")
    register(s, "firms-small", "firms")
    register(s, "firms-rest", "firms")
    ingest(s, "firms", rows())
    ingest(s, "firms-small", band("small"))
    ingest(s, "firms-rest", band("medium", "large"))
    return s


def verdicts(view: release_requests.RequestView) -> dict[str, str]:
    return {c.name: c.verdict for c in view.versions[-1].checks}


def publish(stored: Stored, output: str) -> None:
    """Submit the stored output, check differencing passes, approve twice and publish."""
    view = stored.submit(f"{AREA}/{output}")
    assert verdicts(view)["differencing"] == "pass", view.versions[-1].checks
    stored.world.vote("olga", view.id, Vote.APPROVE)
    stored.world.vote("oscar", view.id, Vote.APPROVE)
    stored.world.publish(view.id)


def published(stored: Stored, source: str) -> dict[tuple[str, str], float]:
    """The published cells of ``source``: (area, industry) -> value ("Total" for a total)."""
    with stored.tx() as s:
        frame = published_cells(s, source)
    out = {}
    for codes, value in zip(frame["codes"], frame["value"], strict=True):
        c = json.loads(codes)
        out[(c["area"], c["industry"])] = float(value)
    return out
