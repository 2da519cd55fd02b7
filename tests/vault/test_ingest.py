"""Ingest: streamed, encrypted, provenance recorded; bad input changes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from fivesafes.errors import ConflictError, DataError, KeyProviderError, NotFoundError
from fivesafes.errors import ValidationError as FsValidationError
from fivesafes.vault import AreaStore, FileKeyProvider, ingest_file, open_table, pseudonym
from fivesafes.vault.manifest import Provenance
from fivesafes.vault.pseudonymise import area_pseudonym_key
from fivesafes.vault.store import STAGING
from fivesafes.vault.writer import write_object


def _staging_empty(store: AreaStore) -> bool:
    d = store.dir / STAGING
    return not d.exists() or not any(d.iterdir())


def test_csv_round_trip_with_provenance(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path
) -> None:
    m = ingest_file(store, provider, survey_csv, name="lfs", ingested_by="alice")
    expected = pacsv.read_csv(survey_csv)
    got = open_table(store, provider, "lfs")
    assert got.equals(expected)
    assert m.rows == expected.num_rows == 500
    assert [c.name for c in m.columns] == expected.schema.names
    assert m.provenance.sha256 == hashlib.sha256(survey_csv.read_bytes()).hexdigest()
    assert m.provenance.size_bytes == survey_csv.stat().st_size
    assert m.provenance.ingested_by == "alice" and m.provenance.source == "survey.csv"
    assert m.provenance.source_format == "csv"
    assert store.names() == ["lfs"] and _staging_empty(store)
    assert store.manifest("lfs") == m


def test_parquet_round_trip_many_frames(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    n = 20_000
    table = pa.table({"id": pa.array(range(n)), "v": pa.array([i * 0.5 for i in range(n)])})
    src = tmp_path / "in.parquet"
    pq.write_table(table, src, row_group_size=3000)
    m = write_object(
        store,
        provider,
        name="many",
        schema=table.schema,
        batches=table.to_batches(max_chunksize=1000),
        provenance=Provenance("x", "0", 0, "t", "2026-01-01", "parquet"),
        frame_bytes=4096,
    )
    assert m.frames > 10
    assert open_table(store, provider, "many").equals(table)
    ingest_file(store, provider, src, name="pq", ingested_by="bob")
    assert open_table(store, provider, "pq").equals(table)


def test_a_header_only_csv_is_refused_even_with_types(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    # Before: stored as a 0-row dataset without a word (see test_ingest_values.py).
    src = tmp_path / "e.csv"
    src.write_text("a,b\n")
    with pytest.raises(DataError, match="no data rows"):
        ingest_file(
            store, provider, src, name="empty", ingested_by="a", column_types={"a": "int64"}
        )
    assert store.names() == [] and _staging_empty(store)


def test_name_clash_changes_nothing(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path, tmp_path: Path, make_csv
) -> None:
    ingest_file(store, provider, survey_csv, name="lfs", ingested_by="a")
    before = (store.data_path("lfs").read_bytes(), store.manifest("lfs"))
    other = make_csv(tmp_path / "other.csv", 10)
    with pytest.raises(ConflictError, match="already holds"):
        ingest_file(store, provider, other, name="lfs", ingested_by="b")
    assert (store.data_path("lfs").read_bytes(), store.manifest("lfs")) == before
    assert open_table(store, provider, "lfs").num_rows == 500 and _staging_empty(store)


def test_commit_refuses_a_name_taken_meanwhile(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path
) -> None:
    ingest_file(store, provider, survey_csv, name="lfs", ingested_by="a")
    with store.staging() as staged:
        (staged / "f").write_bytes(b"x")
        with pytest.raises(ConflictError):
            store.commit(staged, "lfs")
    assert open_table(store, provider, "lfs").num_rows == 500


def test_bad_csv_registers_nothing(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    src = tmp_path / "bad.csv"
    # Type inference sees integers in the first block; a later block has text.
    lines = ["a,b"] + [f"{i},{i}" for i in range(3000)] + ["oops,1"]
    src.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"bad\.csv"):
        ingest_file(store, provider, src, name="bad", ingested_by="a", block_bytes=4096)
    assert store.names() == [] and _staging_empty(store)
    src2 = tmp_path / "ragged.csv"
    src2.write_text("a,b\n1,2\n3\n")
    with pytest.raises(DataError):
        ingest_file(store, provider, src2, name="ragged", ingested_by="a")
    assert store.names() == [] and _staging_empty(store)


def test_missing_file_and_unknown_format(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError):
        ingest_file(store, provider, tmp_path / "nope.csv", name="x", ingested_by="a")
    odd = tmp_path / "x.xlsx"
    odd.write_bytes(b"PK")
    with pytest.raises(FsValidationError, match="--format"):
        ingest_file(store, provider, odd, name="x", ingested_by="a")
    with pytest.raises(FsValidationError):
        ingest_file(store, provider, odd, name="../x", ingested_by="a", fmt="csv")
    assert store.names() == []


def test_missing_area_key_registers_nothing(home: Path, survey_csv: Path) -> None:
    p = FileKeyProvider(home / "keys")
    s = AreaStore(home / "areas", "nokey")
    s.create()
    with pytest.raises(KeyProviderError):
        ingest_file(s, p, survey_csv, name="lfs", ingested_by="a")
    assert s.names() == [] and _staging_empty(s)


def test_pseudonymised_columns(
    store: AreaStore, provider: FileKeyProvider, survey_csv: Path, home: Path
) -> None:
    m = ingest_file(
        store, provider, survey_csv, name="lfs", ingested_by="a", pseudonymise=["person_id"]
    )
    t = open_table(store, provider, "lfs")
    key = area_pseudonym_key(store, provider)
    ids = t.column("person_id").to_pylist()
    assert ids[0] == pseudonym(key, "P0000000") and not any(i.startswith("P0") for i in ids)
    assert len(set(ids)) == 500
    assert m.extra["pseudonymised"] == ["person_id"]
    # Same identifier, same pseudonym within the area; another area gets other pseudonyms.
    ingest_file(
        store, provider, survey_csv, name="lfs2", ingested_by="a", pseudonymise=["person_id"]
    )
    assert open_table(store, provider, "lfs2").column("person_id").to_pylist() == ids
    provider.create_key("other")
    other = AreaStore(home / "areas", "other")
    other.create()
    ingest_file(
        other, provider, survey_csv, name="lfs", ingested_by="a", pseudonymise=["person_id"]
    )
    assert set(open_table(other, provider, "lfs").column("person_id").to_pylist()).isdisjoint(ids)
    with pytest.raises(DataError, match="nhs_number"):
        ingest_file(
            store, provider, survey_csv, name="lfs3", ingested_by="a", pseudonymise=["nhs_number"]
        )


MEMORY_SCRIPT = """
import sys
from pathlib import Path
import pyarrow as pa
from fivesafes.vault import AreaStore, FileKeyProvider
from fivesafes.vault.ingest import ingest_file

