"""Linked tables: several tables from the same data, protected together.

Tables that share cells (region x industry and region x size band share the
region totals) must be protected as one system, or one table publishes what
another hides. Each table is tabulated and its primary cells found on its own;
then one secondary-suppression problem covers them all (a shared cell has one
status everywhere), and one audit proves the joint pattern.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from fivesafes.errors import SpecError
from fivesafes.sdc.protect import EXACT_AUDIT_MAX_CELLS, TableResult, tables
from fivesafes.sdc.spec import TableSpec, load_spec


def linked_tables(
    specs: Sequence[TableSpec | str | Path],
    data: Any,
    *,
    secondary: str | None = None,
    connection: Any = None,
) -> list[TableResult]:
    """Protect every spec's table over ``data`` together; each result carries the joint audit.

    ``connection``: the DuckDB connection to tabulate in (default: a new one per table)."""
    loaded = [s if isinstance(s, TableSpec) else load_spec(s) for s in specs]
    if len(loaded) < 2:
        raise SpecError("linked protection needs at least two specs")
    _check_compatible(loaded)
    method = secondary or loaded[0].suppression.method
    suppression = replace(loaded[0].suppression, method=method)  # type: ignore[arg-type]
    primaries = [tables(s, data, secondary="none", connection=connection) for s in loaded]
    if method == "none":
        return primaries
    from fivesafes.sdc.audit import audit_linked
    from fivesafes.sdc.secondary import protect_linked

    frequency = loaded[0].is_frequency
    t = time.perf_counter()
    joint = protect_linked(
        [(r.cells, r.hierarchies) for r in primaries], suppression, frequency=frequency
    )
    seconds = time.perf_counter() - t
    protected = [(p.cells, r.hierarchies) for p, r in zip(joint.tables, primaries, strict=True)]
    t = time.perf_counter()
    n_cells = sum(len(c) for c, _ in protected)
    audit = audit_linked(
        protected,
        a_priori_percent=suppression.a_priori_percent,
        frequency=frequency,
        singleton=suppression.singleton,
        intervals="exact" if n_cells <= EXACT_AUDIT_MAX_CELLS else "check",
    )
    audit_seconds = time.perf_counter() - t
    audit.raise_if_unsafe()  # an unsafe joint pattern is never returned
    names = [s.name for s in loaded]
    out = []
    for result, part in zip(primaries, joint.tables, strict=True):
        report = dict(result.report)
        report["suppression"] = {**report["suppression"], "method": method, "linked_with": names}
        report["secondary"] = {**part.to_dict(), "linked": joint.to_dict()}
        report["audit"] = {"run": True, "linked": True, **audit.to_dict(), "safe_to_release": True}
        report["timings"] = {
            **report["timings"],
            "secondary_linked": seconds,
            "audit_linked": audit_seconds,
        }
        spec = replace(result.spec, suppression=suppression)
        out.append(replace(result, spec=spec, cells=part.cells, report=report))
    return out


def measure_key(spec: TableSpec) -> tuple[str | None, ...]:
    """What a table measures; only tables with the same key share cells."""
    return (spec.response, spec.contributor, spec.holding, spec.weight)


def protect_all(
    specs: Sequence[TableSpec],
    data: Any,
    *,
    secondary: str | None = None,
    connection: Any = None,
) -> list[TableResult]:
    """Protect several tables of ``data``: those of the same measure together (linked).

    ``connection``: the DuckDB connection to tabulate in (e.g. a memory-only one)."""
    groups: dict[tuple[str | None, ...], list[int]] = {}
    for i, s in enumerate(specs):
        groups.setdefault(measure_key(s), []).append(i)
    results: dict[int, TableResult] = {}
    for members in groups.values():
        chosen = [specs[i] for i in members]
        if len(chosen) == 1:
            done = [tables(chosen[0], data, secondary=secondary, connection=connection)]
        else:
            done = linked_tables(chosen, data, secondary=secondary, connection=connection)
        results.update(zip(members, done, strict=True))
    return [results[i] for i in range(len(specs))]


def _check_compatible(specs: Sequence[TableSpec]) -> None:
    first = specs[0]
    for s in specs[1:]:
        if measure_key(s) != measure_key(first):
            raise SpecError(
                f"tables {first.name!r} and {s.name!r} measure different things "
                "(response, contributor, holding or weight differ), so they share no cells",
                hint="link only tables of the same measure from the same data; "
                "protect the others one at a time",
            )
