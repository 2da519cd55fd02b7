"""Record keys by unit: the same unit gets the same keys in every version of its dataset
and in every dataset of its family (and of the area naming the unit column:
test_unit_keys_order.py), and nobody without the area's secret can compute them."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fivesafes.errors import DataError
from fivesafes.sdc.perturbation.keys import RECORD_KEY_COLUMN, key_integers
from fivesafes.vault import AreaStore, FileKeyProvider, ingest_file, open_table, shred
from fivesafes.vault.record_keys import SCHEME
from fivesafes.vault.rotate import rotate_area_key
from fivesafes.vault.unit_keys import UNIT_SCHEME, UnitCounts, UnitKeying

HEADER = ["person", "job", "region", "pay"]
UNIT = UnitKeying("person", "jobs")


def _rows(people: int = 300) -> list[list[object]]:
    """Jobs of people: every third person holds three jobs, the others one."""
    out: list[list[object]] = []
    for p in range(people):
        for j in range(3 if p % 3 == 0 else 1):
            out.append([p, j, "NSEW"[(p + j) % 4], 100 + 7 * p + j])
    return out


def _csv(path: Path, rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def _shuffled_by_unit(rows: list[list[object]], seed: int) -> list[list[object]]:
    """The rows of the units in another order, each unit's rows interleaved with other
    units' but in their own order (as a re-extract of the same records would come)."""
    rng = random.Random(seed)
    by_unit: dict[object, list[list[object]]] = {}
    for r in rows:
        by_unit.setdefault(r[0], []).append(r)
    queues = list(by_unit.values())
    out = []
    while queues:
        q = rng.choice(queues)
        out.append(q.pop(0))
        if not q:
            queues.remove(q)
    return out


def _keys_by_record(store: AreaStore, provider: FileKeyProvider, name: str) -> dict:
    t = open_table(
        store, provider, name, columns=["person", "job", RECORD_KEY_COLUMN], record_keys=True
    )
    people, jobs = t.column("person").to_pylist(), t.column("job").to_pylist()
    keys = t.column(RECORD_KEY_COLUMN).to_pylist()
    return {(str(p), j): k for p, j, k in zip(people, jobs, keys, strict=True)}


