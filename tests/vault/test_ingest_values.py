"""Ingest says what it does to values: NaN and infinity are refused, missing values counted,
a file without rows refused; each per column, with counts, and nothing is stored."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fivesafes.errors import DataError
from fivesafes.vault import AreaStore, FileKeyProvider, ingest_file, open_table
from fivesafes.vault.store import STAGING


def _nothing_stored(store: AreaStore) -> bool:
    staging = store.dir / STAGING
    return store.names() == [] and (not staging.exists() or not any(staging.iterdir()))


def _csv(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_nan_is_refused_not_turned_into_a_missing_value(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    src = _csv(tmp_path, "id,pay,hours\n1,10,NaN\n2,nan,5\n3,12,NaN\n")
    with pytest.raises(DataError, match=r"hours: 2 NaN; pay: 1 NaN") as caught:
        ingest_file(store, provider, src, name="d", ingested_by="t")
    assert "empty field" in (caught.value.hint or "")
    assert _nothing_stored(store)


def test_overflow_and_infinity_are_refused(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    src = _csv(tmp_path, "id,pay\n1,1e309\n2,-1e309\n3,inf\n4,7\n")
    with pytest.raises(DataError, match=r"pay: 3 infinite") as caught:
        ingest_file(store, provider, src, name="d", ingested_by="t")
    assert "1e309" in (caught.value.hint or "")
    assert _nothing_stored(store)


def test_a_header_only_csv_is_refused(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    for text in ("id,pay\n", "id,pay", "id,pay\n\n", ""):
        with pytest.raises(DataError, match="no data rows"):
            ingest_file(store, provider, _csv(tmp_path, text), name="d", ingested_by="t")
        assert _nothing_stored(store)


def test_a_parquet_file_without_rows_or_with_nan_is_refused(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"pay": pa.array([], pa.float64())}), empty)
    with pytest.raises(DataError, match="no data rows"):
        ingest_file(store, provider, empty, name="d", ingested_by="t")
    nan = tmp_path / "nan.parquet"
    pq.write_table(pa.table({"pay": [1.0, math.nan, math.inf]}), nan)
    with pytest.raises(DataError, match=r"pay: 1 NaN, 1 infinite"):
        ingest_file(store, provider, nan, name="d", ingested_by="t")
    assert _nothing_stored(store)


def test_missing_values_are_kept_missing_and_counted_per_column(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    src = _csv(tmp_path, "id,pay,hours,region\n1,,3,N\n2,NA,,S\n3,NULL,4,NA\n4,5,6,\n")
    m = ingest_file(store, provider, src, name="d", ingested_by="t")
    assert m.extra["missing_values"] == {"hours": 1, "pay": 3}
    got = open_table(store, provider, "d")
    assert got.column("pay").to_pylist() == [None, None, None, 5]
    # Text columns keep what was written: "NA" may be a code (Namibia), "" stays "".
    assert got.column("region").to_pylist() == ["N", "S", "NA", ""]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (",\n1,2\n", "without a name"),
        ("a,a\n1,2\n", "more than once: a"),
        ("a, \n1,2\n", "without"),
    ],
)
def test_columns_must_have_distinct_names(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path, text: str, match: str
) -> None:
    # Found by the fuzzer: ",\n" crashed with pyarrow's KeyError (a traceback).
    with pytest.raises(DataError, match=match):
        ingest_file(store, provider, _csv(tmp_path, text), name="d", ingested_by="t")
    assert _nothing_stored(store)
