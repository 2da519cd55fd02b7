"""Decrypting only what a query reads: same answers, fewer frames, tampering still caught."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.errors import IntegrityError
from fivesafes.vault import AreaSession, AreaStore, FileKeyProvider, Provenance, open_table
from fivesafes.vault.columns import column_ranges, scanned_columns
from fivesafes.vault.frames import SealedObject
from fivesafes.vault.reader import decrypt
from fivesafes.vault.writer import write_object

ROWS = 20_000


def _table(rows: int = ROWS) -> pa.Table:
    rng = np.random.default_rng(7)
    return pa.table(
        {
            "id": np.arange(rows, dtype=np.int64),
            "region": pa.array(np.array(["N", "S", "E", "W"])[rng.integers(0, 4, rows)]),
            "age": rng.integers(16, 90, rows).astype(np.int32),
            "income": rng.gamma(2.0, 1000.0, rows),
            "note": pa.array([f"n{i}" for i in range(rows)]),
        }
    )


def _store(store: AreaStore, provider: FileKeyProvider, name: str, table: pa.Table) -> None:
    write_object(
        store,
        provider,
        name=name,
        schema=table.schema,
        batches=table.to_batches(max_chunksize=3000),
        provenance=Provenance(name, "0" * 64, 0, "t", "2026-01-01T00:00:00+00:00", "parquet"),
        frame_bytes=1024,  # many small frames, so that selection shows
        row_group_rows=5000,
    )


@pytest.fixture
def plain(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    t = _table()
    pq.write_table(t, tmp_path / "t.parquet")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{tmp_path / 't.parquet'}')")
    con.execute(f"CREATE VIEW u AS SELECT * FROM read_parquet('{tmp_path / 't.parquet'}')")
    return con


@pytest.fixture
def stored(store: AreaStore, provider: FileKeyProvider) -> AreaStore:
    _store(store, provider, "t", _table())
    _store(store, provider, "u", _table())
    return store


QUERIES = [
    "SELECT region, count(*) AS n, round(sum(income), 4) AS s FROM t GROUP BY region ORDER BY 1",
    "SELECT count(*) AS n FROM t WHERE age > 40",
    "SELECT count(*) AS n FROM t WHERE lower(region) = 'n' AND note LIKE 'n1%'",
    "SELECT max(age) AS m, min(income) AS i FROM t",
    "SELECT * FROM t WHERE income > 5000 ORDER BY id LIMIT 7",
    "SELECT t FROM t ORDER BY id LIMIT 3",
    "SELECT COLUMNS('^i') FROM t ORDER BY id LIMIT 5",
    "SELECT id, note FROM t ORDER BY income DESC LIMIT 4",
    "SELECT t.region, round(avg(u.income), 6) AS a FROM t JOIN u USING (id) WHERE u.age < 30 "
    "GROUP BY t.region ORDER BY 1",
    "SELECT count(*) AS n FROM t NATURAL JOIN u",
    "SELECT region, sum(age) OVER (PARTITION BY region ORDER BY id) AS w FROM t "
    "ORDER BY id LIMIT 5",
    "SELECT note FROM t WHERE id IN (SELECT max(id) FROM u WHERE age = 30)",
    "WITH x AS (SELECT region, income FROM t) SELECT region FROM x WHERE income > 9000 "
    "UNION SELECT note FROM u WHERE id = 3 ORDER BY 1",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_answers_equal_plain_parquet(
    stored: AreaStore, provider: FileKeyProvider, plain: duckdb.DuckDBPyConnection, sql: str
) -> None:
    with AreaSession(stored, provider, ["t", "u"]) as session:
        got = session.sql(sql)
    assert got.to_pylist() == plain.sql(sql).to_arrow_table().to_pylist()


def test_a_query_decrypts_only_the_columns_it_scans(
    stored: AreaStore, provider: FileKeyProvider, plain: duckdb.DuckDBPyConnection
) -> None:
    with AreaSession(stored, provider, ["t"]) as session:
        sealed = session.opened["t"].sealed
        assert sealed is not None
        footer_only = sealed.decrypted_frames
        session.sql("SELECT sum(age) AS s FROM t")
        after_age = sealed.decrypted_frames
        assert footer_only < after_age < sealed.frame_count / 2
        # A second query on the same session decrypts what it adds, and is right.
        sql = "SELECT round(sum(income), 4) AS s, count(DISTINCT note) AS d FROM t"
        assert session.sql(sql).to_pylist() == plain.sql(sql).to_arrow_table().to_pylist()
        assert after_age < sealed.decrypted_frames <= sealed.frame_count


def _frames_of(store: AreaStore, provider: FileKeyProvider, column: str) -> tuple[set[int], Path]:
    """Frames holding only ``column`` (not the footer nor other columns), and the file."""
    with decrypt(store, provider, "t", columns=()) as d:
        assert d.sealed is not None and d.metadata is not None
        size = d.sealed.size
        mine = set(d.sealed.frames_for(column_ranges(d.metadata, {column}, size)))
        others = {c for c in d.column_names() if c != column}
        rest = set(d.sealed.frames_for(column_ranges(d.metadata, others, size)))
        spans = {i: d.sealed.ciphertext_span(i) for i in mine - rest}
    return set(spans), _flip(store.data_path("t"), spans[min(spans)])


def _flip(path: Path, span: tuple[int, int]) -> Path:
    blob = bytearray(path.read_bytes())
    blob[(span[0] + span[1]) // 2] ^= 0x40
    path.write_bytes(bytes(blob))
    return path


def test_a_tampered_frame_is_caught_when_a_query_reads_it(
    stored: AreaStore, provider: FileKeyProvider
) -> None:
    frames, _ = _frames_of(stored, provider, "note")
    assert frames
    with AreaSession(stored, provider, ["t"]) as session:
        # Queries that do not read the damaged column never use the damaged frame...
        assert session.sql("SELECT sum(age) AS s FROM t").num_rows == 1
        # ...and the first one that does is refused.
        with pytest.raises(IntegrityError, match="does not authenticate"):
            session.sql("SELECT count(*) AS n FROM t WHERE note LIKE '%9%'")
    with pytest.raises(IntegrityError, match="does not authenticate"):
        open_table(stored, provider, "t")
    with pytest.raises(IntegrityError, match="does not authenticate"):
        open_table(stored, provider, "t", columns=["note"])


def test_truncation_is_caught_before_anything_is_read(
    stored: AreaStore, provider: FileKeyProvider
) -> None:
    path = stored.data_path("t")
    path.write_bytes(path.read_bytes()[:-1500])
    with pytest.raises(IntegrityError):
        AreaSession(stored, provider, ["t"])


def test_open_table_with_columns_reads_only_those(
    stored: AreaStore, provider: FileKeyProvider
) -> None:
    t = open_table(stored, provider, "t", columns=["income", "region"])
    assert t.equals(_table().select(["income", "region"]))
    with decrypt(stored, provider, "t", columns=["income"]) as d:
        assert d.sealed is not None and d.sealed.decrypted_frames < d.sealed.frame_count


def test_scanned_columns_reads_the_plan() -> None:
    con = duckdb.connect()
    names = ["a", "b", "c"]
    assert scanned_columns(con, "SELECT 1", names) == set()
    assert scanned_columns(con, "SELECT * FROM read_blob('/nonexistent')", names) is None
    assert scanned_columns(con, "SELECT nonsense FROM nowhere", names) is None
    assert scanned_columns(con, "SELECT 1", ['we"ird']) is None


def test_scanned_columns_includes_filter_columns(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2], "b": [3, 4], "c": ["x", "y"]}), tmp_path / "p.parquet")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW p AS SELECT * FROM read_parquet('{tmp_path / 'p.parquet'}')")
    names = ["a", "b", "c"]
    assert scanned_columns(con, "SELECT count(*) FROM p WHERE b > 3", names) == {"b"}
    assert scanned_columns(con, "SELECT sum(a) FROM p WHERE c = 'x'", names) == {"a", "c"}
    assert scanned_columns(con, "SELECT * FROM p", names) == {"a", "b", "c"}


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 50), min_size=1, max_size=30),
    ranges=st.lists(st.tuples(st.integers(-5, 800), st.integers(0, 60)), max_size=6),
)
def test_frames_for_covers_exactly_the_ranges(
    sizes: list[int], ranges: list[tuple[int, int]]
) -> None:
    offsets = [0]
    for n in sizes:
        offsets.append(offsets[-1] + n)
    sealed = SealedObject.__new__(SealedObject)
    sealed._offsets = offsets  # the frame layout alone is what frames_for reads
    wanted = [(a, a + n) for a, n in ranges]
    got = set(sealed.frames_for(wanted))
    total = offsets[-1]
    for i in range(len(sizes)):
        lo, hi = offsets[i], offsets[i + 1]
        if lo == hi:
            continue  # an empty frame holds no byte: taking it or not changes nothing
        overlaps = any(max(lo, a, 0) < min(hi, b, total) for a, b in wanted)
        assert (i in got) == overlaps
