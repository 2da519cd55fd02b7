"""Which plaintext bytes a query needs: the columns DuckDB scans, and where they lie.

Two halves, both conservative (unsure means *everything*, which costs time, never
correctness):

- :func:`scanned_columns` asks DuckDB for the physical plan of a query (``EXPLAIN``,
  which binds and optimises against the Parquet footers but reads no data) and collects
  every column a Parquet scan reads, for its output or its pushed-down filters. Any other
  scan of a file, or a plan it cannot read, means all columns.
- :func:`column_ranges` turns column names into byte ranges of the Parquet file from its
  footer: every column chunk of those columns in every row group, plus the file's head
  and its tail (page indexes, bloom filters and the footer itself).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

# The plan node DuckDB's native Parquet reader shows (DuckDB 1.1 and later).
PARQUET_SCAN = "READ_PARQUET"
# extra_info keys of a scan that name no column.
_NOT_COLUMNS = {"Function", "Estimated Cardinality", "Total Files Read"}
PARQUET_MAGIC = 4  # "PAR1" at the start; DuckDB and pyarrow may check it


def _nodes(plan: Any) -> Iterator[Mapping[str, Any]]:
    stack = list(plan) if isinstance(plan, list) else [plan]
    while stack:
        node = stack.pop()
        if not isinstance(node, Mapping):
            raise ValueError("plan node is not an object")
        yield node
        stack.extend(node.get("children", []))


def scanned_columns(
    con: duckdb.DuckDBPyConnection, sql: str, columns: Iterable[str]
) -> set[str] | None:
    """The (lower-cased) ``columns`` any Parquet scan of ``sql`` reads; None: all of them.

    The scans of a plan do not say which file they read, so a column read from one
    dataset counts for every dataset with a column of that name (more, never less).
    """
    names = {c.lower() for c in columns}
    if any('"' in c or "\\" in c or not c.isprintable() for c in names):
        return None  # such names are escaped in plan text: matching could miss them
    try:
        rows = con.execute("EXPLAIN (FORMAT JSON) " + sql).fetchall()
        plan = json.loads(rows[0][1])
        needed: set[str] = set()
        for node in _nodes(plan):
            info = node.get("extra_info") or {}
            if not isinstance(info, Mapping):
                return None
            function = info.get("Function")
            if function is None:
                continue
            if function != PARQUET_SCAN:
                return None  # another table function over files: be safe
            text = json.dumps(
                [v for k, v in info.items() if k not in _NOT_COLUMNS], ensure_ascii=False
            ).lower()
            # Projections list column names; filters are expressions naming them. A name
            # found anywhere in the scan's description is read (a superset at worst).
            needed.update(n for n in names if n in text)
    except (duckdb.Error, ValueError, IndexError, TypeError, KeyError):
        return None
    return needed


def _leaves(t: pa.DataType) -> int:
    """Parquet leaf columns of an Arrow type (nested types have several)."""
    if pa.types.is_struct(t):
        return sum(_leaves(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_map(t):
        return _leaves(t.key_type) + _leaves(t.item_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _leaves(t.value_type)
    return 1


def _leaf_owners(metadata: pq.FileMetaData) -> list[str] | None:
    """Lower-cased top-level column name of each leaf column; None if they do not add up."""
    schema = metadata.schema.to_arrow_schema()
    owners: list[str] = []
    for f in schema:
        owners.extend([f.name.lower()] * _leaves(f.type))
    return owners if len(owners) == metadata.num_columns else None


def column_ranges(
    metadata: pq.FileMetaData, columns: Collection[str] | None, size: int
) -> list[tuple[int, int]]:
    """Plaintext byte ranges holding ``columns`` (lower-cased; None: all) of a Parquet file."""
    owners = _leaf_owners(metadata)
    if columns is None or owners is None:
        return [(0, size)]
    wanted = {c.lower() for c in columns}
    ranges: list[tuple[int, int]] = [(0, PARQUET_MAGIC)]
    data_end = PARQUET_MAGIC
    for g in range(metadata.num_row_groups):
        rg = metadata.row_group(g)
        for j in range(rg.num_columns):
            chunk = rg.column(j)
            start = chunk.data_page_offset
            if chunk.has_dictionary_page and chunk.dictionary_page_offset is not None:
                start = min(start, chunk.dictionary_page_offset)
            end = start + chunk.total_compressed_size
            if start < 0 or end > size:
                return [(0, size)]  # a footer that does not describe this file
            data_end = max(data_end, end)
            if owners[j] in wanted:
                ranges.append((start, end))
    ranges.append((data_end, size))  # page indexes, bloom filters, footer
    return ranges
