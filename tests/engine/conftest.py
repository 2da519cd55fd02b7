"""Fixtures of the engine tests: one local Spark session for the whole test run.

Starting a JVM takes seconds, so every Spark test in a worker shares one session
(``local[2]``, two shuffle partitions, no web UI). The Spark tests skip, with the
reason, only where PySpark or a Java runtime cannot be had; ``make test`` installs
both (PySpark from the lockfile, a JRE with apt-get where ``java`` is absent).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark_tabulator() -> Iterator[Any]:
    """A SparkTabulator on local[2], shared by every test of the session."""
    pytest.importorskip(
        "pyspark", reason="PySpark is not installed: pip install 'fivesafes[spark]'"
    )
    from fivesafes.engine.spark import SparkTabulator, java_runtime

    if java_runtime() is None:
        pytest.skip(
            "no Java runtime for Spark: install one (apt-get install default-jre-headless) "
            "or set JAVA_HOME"
        )
    tabulator = SparkTabulator("local[2]", config={"spark.sql.shuffle.partitions": "2"})
    tabulator.session.sparkContext.setLogLevel("ERROR")
    yield tabulator
    tabulator.close()
