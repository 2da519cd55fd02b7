"""SQL over an area's datasets; the result stays in the area as an encrypted output."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from fivesafes.vault.keys import KeyProvider
from fivesafes.vault.manifest import Manifest, Provenance
from fivesafes.vault.reader import AreaSession
from fivesafes.vault.store import AreaStore
from fivesafes.vault.writer import write_object

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class QueryResult:
    """The stored output and the result table (kept in memory; printed only by choice)."""

    output: Manifest
    table: pa.Table


def sql_name(dataset: str) -> str:
    """The table name a dataset gets in SQL (non-identifier characters become '_')."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", dataset)
    return name if _IDENT.fullmatch(name) else f"_{name}"


def output_name(now: datetime | None = None, prefix: str = "q") -> str:
    """A unique, sortable name for an analysis output ("q-..." a query, "t-..." a table)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{prefix}-{stamp}"


def _result_digest(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


def query_area(
    store: AreaStore,
    provider: KeyProvider,
    sql: str,
    *,
    run_by: str,
    datasets: Sequence[str] | None = None,
    name: str | None = None,
    memory_limit: str | None = None,
) -> QueryResult:
    """Run ``sql`` over the area's datasets (each a table named by :func:`sql_name`)."""
    names = list(datasets) if datasets is not None else store.names("datasets")
    with AreaSession(
        store, provider, names, sql_names={n: sql_name(n) for n in names}, memory_limit=memory_limit
    ) as session:
        result = session.sql(sql)
    provenance = Provenance(
        source=sql,
        sha256=_result_digest(result),
        size_bytes=result.nbytes,
        ingested_by=run_by,
        ingested_at=datetime.now(UTC).isoformat(),
        source_format="query",
    )
    manifest = write_object(
        store,
        provider,
        name=name or output_name(),
        kind="outputs",
        schema=result.schema,
        batches=result.to_batches(),
        provenance=provenance,
        extra={"datasets": names},
    )
    return QueryResult(manifest, result)