def test_the_same_units_keep_their_keys_after_a_reingest_with_rows_moved_and_inserted(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    rows = _rows()
    m = ingest_file(
        store, provider, _csv(tmp_path / "v1.csv", rows), name="jobs", ingested_by="a",
        block_bytes=1024, unit=UNIT,
    )  # fmt: skip
    assert m.extra["record_keys"] == {
        "column": RECORD_KEY_COLUMN, "scheme": UNIT_SCHEME, "unit": "person", "family": "jobs",
    }  # fmt: skip
    before = _keys_by_record(store, provider, "jobs")
    assert len(before) == len(rows) and len(set(before.values())) == len(rows)
    # the next version: rows moved, one unit inserted at the top, one unit gone
    again = [[9999, 0, "N", 1], *[r for r in _shuffled_by_unit(rows, 1) if r[0] != 7]]
    shred(store, "jobs")
    ingest_file(
        store, provider, _csv(tmp_path / "v2.csv", again), name="jobs", ingested_by="a",
        block_bytes=777, unit=UNIT,
    )  # fmt: skip
    after = _keys_by_record(store, provider, "jobs")
    kept = [k for k in before if k[0] != "7"]
    assert [after[k] for k in kept] == [before[k] for k in kept]
    # the same under another name of the same family (a new version stored beside it)
    ingest_file(
        store, provider, _csv(tmp_path / "v3.csv", again), name="jobs-2027", ingested_by="a",
        unit=UNIT,
    )  # fmt: skip
    assert _keys_by_record(store, provider, "jobs-2027") == after


def test_a_parent_and_a_derived_member_give_the_same_cell_key_for_the_same_units(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    rows = _rows()
    ingest_file(
        store, provider, _csv(tmp_path / "all.csv", rows), name="jobs", ingested_by="a",
        unit=UNIT,
    )  # fmt: skip
    # the north's people, extracted on their own as Parquet (ids as text, not numbers)
    north = {r[0] for r in rows if r[2] == "N"}
    small = [r for r in _shuffled_by_unit(rows, 2) if r[0] in north]
    table = pa.table({h: [r[i] for r in small] for i, h in enumerate(HEADER)})
    table = table.set_column(0, "person", table.column("person").cast(pa.string()))
    pq.write_table(table, tmp_path / "north.parquet")
    ingest_file(
        store, provider, tmp_path / "north.parquet", name="jobs-north", ingested_by="a",
        unit=UNIT,
    )  # fmt: skip
    parent = _keys_by_record(store, provider, "jobs")
    child = _keys_by_record(store, provider, "jobs-north")
    assert child == {k: parent[k] for k in child}

    def cell_key(keys: dict, people: set) -> int:
        return int(key_integers(np.array([k for (p, _), k in keys.items() if p in people])).sum())

    # any set of units: the same sum of keys, so the same perturbation in either's tables
    units = {str(p) for p in sorted(north)[:10]}
    assert cell_key(parent, units) == cell_key(child, units)


def test_each_record_of_a_unit_gets_its_own_key_and_the_unit_the_same_set_in_any_order(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    rows = [[1, 0, "N", 5], [1, 1, "N", 6], [1, 2, "S", 7], [2, 0, "N", 8]]
    ingest_file(
        store, provider, _csv(tmp_path / "a.csv", rows), name="a", ingested_by="x", unit=UNIT
    )
    turned = [rows[3], rows[2], rows[0], rows[1]]  # the unit's records in another order
    ingest_file(
        store, provider, _csv(tmp_path / "b.csv", turned), name="b", ingested_by="x", unit=UNIT
    )
    a = open_table(store, provider, "a", record_keys=True).column(RECORD_KEY_COLUMN).to_pylist()
    b = open_table(store, provider, "b", record_keys=True).column(RECORD_KEY_COLUMN).to_pylist()
    assert len(set(a[:3])) == 3  # three jobs, three keys: a cell of all three sums them
    assert sorted(a[:3]) == sorted(b[1:])  # the person's keys are the person's
    assert a[3] == b[0]


# another area, another unit column, and the secret: tests/vault/test_unit_keys_order.py


def test_records_without_a_unit_are_refused_naming_the_column_and_count(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    rows: list[list[object]] = [
        [1, 0, "N", 5],
        ["", 0, "N", 6],
        [3, 0, "S", 77777],
        ["", 1, "S", 8],
    ]
    with pytest.raises(DataError) as err:
        ingest_file(
            store, provider, _csv(tmp_path / "n.csv", rows), name="n", ingested_by="a",
            unit=UNIT,
        )  # fmt: skip
    assert "2 record(s) have no value in the unit column 'person'" in str(err.value)
    assert "77777" not in str(err.value) + str(err.value.hint)
    assert store.names("datasets") == []
    with pytest.raises(DataError, match="no column 'enterprise'"):
        ingest_file(
            store, provider, _csv(tmp_path / "m.csv", rows[:1]), name="m", ingested_by="a",
            unit=UnitKeying("enterprise", "jobs"),
        )  # fmt: skip


def test_unit_keys_survive_rotation(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "j.csv", _rows(40))
    ingest_file(store, provider, path, name="jobs", ingested_by="a", unit=UNIT)
    before = _keys_by_record(store, provider, "jobs")
    rotate_area_key(store, provider)  # the old area key is destroyed; the secret re-wrapped
    ingest_file(store, provider, path, name="jobs-again", ingested_by="a", unit=UNIT)
    assert _keys_by_record(store, provider, "jobs-again") == before


def test_a_dataset_without_a_unit_keeps_keys_by_row(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    m = ingest_file(store, provider, _csv(tmp_path / "j.csv", _rows(10)), name="j", ingested_by="a")
    assert m.extra["record_keys"] == {"column": RECORD_KEY_COLUMN, "scheme": SCHEME}


def test_unit_counts_across_batches_are_the_places_in_the_file() -> None:
    rng = np.random.default_rng(5)
    units = rng.integers(0, 400, size=5000).astype(np.uint64)
    expected = np.empty(len(units), dtype=np.int64)
    seen: dict[int, int] = {}
    for i, u in enumerate(units.tolist()):
        expected[i] = seen.get(u, 0)
        seen[u] = expected[i] + 1
    counts = UnitCounts()
    cuts = np.sort(rng.choice(np.arange(1, len(units)), size=60, replace=False))
    got = [counts.occurrences(part) for part in np.split(units, cuts)]
    assert np.array_equal(np.concatenate(got), expected)
    assert counts.occurrences(np.zeros(0, dtype=np.uint64)).size == 0
