"""Record keys by unit (scheme v2) follow the records, not the rows, and the unit column
of the area, not the dataset's name.

- A cell that holds some of a unit's records (two of a person's three jobs) kept its key
  under v1 only while the unit's records kept their order in the file: the occurrence
  was counted in file order. Now it is the record's rank by content: shuffling the rows
  of a file changes no published cell.
- A new version of a dataset under another name, not declared derived, got another
  family's keys under v1: two independent perturbations of the same units to average.
  Now any dataset of the area naming the same unit column gets the same keys.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.sdc import StoredKeys, parse_spec, tables
from fivesafes.sdc.perturbation.keys import RECORD_KEY_COLUMN
from fivesafes.vault import AreaStore, FileKeyProvider, ingest_file, open_table, shred
from fivesafes.vault.record_keys import area_record_secret
from fivesafes.vault.unit_keys import (
    UNIT_SCHEME,
    UnitKeying,
    first_reading,
    namespace_keys,
    ordered_unit_batches,
)
from fivesafes.vault.unit_order import content_digests, rank_in_units

HEADER = ["person", "job", "region", "pay"]
_names = itertools.count()


def _rows(people: int = 40) -> list[list[object]]:
    """Jobs of people: most hold two or three, in different regions, some identical."""
    out: list[list[object]] = []
    for p in range(people):
        for j in range(1 + p % 3):
            out.append([p, j % 2, "NSEW"[(p * 7 + j) % 4], 100 + 13 * p + 5 * (j % 2)])
    return out


def _csv(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _spec(response: str | None) -> object:
    raw: dict[str, object] = {
        "table": {"name": "t", "protection": "cellkey"},
        "dimension": [{"name": "region"}],
        "rules": {"threshold": 1},
        "perturbation": {"D": 3, "V": 2.0, "js": 0},
    }
    if response:
        raw["table"] = {**raw["table"], "response": response, "contributor": "person"}  # type: ignore[dict-item]
    return parse_spec(raw)


def _published(store: AreaStore, provider: FileKeyProvider, name: str) -> list[dict]:
    data = open_table(store, provider, name, record_keys=True)
    out = []
    for response in (None, "pay"):
        cells = tables(_spec(response), data, keys=StoredKeys(RECORD_KEY_COLUMN)).cells  # type: ignore[arg-type]
        out.append(dict(zip(cells["region"], cells["published"], strict=True)))
    return out


def _ingest(
    store: AreaStore, provider: FileKeyProvider, path: Path, unit: UnitKeying, name: str = ""
) -> str:
    name = name or f"d{next(_names)}"
    ingest_file(store, provider, path, name=name, ingested_by="a", unit=unit, block_bytes=256)
    return name


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(list(range(len(_rows())))))
def test_shuffling_the_rows_changes_no_published_cell(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path, order: list[int]
) -> None:
    rows = _rows()
    unit = UnitKeying("person", "jobs")
    first = _ingest(store, provider, _csv(tmp_path / "a.csv", rows), unit)
    moved = _ingest(store, provider, _csv(tmp_path / "b.csv", [rows[i] for i in order]), unit)
    try:
        assert _published(store, provider, first) == _published(store, provider, moved)
    finally:
        shred(store, first)
        shred(store, moved)


def test_two_datasets_of_the_same_units_under_unrelated_names_get_the_same_noise(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    rows = _rows()
    path = _csv(tmp_path / "jobs.csv", rows)
    m = ingest_file(
        store, provider, path, name="jobs-2025", ingested_by="a",
        unit=UnitKeying("person", "jobs-2025"),
    )  # fmt: skip
    assert m.extra["record_keys"]["scheme"] == UNIT_SCHEME
    again = _csv(tmp_path / "payroll.csv", rows[::-1])
    ingest_file(
        store, provider, again, name="payroll", ingested_by="a",
        unit=UnitKeying("person", "payroll"),
    )  # fmt: skip
    assert _published(store, provider, "jobs-2025") == _published(store, provider, "payroll")


def test_another_unit_column_or_another_area_gets_other_keys(
    home: Path, store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    rows = _rows()
    path = _csv(tmp_path / "jobs.csv", rows)
    ingest_file(
        store, provider, path, name="jobs", ingested_by="a", unit=UnitKeying("person", "jobs")
    )
    # the same records, the unit column named otherwise: another namespace (documented)
    renamed = _csv(tmp_path / "w.csv", rows, ["worker", "job", "region", "pay"])
    ingest_file(store, provider, renamed, name="w", ingested_by="a", unit=UnitKeying("worker", "w"))
    provider.create_key("elsewhere")
    elsewhere = AreaStore(home / "areas", "elsewhere")
    elsewhere.create()
    ingest_file(
        elsewhere, provider, path, name="jobs", ingested_by="a", unit=UnitKeying("person", "jobs")
    )

    def keys(s: AreaStore, name: str) -> set[float]:
        table = open_table(s, provider, name, record_keys=True)
        return set(table.column(RECORD_KEY_COLUMN).to_pylist())

    a = keys(store, "jobs")
    assert len(a) == len(rows)
    assert not a & keys(store, "w") and not a & keys(elsewhere, "jobs")


def test_the_keys_need_the_areas_secret(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    ingest_file(
        store, provider, _csv(tmp_path / "j.csv", _rows()), name="jobs", ingested_by="a",
        unit=UnitKeying("person", "jobs"),
    )  # fmt: skip
    stored = open_table(store, provider, "jobs", record_keys=True)
    plain = stored.drop_columns([RECORD_KEY_COLUMN])
    unit = UnitKeying("person", "jobs")

    def drawn(secret: bytes) -> list[float]:
        k = namespace_keys(secret, "person")
        order = first_reading(iter(plain.to_batches()), unit, k)
        done = pa.Table.from_batches(
            list(ordered_unit_batches(iter(plain.to_batches()), unit, k, order))
        )
        return done.column(RECORD_KEY_COLUMN).to_pylist()

    assert (
        drawn(area_record_secret(store, provider)) == stored.column(RECORD_KEY_COLUMN).to_pylist()
    )
    for guess in (bytes(32), b"person".ljust(32, b"\0"), b"jobs".ljust(32, b"\0")):
        assert not set(drawn(guess)) & set(stored.column(RECORD_KEY_COLUMN).to_pylist())


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=1, max_size=60), st.randoms()
)
def test_ranks_follow_content_whatever_the_order(
    records: list[tuple[int, int]], rnd: object
) -> None:
    units = np.array([u for u, _ in records], dtype=np.uint64)
    contents = np.array([c for _, c in records], dtype=np.uint64)
    ranks = rank_in_units(units, contents)
    perm = list(range(len(records)))
    rnd.shuffle(perm)  # type: ignore[attr-defined]
    moved = rank_in_units(units[perm], contents[perm])
    # every record keeps its rank, or swaps it with a record of identical content
    got = {(int(units[i]), int(contents[i]), int(ranks[i])) for i in range(len(records))}
    assert got == {(int(units[p]), int(contents[p]), int(moved[k])) for k, p in enumerate(perm)}
    for u in set(units.tolist()):  # ranks 0 .. n-1 within each unit, by content
        mine = ranks[units == u]
        assert sorted(mine.tolist()) == list(range(mine.size))


def test_content_digests_pin_the_order_and_ignore_the_column_order() -> None:
    batch = pa.record_batch({"person": [1, 1, 2], "pay": [1.5, 12.0, None]})
    turned = pa.record_batch({"pay": ["1.5", "12", None], "person": ["1", "1", "2"]})
    secret = bytes(range(32))
    digests = content_digests(batch, secret)
    # the value as text: 12.0 and "12" are one value, the columns' order is no matter
    assert np.array_equal(digests, content_digests(turned, secret))
    assert len(set(digests.tolist())) == 3
    assert not np.array_equal(digests, content_digests(batch, bytes(32)))
    # a null is not the text "None", nor the empty text
    for text in ("None", ""):
        written = pa.record_batch({"person": [2], "pay": [text]})
        assert content_digests(written, secret)[0] != digests[2]
    # pinned: a library upgrade that changed these would change the keys of units with
    # several records in every later ingest
    assert digests.tolist() == PINNED


PINNED = [15354735805835504872, 8332681401915569528, 11111321941448398675]


def test_a_pseudonymised_unit_column_is_ranked_as_stored(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    # both passes see the data as stored (pseudonymised), so the ranks agree
    rows = _rows()
    unit = UnitKeying("person", "jobs")
    for name, data in (("p1", rows), ("p2", rows[::-1])):
        ingest_file(
            store, provider, _csv(tmp_path / f"{name}.csv", data), name=name,
            ingested_by="a", unit=unit, pseudonymise=["person"],
        )  # fmt: skip
    assert _published(store, provider, "p1") == _published(store, provider, "p2")
