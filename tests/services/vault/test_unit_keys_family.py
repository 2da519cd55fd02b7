"""Record keys by unit through the register: a family's members, and a dataset ingested
again, perturb the same units the same way (the cell key method's promise).

``firms`` (every person) and ``firms-small`` (the small band, derived, unit ``person``)
of derived_world: a count of the small people by area x industry, from the parent with
``where = { size = ["small"] }`` and from the derived dataset, is a table of the same
units, so every cell must be published with the same value.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from derived_world import band, build_family, ingest, register, rows
from governance_register import TODAY
from release_world import AREA
from sqlalchemy import Engine, select
from stored_world import Stored, build_stored

from fivesafes.governance.areas import Dataset
from fivesafes.release.regimes import Earlier, Regime, clashes, regime_of_submission
from fivesafes.sdc import RECORD_KEY_COLUMN
from fivesafes.services.governance import datasets
from fivesafes.services.release.scope import area_families
from fivesafes.services.vault.lifecycle import destroy_dataset, ingest_dataset
from fivesafes.services.vault.tables import stored_table
from fivesafes.store.models.governance import DatasetRow
from fivesafes.vault.record_keys import SCHEME
from fivesafes.vault.unit_keys import UNIT_SCHEME

SMALL = (
    '[table]\nname = "{name}"\nprotection = "cellkey"\n{where}\n'
    '[[dimension]]\nname = "area"\n\n[[dimension]]\nname = "industry"\n\n'
    "[rules]\nthreshold = 3\n\n[perturbation]\nD = 3\nV = 2.0\njs = 0\n"
)


def _published(stored: Stored, dataset: str, name: str, where: bool) -> pd.Series:
    text = SMALL.format(name=name, where='where = { size = ["small"] }\n' if where else "")
    (done,) = stored.protect(stored.spec(name, text), dataset=dataset, name=name)
    with stored.tx() as s:
        table, _ = stored_table(s, stored.vault, AREA, done.output.name)
    cells = table.cells.set_index(["area", "industry"])["published"]
    return cells.sort_index()


def _scheme(stored: Stored, name: str) -> dict:
    return stored.vault.store(AREA).manifest(name).extra["record_keys"]


def test_a_cell_of_the_same_units_is_perturbed_the_same_in_the_parent_and_a_derived_dataset(
    engine: Engine, tmp_path: Path
) -> None:
    stored = build_family(engine, tmp_path)
    family = {"column": RECORD_KEY_COLUMN, "scheme": UNIT_SCHEME, "unit": "person"}
    assert _scheme(stored, "firms") == {**family, "family": "firms"}
    assert _scheme(stored, "firms-small") == {**family, "family": "firms"}
    whole = _published(stored, "firms", "small-of-all", where=True)
    part = _published(stored, "firms-small", "small-alone", where=False)
    assert len(whole) == 12 and whole.equals(part)


def test_a_dataset_naming_its_unit_keeps_its_perturbation_when_ingested_again(
    engine: Engine, tmp_path: Path
) -> None:
    stored = build_stored(engine, tmp_path)
    entry = Dataset("staff", AREA, True, True, True, "survey", "SRSA 2007", unit="person")
    stored.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    data = rows()
    ingest(stored, "staff", data)
    assert _scheme(stored, "staff")["scheme"] == UNIT_SCHEME
    first = _published(stored, "staff", "v1", where=True)
    destroy_dataset(stored.tx, stored.vault, "iris", AREA, "staff", "next version")
    # the next extract: the rows in another order and one more person, a large one
    moved = random.Random(3).sample(data, len(data))
    ingest(stored, "staff", [["a1", "k", "newcomer", "large", 5.0], *moved])
    second = _published(stored, "staff", "v2", where=True)
    assert len(first) == 12 and first.equals(second)


def test_datasets_of_the_same_units_under_unrelated_names_publish_the_same_cells(
    engine: Engine, tmp_path: Path
) -> None:
    # a new version registered under a new name, not declared derived: the same keys for
    # the same units (the unit column's namespace), so no second perturbation to average,
    # and the regime check sees the keys as drawn the same way
    stored = build_stored(engine, tmp_path)
    for name in ("staff-2025", "payroll"):
        entry = Dataset(name, AREA, True, True, True, "survey", "SRSA 2007", unit="person")
        stored.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    data = rows()
    ingest(stored, "staff-2025", data)
    ingest(stored, "payroll", random.Random(5).sample(data, len(data)))
    first = _published(stored, "staff-2025", "old", where=True)
    second = _published(stored, "payroll", "new", where=True)
    assert len(first) == 12 and first.equals(second)
    old = _regime(stored, "staff-2025", "old-again", where=True)
    assert old == _regime(stored, "payroll", "new-again", where=True)


def test_a_member_keyed_by_row_is_named_at_the_ingest_of_another(
    engine: Engine, tmp_path: Path
) -> None:
    stored = build_stored(engine, tmp_path)
    register(stored, "shops")
    ingest(stored, "shops", rows())  # no unit yet: keys by row
    assert _scheme(stored, "shops")["scheme"] == SCHEME
    register(stored, "shops-small", "shops")  # names the family's unit
    src = stored.folder / "small.csv"
    src.write_text("area,industry,person,size,pay\n")
    with src.open("a") as fh:
        fh.writelines(",".join(map(str, r)) + "\n" for r in band("small"))
    made = ingest_dataset(stored.tx, stored.vault, "iris", AREA, src, name="shops-small")
    assert _scheme(stored, "shops-small")["family"] == "shops"
    (warning,) = [w for w in made.warnings if "record keys by row" in w]
    assert "destroy and ingest 'shops' again" in warning


def test_a_dataset_may_name_its_unit_without_a_parent(engine: Engine, tmp_path: Path) -> None:
    stored = build_stored(engine, tmp_path)
    entry = Dataset("solo", AREA, True, True, True, "s", "b", unit="person")
    stored.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    with stored.tx() as s:
        shown = datasets.get_dataset(s, "solo")
    assert (shown.derived_from, shown.unit) == (None, "person")
    ingest(stored, "solo", rows())
    with stored.tx() as s:  # no family to check: nothing is derived from it
        solo = s.scalars(select(DatasetRow).where(DatasetRow.name == "solo")).one()
        assert solo.membership_json is None
        assert area_families(s, solo.area_id) == []
    # a child must name the same unit
    with pytest.raises(Exception, match="use --unit person"):
        child = Dataset("solo-x", AREA, True, True, True, "s", "b", derived_from="solo", unit="id")
        stored.world.reg.act("iris", datasets.register_dataset, child, TODAY)


def _regime(stored: Stored, dataset: str, name: str, where: bool) -> Regime:
    text = SMALL.format(name=name, where='where = { size = ["small"] }\n' if where else "")
    (done,) = stored.protect(stored.spec(name, text), dataset=dataset, name=name)
    with stored.tx() as s:
        table, _ = stored_table(s, stored.vault, AREA, done.output.name)
    return regime_of_submission(table)


def test_the_regime_of_a_table_names_how_its_keys_were_drawn(
    engine: Engine, tmp_path: Path
) -> None:
    # one perturbation regime per source and family (release/regimes.py): members keyed by
    # unit share their keys, so their tables match; keys drawn by row of another file do
    # not, and a table of them must not pass as the same regime (independent noise)
    stored = build_family(engine, tmp_path)
    whole = _regime(stored, "firms", "small-of-all", where=True)
    part = _regime(stored, "firms-small", "small-alone", where=False)
    assert whole == part
    assert f"by unit 'person' across the area ({UNIT_SCHEME})" in whole.describe()
    register(stored, "shops")
    ingest(stored, "shops", rows())  # no unit: keys by row of this file
    by_row = _regime(stored, "shops", "shops-small", where=True)
    assert "by row of 'shops', file sha256 " in by_row.describe()
    assert clashes(by_row, [Earlier("REL-0001", "firms:pay", whole)])
