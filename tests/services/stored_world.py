"""Stored protected tables for the release tests: the release world plus an encrypted dataset.

'ashe' (area 'earnings') is ingested with the VALUES of release_world per area (a3 has a
single contributor), ada is trained and has signed, and `table protect --dataset` runs
through :func:`protect_dataset_for` as in the CLI.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from governance_register import TODAY
from release_world import AREA, CONTEXT, World, build_world
from sqlalchemy import Engine

from fivesafes.governance.areas import Dataset
from fivesafes.sdc.spec import load_spec
from fivesafes.services.governance import datasets
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release.requests import RequestView
from fivesafes.services.vault.lifecycle import Vault, ingest_dataset
from fivesafes.services.vault.tables import ProtectedOutput, protect_dataset_for
from fivesafes.store.db import transaction

# Every area's contributions: they add up to release_world.VALUES; a3 has one contributor.
PAY = {
    "a1": [2, 2, 2, 2, 4, 4, 4],
    "a2": [2, 2, 2, 2, 2, 2, 3],
    "a3": [2],
    "a4": [4, 4, 4, 4, 4, 5, 5],
    "a5": [3, 3, 3, 4, 4, 4, 4],
}
# release_world.SHIFTED as a hierarchy file: N2 = a1 + a2 differs from N by a3.
SHIFTED_CSV = "code,parent\nTotal,\nN2,Total\nR,Total\na1,N2\na2,N2\na3,R\na4,R\na5,R\n"


def spec_text(name: str, hierarchy: str | None, method: str = "optimal") -> str:
    """A pay table over 'area' (threshold 7, as the world's rule set)."""
    dim = f'name = "area"\nhierarchy = "{hierarchy}"\n' if hierarchy else 'name = "area"\n'
    return (
        f'[table]\nname = "{name}"\nresponse = "pay"\ncontributor = "person"\n\n'
        f"[[dimension]]\n{dim}\n[rules]\nthreshold = 7\n\n"
        f'[suppression]\nmethod = "{method}"\n'
    )


def write_rows(path: Path, pay: Mapping[str, list[int]]) -> Path:
    """The microdata: one row per contributor (area, person, pay)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["area", "person", "pay"])
        for area, values in pay.items():
            w.writerows((area, f"{area}-p{i}", v) for i, v in enumerate(values))
    return path


@dataclass
class Stored:
    """The release world with a vault in tmp_path and the dataset 'ashe' ingested."""

    world: World
    vault: Vault
    folder: Path

    def tx(self) -> Any:
        return transaction(self.world.engine)

    def add_dataset(self, name: str, pay: Mapping[str, list[int]]) -> None:
        """Register ``name`` in the area and ingest ``pay`` (the file is deleted after)."""
        entry = Dataset(name, AREA, True, True, True, "survey", "SRSA 2007")
        self.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
        src = write_rows(self.folder / "incoming" / f"{name}.csv", pay)
        ingest_dataset(self.tx, self.vault, "iris", AREA, src, name=name)
        src.unlink()

    def spec(self, name: str, text: str, hierarchy_csv: str | None = None) -> Path:
        folder = self.folder / "specs"
        folder.mkdir(parents=True, exist_ok=True)
        if hierarchy_csv is not None:
            (folder / f"{name}-area.csv").write_text(hierarchy_csv)
        path = folder / f"{name}.toml"
        path.write_text(text)
        return path

    def protect(
        self, *specs: Path, dataset: str = "ashe", login: str = "ada", **kw: Any
    ) -> list[ProtectedOutput]:
        loaded = [load_spec(p) for p in specs]
        return protect_dataset_for(self.tx, self.vault, login, AREA, dataset, loaded, **kw)

    def shifted(self, **kw: Any) -> ProtectedOutput:
        """`table protect` of the SHIFTED grouping of 'ashe' (a3 primary), stored."""
        text = spec_text("pay by new region", "shifted-area.csv")
        (done,) = self.protect(self.spec("shifted", text, SHIFTED_CSV), **kw)
        return done

    def submit(self, output: str, login: str = "ada", **kw: Any) -> RequestView:
        return self.world.reg.act(
            login, release_requests.submit_stored_output, self.vault, output, CONTEXT, **kw
        )


def build_stored(engine: Engine, tmp_path: Path, today: date | None = None) -> Stored:
    """The release world (ada ready for access), 'ashe' stored encrypted in 'earnings'."""
    world = build_world(engine, tmp_path)
    stored = Stored(world, Vault(tmp_path / "areas", world.provider), tmp_path)
    src = write_rows(tmp_path / "incoming" / "ashe.csv", PAY)
    ingest_dataset(stored.tx, stored.vault, "iris", AREA, src, name="ashe")
    src.unlink()
    return stored
