"""`table protect --dataset --method`: a stored dataset is perturbed or rounded with the record
keys drawn at its ingest, and with no other key material."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from release_world import AREA
from sqlalchemy import Engine
from stored_world import SHIFTED_CSV, Stored, build_stored

from fivesafes.errors import DataError, KeyProviderError
from fivesafes.sdc import RECORD_KEY_COLUMN, StoredKeys, tables
from fivesafes.sdc.spec import load_spec
from fivesafes.services.vault.tables import stored_table
from fivesafes.vault import open_table

COUNT = (
    '[table]\nname = "{name}"\nprotection = "{method}"\n\n[[dimension]]\nname = "area"\n{h}\n'
    "[rules]\nthreshold = 7\n\n[perturbation]\nD = 2\nV = 1.0\njs = 2\n\n[rounding]\nbase = 3\n"
)


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    return build_stored(engine, tmp_path)


def _spec(stored: Stored, name: str, method: str, shifted: bool = False) -> Path:
    h = 'hierarchy = "shifted-area.csv"\n' if shifted else ""
    text = COUNT.format(name=name, method=method, h=h)
    return stored.spec(name, text, SHIFTED_CSV if shifted else None)


def _cells(stored: Stored, output: str) -> pd.DataFrame:
    with stored.tx() as s:
        table, _ = stored_table(s, stored.vault, AREA, output)
    return table.cells.set_index("area")


def test_cellkey_tables_of_a_stored_dataset_agree_on_every_shared_cell(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    # key material in the environment is never used for a stored dataset
    monkeypatch.setenv("FIVESAFES_CELLKEY_SECRET", "00" * 32)
    flat, shifted = stored.protect(
        _spec(stored, "flat", "cellkey"), _spec(stored, "shifted", "cellkey", shifted=True)
    )
    assert flat.method == "cellkey" and flat.by_status["safe"] == 6 == flat.cells
    assert flat.audit.startswith("every cell published perturbed")
    a, b = _cells(stored, flat.output.name), _cells(stored, shifted.output.name)
    shared = ["a1", "a2", "a3", "a4", "a5", "Total"]
    assert a.loc[shared, "published"].tolist() == b.loc[shared, "published"].tolist()
    assert not ((a["published"] > 0) & (a["published"] < 2)).any()  # js = 2
    # the values are those of the keys stored at ingest, not of the environment's secret
    data = open_table(stored.vault.store(AREA), stored.vault.provider, "ashe", record_keys=True)
    spec = load_spec(stored.folder / "specs" / "flat.toml")
    direct = tables(spec, data, keys=StoredKeys(RECORD_KEY_COLUMN)).cells.set_index("area")
    assert a.loc[shared, "published"].tolist() == direct.loc[shared, "published"].tolist()
    again = stored.protect(_spec(stored, "flat", "cellkey"), name="again")[0]
    assert _cells(stored, again.output.name)["published"].equals(a["published"])


def test_method_overrides_the_spec_and_rounding_publishes_multiples(stored: Stored) -> None:
    for method in ("random-rounding", "controlled-rounding"):
        (made,) = stored.protect(_spec(stored, "flat", "suppression"), method=method, name=method)
        assert made.method == method
        cells = _cells(stored, made.output.name)
        shown = cells[cells["status"] == "safe"]
        assert (shown["published"] % 3 == 0).all()
    total = cells.loc["Total", "published"]
    parts = cells.loc[["a1", "a2", "a3", "a4", "a5"], "published"]
    assert parts.notna().all() and parts.sum() == total  # controlled: additive


def test_a_dataset_stored_without_record_keys_is_refused(stored: Stored) -> None:
    store = stored.vault.store(AREA)
    old = store.manifest("ashe")
    extra = {k: v for k, v in old.extra.items() if k != "record_keys"}
    store.save_manifest(dataclasses.replace(old, extra=extra))
    with pytest.raises(KeyProviderError, match="no record keys"):
        stored.protect(_spec(stored, "flat", "cellkey"))
    # a method that needs no keys still runs
    (made,) = stored.protect(_spec(stored, "flat", "controlled-rounding"))
    assert made.method == "controlled-rounding"


def test_a_cellkey_table_is_published_perturbed_and_registered_as_published(
    stored: Stored,
) -> None:
    from fivesafes.release.votes import Vote
    from fivesafes.services.release.register import published_cells

    (made,) = stored.protect(_spec(stored, "flat", "cellkey"))
    truth = _cells(stored, made.output.name)
    view = stored.submit(f"{AREA}/{made.output.name}")
    stored.world.vote("olga", view.id, Vote.APPROVE)
    stored.world.vote("oscar", view.id, Vote.APPROVE)
    release = stored.world.publish(view.id)
    with stored.tx() as s:
        register = published_cells(s, "ashe:count")
    codes = register["codes"].map(lambda c: __import__("json").loads(c)["area"])
    got = dict(zip(codes, register["value"], strict=True))
    assert got == truth["published"].to_dict()  # what was published, not the true values
    assert got != truth["value"].to_dict()
    bundle = Path(release.bundle_path)
    text = "\n".join(p.read_text(errors="ignore") for p in bundle.rglob("*.md"))
    text += "\n".join(p.read_text(errors="ignore") for p in bundle.rglob("*.txt"))
    assert "cell key" in text and "[c]" not in text
    assert "by at most 2, with variance 1; no count of 1 is published" in text
    assert "true totals" not in text and "may differ from the sum of its parts" in text
    # later differencing checks assume the attacker knows the true values (stricter)
    from fivesafes.services.release.register import earlier_outputs

    with stored.tx() as s:
        (earlier,) = earlier_outputs(s, stored.world.provider, "ashe:count")
    seen = earlier.cells.set_index("area")
    assert len(seen) == len(truth) and (seen["status"] == "safe").all()
    assert seen["value"].to_dict() == truth["value"].to_dict()


_KEY_SPECS = {
    "dimension": f'[[dimension]]\nname = "{RECORD_KEY_COLUMN}"\n',
    "response": f'response = "{RECORD_KEY_COLUMN}"\n\n[[dimension]]\nname = "area"\n',
    "contributor": f'contributor = "{RECORD_KEY_COLUMN}"\n\n[[dimension]]\nname = "area"\n',
    "weight": f'weight = "{RECORD_KEY_COLUMN}"\n\n[[dimension]]\nname = "area"\n',
    "where": f'where = {{ {RECORD_KEY_COLUMN} = ["0"] }}\n\n[[dimension]]\nname = "area"\n',
}


@pytest.mark.parametrize("role", sorted(_KEY_SPECS))
@pytest.mark.parametrize("method", ["cellkey", "random-rounding"])
def test_a_spec_never_tabulates_the_record_keys(stored: Stored, role: str, method: str) -> None:
    # The keys are in the data a keyed method tabulates; a spec that names their column
    # would publish them (as codes, sums or a filter) and the noise could be undone.
    text = (
        f'[table]\nname = "leak"\nprotection = "{method}"\n{_KEY_SPECS[role]}\n'
        "[rules]\nthreshold = 1\n\n[rounding]\nbase = 3\n"
    )
    if role == "weight":  # the cell key method refuses a weighted count table anyway
        text = text.replace('weight = "', 'response = "pay"\nweight = "')
    with pytest.raises(DataError, match="record keys") as err:
        stored.protect(stored.spec("leak", text))
    assert RECORD_KEY_COLUMN in str(err.value)
