"""The DuckDB connection a tabulation opens for itself: in memory, never spilling to disk.

DuckDB's in-memory database spills an operation that outgrows its memory limit to a
temporary directory, by default ``.tmp`` in the current folder: the rows of a
tabulation (confidential microdata, a research session's frame) would then be written
there in plain text, in whatever folder the command was started from. With
``temp_directory`` empty such an operation fails instead, and :func:`engine_errors`
turns that failure into an error that says so. (Connections that also see untrusted SQL
or the vault's rows are locked down further: ``fivesafes.engine.memory``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from fivesafes.errors import DataError

NO_SPILL = {"temp_directory": ""}


def private_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that never writes temporary files."""
    return duckdb.connect(":memory:", config=dict(NO_SPILL))


@contextmanager
def engine_errors(own: bool = True) -> Iterator[None]:
    """DuckDB running out of memory as a DataError naming the cause and what to do.

    ``own``: the connection is one the tabulation opened (:func:`private_connection`). A
    caller's connection has the caller's limit, and its caller words running out of it
    (the vault's names the workspace setting: engine/memory.py ``memory_bounded``).
    """
    if not own:
        yield
        return
    try:
        yield
    except duckdb.OutOfMemoryException:
        raise DataError(
            "the tabulation needs more memory than the query engine may use: it never "
            "writes the data to disk to make room, so it stopped",
            hint="run it on a machine with more memory, tabulate fewer or coarser "
            "dimensions, or use the Spark engine for data this large",
            value_free=True,
        ) from None
