"""Choosing an engine, the Spark settings fivesafes insists on, and the grid of cells."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.engine import get_tabulator
from fivesafes.engine.grid import cell_positions, full_grid
from fivesafes.errors import EngineError
from fivesafes.sdc import DuckDBTabulator
from fivesafes.sdc import cells as C
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import DimensionSpec, TableSpec
from fivesafes.sdc.tabulate import tabulate


def test_duckdb_is_the_default_engine_and_gives_tabulates_cells() -> None:
    engine = get_tabulator()
    assert isinstance(engine, DuckDBTabulator) and engine.name == "duckdb"
    spec = TableSpec("t", (DimensionSpec("sex"),), response="y")
    df = pd.DataFrame({"sex": ["f", "m", "f"], "y": [1.0, 2.0, 3.0]})
    pd.testing.assert_frame_equal(
        engine.tabulate(spec, df, None, top_k=3).cells, tabulate(spec, df, top_k=3).cells
    )


def test_spark_is_imported_only_when_asked_for() -> None:
    pytest.importorskip("pyspark", reason="PySpark is not installed")
    engine = get_tabulator("spark", master="spark://10.0.0.5:7077")
    assert engine.name == "spark" and engine.master == "spark://10.0.0.5:7077"
    assert get_tabulator("spark").master == "local[*]"


def test_spark_settings_encrypt_spills_and_keep_local_mode_on_the_loopback() -> None:
    pytest.importorskip("pyspark", reason="PySpark is not installed")
    from fivesafes.engine.spark import default_config

    local = default_config("local[3]")
    assert local["spark.io.encryption.enabled"] == "true"
    assert local["spark.driver.bindAddress"] == "127.0.0.1"
    assert local["spark.ui.enabled"] == "false"
    assert local["spark.sql.shuffle.partitions"] == "6"
    cluster = default_config("spark://10.0.0.5:7077")
    assert cluster["spark.io.encryption.enabled"] == "true"
    assert "spark.driver.bindAddress" not in cluster  # executors must reach the driver


def test_the_running_session_encrypts_its_spills(spark_tabulator: Any) -> None:
    conf = spark_tabulator.session.sparkContext.getConf()
    assert conf.get("spark.io.encryption.enabled") == "true"
    assert conf.get("spark.ui.enabled") == "false"


def test_without_java_spark_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark", reason="PySpark is not installed")
    from pyspark.sql import SparkSession

    from fivesafes.engine import spark

    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(spark, "java_runtime", lambda: None)
    with pytest.raises(EngineError, match="Java runtime") as caught:
        _ = spark.SparkTabulator("local[1]").session
    assert "default-jre-headless" in (caught.value.hint or "")


def test_java_home_that_holds_no_java_is_no_java(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    pytest.importorskip("pyspark", reason="PySpark is not installed")
    from fivesafes.engine.spark import java_runtime

    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert java_runtime() is None
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "java").write_text("#!/bin/sh\n", encoding="utf-8")
    assert java_runtime() == str(tmp_path / "bin" / "java")


# --- the grid ------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_cells_land_on_their_row_of_the_display_order(sizes: list[int], data: Any) -> None:
    hiers = [
        Hierarchy.flat(f"d{i}", [f"c{j}" for j in range(size - 1)]) for i, size in enumerate(sizes)
    ]
    grid = list(itertools.product(*(range(size) for size in sizes)))
    chosen = data.draw(st.lists(st.sampled_from(grid), unique=True))
    ids = [np.array([c[i] for c in chosen], dtype=np.int64) for i in range(len(sizes))]
    assert cell_positions(hiers, ids).tolist() == [grid.index(c) for c in chosen]


def test_the_grid_fills_zero_cells_and_absent_top_values() -> None:
    hiers = [Hierarchy.flat("a", ["x", "y"]), Hierarchy.flat("b", ["01"])]
    ids = [np.array([0, 2]), np.array([1, 1])]  # (Total, 01) and (y, 01)
    stats = {
        C.RECORDS: np.array([3, 1]),
        C.CONTRIBUTORS: np.array([2, 1]),
        C.VALUE: np.array([9.0, 4.0]),
        C.RULE_TOTAL: np.array([9.0, 4.0]),
        C.NEGATIVES: np.array([0, 0]),
    }
    frame = full_grid(
        ["a", "b"], hiers, ids, stats, [np.array([5.0, 4.0]), np.array([4.0, np.nan])]
    )
    want = list(itertools.product(["Total", "x", "y"], ["Total", "01"]))
    assert list(zip(frame["a"], frame["b"], strict=True)) == want
    assert frame[C.RECORDS].tolist() == [0, 3, 0, 0, 0, 1]
    assert frame["top2"].tolist() == [0.0, 4.0, 0.0, 0.0, 0.0, 0.0]
    assert frame[C.RECORDS].dtype == np.int64 and frame["top1"].dtype == np.float64


def test_a_cell_twice_or_outside_the_hierarchy_is_refused() -> None:
    hiers = [Hierarchy.flat("a", ["x"])]
    with pytest.raises(ValueError, match="twice"):
        cell_positions(hiers, [np.array([1, 1])])
    with pytest.raises(ValueError, match="outside"):
        cell_positions(hiers, [np.array([2])])
