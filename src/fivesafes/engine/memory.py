"""DuckDB engines that keep everything in memory and cannot reach outside the process.

Used wherever confidential rows or untrusted SQL meet DuckDB: no spilling to a temporary
directory (a query that outgrows ``memory_limit`` fails instead of writing plaintext to
disk), no file or network access, no extension installed or loaded behind our back,
and a configuration the SQL cannot change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from fivesafes.errors import DataError, ValidationError

# Every DuckDB engine that sees untrusted SQL or confidential rows starts from these.
LOCKED_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "temp_directory": "",  # no spilling: plaintext never reaches the disk
    "lock_configuration": True,
}

# Extra settings for an engine that holds confidential rows: SQL must not reach Python
# objects by name, and no file bytes are cached between queries.
_CONFIDENTIAL: dict[str, Any] = {
    "python_enable_replacements": False,
    "enable_external_file_cache": False,
}


def memory_only_connection(
    memory_limit: str | None = None, *, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with no disk, no network and a locked configuration."""
    config: dict[str, Any] = {**LOCKED_CONFIG, **_CONFIDENTIAL}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    try:
        return duckdb.connect(":memory:", config=config)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValidationError(
            f"cannot start the query engine: {first}",
            hint="check memory_limit under [engine] in config.toml (e.g. 4GB or 50%)",
        ) from None


def out_of_memory(exc: BaseException) -> bool:
    """True when ``exc`` is DuckDB refusing to go over its memory limit."""
    return isinstance(exc, duckdb.OutOfMemoryException) or "Out of Memory" in str(exc)


@contextmanager
def memory_bounded(what: str) -> Iterator[None]:
    """Turn DuckDB's out-of-memory error inside the block into a DataError that says why."""
    try:
        yield
    except duckdb.Error as exc:
        if not out_of_memory(exc):
            raise
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"{what} needs more memory than the engine may use: {first}",
            hint="confidential data are never spilled to disk: raise memory_limit under [engine] "
            "in the workspace's config.toml, or tabulate fewer or coarser dimensions",
            redacted=f"{what} needs more memory than the engine may use",
        ) from None
