"""Record keys are drawn once per record at ingest, stored encrypted, and never read out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fivesafes.errors import DataError
from fivesafes.sdc.perturbation.keys import RECORD_KEY_COLUMN, key_integers
from fivesafes.vault import AreaStore, FileKeyProvider, ingest_file, open_batches, open_table
from fivesafes.vault.query import query_area
from fivesafes.vault.record_keys import (
    SCHEME,
    area_record_secret,
    dataset_key,
    keys_for_rows,
)
from fivesafes.vault.rotate import rotate_area_key


def _keys(store: AreaStore, provider: FileKeyProvider, name: str) -> np.ndarray:
    table = open_table(store, provider, name, columns=[RECORD_KEY_COLUMN], record_keys=True)
    return table.column(RECORD_KEY_COLUMN).to_numpy()


def test_every_record_gets_a_stored_key_from_the_areas_secret(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path
) -> None:
    # small blocks: many batches, numbered across them exactly as in one pass
    m = ingest_file(store, provider, survey_csv, name="lfs", ingested_by="a", block_bytes=2048)
    keys = _keys(store, provider, "lfs")
    assert len(keys) == 500 and len(np.unique(keys)) == 500
    assert keys.min() >= 0 and keys.max() < 1
    key_integers(keys)  # exact multiples of 2**-53, as the cell-key sums need
    expected = keys_for_rows(dataset_key(area_record_secret(store, provider), "lfs"), 0, 500)
    assert np.array_equal(keys, expected)
    assert m.extra["record_keys"] == {"column": RECORD_KEY_COLUMN, "scheme": SCHEME}
    assert RECORD_KEY_COLUMN not in [c.name for c in m.columns]


def test_keys_of_any_rows_equal_the_keys_of_the_whole_stream() -> None:
    key = bytes(range(32))
    whole = keys_for_rows(key, 0, 101)
    for start, count in [(0, 1), (1, 1), (3, 50), (50, 51), (100, 1)]:
        assert np.array_equal(keys_for_rows(key, start, count), whole[start : start + count])


def test_another_dataset_or_area_gets_other_keys(
    home: Path, store: AreaStore, provider: FileKeyProvider, survey_csv: Path
) -> None:
    ingest_file(store, provider, survey_csv, name="lfs", ingested_by="a")
    ingest_file(store, provider, survey_csv, name="lfs2", ingested_by="a")
    provider.create_key("other")
    other = AreaStore(home / "areas", "other")
    other.create()
    ingest_file(other, provider, survey_csv, name="lfs", ingested_by="a")
    a, b, c = (
        _keys(store, provider, "lfs"),
        _keys(store, provider, "lfs2"),
        _keys(other, provider, "lfs"),
    )
    assert not np.array_equal(a, b) and not np.array_equal(a, c)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.2


def test_the_keys_never_leave_through_a_read_or_a_query(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path
) -> None:
    ingest_file(store, provider, survey_csv, name="lfs", ingested_by="a")
    assert RECORD_KEY_COLUMN not in open_table(store, provider, "lfs").column_names
    assert RECORD_KEY_COLUMN not in open_batches(store, provider, "lfs").schema.names
    with pytest.raises(DataError, match="record keys"):
        open_table(store, provider, "lfs", columns=[RECORD_KEY_COLUMN])
    r = query_area(store, provider, "SELECT * FROM lfs LIMIT 3", run_by="bob")
    assert RECORD_KEY_COLUMN not in r.table.column_names
    with pytest.raises(DataError, match="query failed"):
        query_area(store, provider, f"SELECT sum({RECORD_KEY_COLUMN}) FROM lfs", run_by="bob")


def test_a_file_with_a_column_of_that_name_is_refused(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"region,{RECORD_KEY_COLUMN}\nN,0.5\n")
    with pytest.raises(DataError, match="record keys"):
        ingest_file(store, provider, path, name="bad", ingested_by="a")
    assert store.names("datasets") == []


def test_the_secret_survives_rotation_and_the_keys_stay_the_same(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path
) -> None:
    ingest_file(store, provider, survey_csv, name="lfs", ingested_by="a")
    secret = area_record_secret(store, provider)
    before = _keys(store, provider, "lfs")
    rotate_area_key(store, provider)  # the old area key is destroyed
    assert area_record_secret(store, provider) == secret
    assert np.array_equal(_keys(store, provider, "lfs"), before)
