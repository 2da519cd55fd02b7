"""Reading: authenticated, rows checked, and a query engine that cannot touch the disk."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from fivesafes.errors import DataError, IntegrityError, KeyProviderError, NotFoundError
from fivesafes.errors import ValidationError as FsValidationError
from fivesafes.vault import (
    AreaStore,
    FileKeyProvider,
    area_connection,
    ingest_file,
    open_batches,
    open_table,
    run_sql,
)
from fivesafes.vault.query import query_area, sql_name


@pytest.fixture
def lfs(store: AreaStore, provider: FileKeyProvider, survey_csv: Path) -> str:
    ingest_file(store, provider, survey_csv, name="lfs", ingested_by="a")
    return "lfs"


def test_streaming_equals_table(store: AreaStore, provider: FileKeyProvider, lfs: str) -> None:
    t = open_table(store, provider, lfs)
    assert open_batches(store, provider, lfs).read_all().equals(t)


def test_unknown_dataset(store: AreaStore, provider: FileKeyProvider) -> None:
    with pytest.raises(NotFoundError, match="no dataset 'nope'"):
        open_table(store, provider, "nope")


def test_altered_row_count_in_manifest(
    store: AreaStore, provider: FileKeyProvider, lfs: str
) -> None:
    path = store.object_dir(lfs) / "manifest.json"
    data = json.loads(path.read_text())
    data["rows"] = 499
    path.write_text(json.dumps(data))
    with pytest.raises(IntegrityError, match="499"):
        open_table(store, provider, lfs)


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],
        lambda raw: b"[]",
        lambda raw: raw.replace(b'"wrapped_key"', b'"wrapped"'),
    ],
)
def test_truncated_or_altered_manifest_is_a_clear_error(
    store: AreaStore, provider: FileKeyProvider, lfs: str, damage: Callable[[bytes], bytes]
) -> None:
    path = store.object_dir(lfs) / "manifest.json"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(IntegrityError, match=r"manifest of dataset .*lfs.* is unreadable"):
        open_table(store, provider, lfs)


def test_tampered_and_truncated_dataset(
    store: AreaStore, provider: FileKeyProvider, lfs: str
) -> None:
    path = store.data_path(lfs)
    good = path.read_bytes()
    blob = bytearray(good)
    blob[len(blob) // 2] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(IntegrityError, match="integrity"):
        open_table(store, provider, lfs)
    path.write_bytes(good[: len(good) - 10])
    with pytest.raises(IntegrityError):
        open_table(store, provider, lfs)
    path.write_bytes(good)
    assert open_table(store, provider, lfs).num_rows == 500


def test_dataset_swapped_for_another_is_refused(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path, lfs: str
) -> None:
    ingest_file(store, provider, survey_csv, name="lfs2", ingested_by="a")
    store.data_path(lfs).write_bytes(store.data_path("lfs2").read_bytes())
    with pytest.raises(IntegrityError, match="expected"):
        open_table(store, provider, lfs)


def test_wrong_area_key(store: AreaStore, provider: FileKeyProvider, home: Path, lfs: str) -> None:
    (home / "keys" / "survey" / "v1.key").write_bytes(b"\1" * 32)
    with pytest.raises(KeyProviderError, match="does not open"):
        open_table(store, provider, lfs)


def test_sql_cannot_reach_files_or_settings(tmp_path: Path) -> None:
    con = area_connection({"t": pa.table({"a": [1, 2, 3]})})
    assert run_sql(con, "SELECT sum(a) AS s FROM t").column("s").to_pylist() == [6]
    target = tmp_path / "leak.csv"
    for sql in (
        f"COPY t TO '{target}'",
        f"SELECT * FROM read_csv('{target}')",
        f"ATTACH '{tmp_path / 'x.db'}'",
        "SET temp_directory = '/tmp'",
        "SET enable_external_access = true",
        "SELECT 1; SELECT 2",
        "CREATE TABLE u AS SELECT 1",
        "INSTALL httpfs",
    ):
        with pytest.raises((DataError, FsValidationError)):
            run_sql(con, sql)
        # The same statements, sent past run_sql, are still refused by the engine.
        if not sql.startswith(("SELECT 1;", "CREATE")):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
    assert not target.exists() and not (tmp_path / "x.db").exists()
    secret = pa.table({"b": [1]})  # a Python variable is not reachable by name
    assert secret.num_rows == 1
    with pytest.raises(DataError):
        run_sql(con, "SELECT * FROM secret")


def test_query_that_outgrows_memory_fails_instead_of_spilling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # DuckDB's default spill dir is ./.tmp
    n = 600_000
    t = pa.table({"k": pa.array([f"key-{i}" for i in range(n)])})
    con = area_connection({"t": t}, memory_limit="16MB", threads=1)
    with pytest.raises(DataError, match="never spilled"):
        run_sql(con, "SELECT k, count(*) FROM t GROUP BY k ORDER BY k")
    assert list(tmp_path.iterdir()) == []


def test_query_area_keeps_result_encrypted(
    store: AreaStore, provider: FileKeyProvider, lfs: str
) -> None:
    r = query_area(
        store,
        provider,
        "SELECT region, count(*) AS n FROM lfs GROUP BY region ORDER BY region",
        run_by="bob",
    )
    assert r.table.column("n").to_pylist() == [125] * 4
    assert store.names("outputs") == [r.output.name]
    assert open_table(store, provider, r.output.name, kind="outputs").equals(r.table)
    assert r.output.provenance.ingested_by == "bob" and r.output.extra["datasets"] == ["lfs"]
    with pytest.raises(DataError, match="nope"):
        query_area(store, provider, "SELECT * FROM nope", run_by="bob")
    assert len(store.names("outputs")) == 1


def test_sql_names() -> None:
    assert sql_name("lfs-2024.q1") == "lfs_2024_q1"
    assert sql_name("2024") == "_2024"