home, src = Path(sys.argv[1]), Path(sys.argv[2])
provider = FileKeyProvider(home / "keys")
provider.create_key("mem")
store = AreaStore(home / "areas", "mem")
store.create()
m = ingest_file(store, provider, src, name="big", ingested_by="t", block_bytes=1 << 20,
                row_group_rows=20_000)
print(m.rows, pa.default_memory_pool().max_memory())
"""


def _peak_arrow_memory(tmp_path: Path, rows: int) -> tuple[int, int]:
    """Ingest a CSV of ``rows`` rows in a fresh process: (Arrow's peak allocation, file size)."""
    import subprocess
    import sys

    src = tmp_path / f"big{rows}.csv"
    text = pa.array([f"row {i} of the survey" for i in range(rows)])
    pacsv.write_csv(pa.table({"id": pa.array(range(rows)), "text": text}), src)
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path / f"home{rows}"), str(src)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    got_rows, peak = map(int, out.stdout.split())
    assert got_rows == rows
    return peak, src.stat().st_size


@pytest.mark.slow
def test_ingest_streams_instead_of_loading_the_file(tmp_path: Path) -> None:
    small_peak, small_size = _peak_arrow_memory(tmp_path, 60_000)
    big_peak, big_size = _peak_arrow_memory(tmp_path, 720_000)
    assert big_size > 10 * small_size
    # Twelve times the rows, about the same peak: the file is read in blocks, not whole
    # (before the fix, reading through pyarrow's native file, the peak grew with the file).
    assert big_peak < 1.5 * small_peak + (2 << 20), (small_peak, big_peak, big_size)


def test_codes_with_leading_zeros_stay_text(
    store: AreaStore, provider: FileKeyProvider, tmp_path: Path
) -> None:
    src = tmp_path / "codes.csv"
    src.write_text("industry,region,turnover\n01,1,10.5\n02,2,3\n10,3,4\n", encoding="utf-8")
    ingest_file(store, provider, src, name="codes", ingested_by="alice")
    got = open_table(store, provider, "codes")
    assert got.column("industry").to_pylist() == ["01", "02", "10"]
    # a column without leading zeros is inferred as usual
    assert got.column("region").to_pylist() == [1, 2, 3]
    assert pa.types.is_floating(got.schema.field("turnover").type)
