"""Choosing a tabulation engine by name; Spark only when it is installed."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from fivesafes.engine import DEFAULT_MASTER, get_tabulator
from fivesafes.errors import EngineError
from fivesafes.sdc import DuckDBTabulator

SPARK_MODULE = "fivesafes.engine.spark"


def test_duckdb_is_the_default() -> None:
    assert isinstance(get_tabulator(), DuckDBTabulator)
    assert get_tabulator("duckdb").name == "duckdb"


def test_an_unknown_engine_is_refused_with_the_known_ones() -> None:
    with pytest.raises(EngineError, match="unknown tabulation engine 'flink'") as info:
        get_tabulator("flink")
    assert "duckdb, spark" in (info.value.hint or "")


def test_spark_without_its_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, SPARK_MODULE, None)  # as if not installed
    with pytest.raises(EngineError, match=r"pip install fivesafes\[spark\]"):
        get_tabulator("spark")


def test_spark_gets_its_master_local_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []

    class SparkTabulator:
        name = "spark"

        def __init__(self, master: str) -> None:
            made.append(master)

        def tabulate(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    fake = types.ModuleType(SPARK_MODULE)
    fake.SparkTabulator = SparkTabulator  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, SPARK_MODULE, fake)
    assert get_tabulator("spark").name == "spark"
    get_tabulator("spark", master="spark://head:7077")
    get_tabulator("spark", master=None)
    assert made == [DEFAULT_MASTER, "spark://head:7077", DEFAULT_MASTER]
