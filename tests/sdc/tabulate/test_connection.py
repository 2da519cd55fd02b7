"""Tabulation never spills confidential rows to disk; running out of memory says so."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from fivesafes.errors import DataError
from fivesafes.outputs import Session
from fivesafes.outputs.tabulate import Request
from fivesafes.outputs.tabulate import tabulate as tabulate_outputs
from fivesafes.sdc import parse_spec
from fivesafes.sdc.perturbation.attach import attach_record_keys
from fivesafes.sdc.perturbation.keys import KeyMaterial
from fivesafes.sdc.tabulate import (
    DuckDBTabulator,
    duckdb_tabulator,
    engine_errors,
    load_hierarchies,
    private_connection,
    tabulate,
)

SPEC = parse_spec(
    tomllib.loads(
        """
[table]
name = "sales"
response = "turnover"
contributor = "ent"

[[dimension]]
name = "region"

[rules]
threshold = 3

[perturbation]
record_id = "ent"
"""
    )
)

ROWS = pd.DataFrame(
    {
        "ent": [f"e{i}" for i in range(12)],
        "region": ["N", "S", "W"] * 4,
        "turnover": np.arange(12, dtype=float) + 1,
    }
)

# a query that needs far more than 30 MB: sorting three million hashes
BIG = (
    "SELECT b, count(*) FROM (SELECT md5(i::VARCHAR) AS b FROM range(3000000) r(i)) "
    "GROUP BY b ORDER BY b LIMIT 1"
)


def test_a_query_over_the_memory_limit_fails_rather_than_spill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    con = private_connection()
    try:
        assert con.execute("SELECT current_setting('temp_directory')").fetchone() == ("",)
        con.execute("SET memory_limit = '30MB'")
        with pytest.raises(duckdb.OutOfMemoryException):
            con.execute(BIG).fetchall()
        # DuckDB's default would have made .tmp here and written the rows into it
        assert os.listdir(tmp_path) == []
    finally:
        con.close()


def test_running_out_of_memory_is_a_data_error_that_says_why() -> None:
    con = private_connection()
    con.execute("SET memory_limit = '30MB'")
    try:
        with pytest.raises(DataError) as err, engine_errors():
            con.execute(BIG).fetchall()
    finally:
        con.close()
    assert "never writes the data to disk" in err.value.message
    assert "more memory" in (err.value.hint or "")


def test_a_tabulation_out_of_memory_is_that_data_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def small() -> duckdb.DuckDBPyConnection:
        con = private_connection()
        con.execute("SET memory_limit = '1MB'")
        return con

    monkeypatch.setattr(duckdb_tabulator, "private_connection", small)
    rows = pd.DataFrame(
        {
            "ent": [f"e{i}" for i in range(200_000)],
            "region": [f"r{i % 5_000}" for i in range(200_000)],
            "turnover": np.ones(200_000),
        }
    )
    with pytest.raises(DataError, match="more memory than the query engine may use"):
        tabulate(SPEC, rows)


def test_a_callers_connection_out_of_memory_is_left_to_the_caller() -> None:
    """The caller set the limit and words the error (the vault names its setting)."""
    con = private_connection()
    con.execute("SET memory_limit = '1MB'")
    rows = pd.DataFrame(
        {
            "ent": [f"e{i}" for i in range(200_000)],
            "region": [f"r{i % 5_000}" for i in range(200_000)],
            "turnover": np.ones(200_000),
        }
    )
    try:
        with pytest.raises(duckdb.OutOfMemoryException):
            tabulate(SPEC, rows, connection=con)
    finally:
        con.close()


def test_every_connection_a_tabulation_opens_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[dict[str, Any]] = []
    connect = duckdb.connect

    def spy(database: str = ":memory:", *args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        opened.append(dict(kwargs.get("config") or {}))
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(duckdb, "connect", spy)
    tabulate(SPEC, ROWS)
    load_hierarchies(SPEC, ROWS)
    DuckDBTabulator().hierarchies(SPEC, ROWS)
    attach_record_keys(SPEC, ROWS, KeyMaterial(bytes(32), "the test"))
    frame = pd.DataFrame({"k0": ROWS.region, "k1": ROWS.ent, "v": ROWS.turnover})
    tabulate_outputs(Request(frame, ("region", "ent"), True, ("sum",), 2, ((), (0, 1))))
    Session().crosstab(ROWS.region, ROWS.ent)
    assert len(opened) >= 5
    assert all(c.get("temp_directory") == "" for c in opened), opened
