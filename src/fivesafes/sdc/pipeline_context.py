"""The pipeline's steps for tables protected with published releases and of part of the units.

Kept apart from sdc/pipeline.py (which calls them): the population a ``[table] where``
keeps, the costs the repair uses, the report's ``published`` section, and linked tables
protected with the releases (sdc/published_context.py does the work).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from fivesafes.errors import SpecError
from fivesafes.sdc.audit import AuditResult, audit_linked
from fivesafes.sdc.differencing import OutputTable
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.population import Population, joined
from fivesafes.sdc.progress import Progress
from fivesafes.sdc.progress import stage as progress_stage
from fivesafes.sdc.published_context import NewTable, PublishedContext, protect_with_published
from fivesafes.sdc.secondary.costs import cell_costs
from fivesafes.sdc.spec import SuppressionSpec, TableSpec
from fivesafes.sdc.tabulate import DuckDBTabulator, Tabulator


def population_of(spec: TableSpec, engine: Tabulator, data: Any) -> Population | None:
    """The units ``[table] where`` keeps, and every value of its columns (their domain)."""
    if not spec.where:
        return None
    if not isinstance(engine, DuckDBTabulator):
        # another engine would tabulate every unit: refuse rather than mislabel the table
        raise SpecError(
            f"[table] where is tabulated by the DuckDB engine only, not {engine.name}",
            hint="use --engine duckdb, or filter the data before tabulating them",
            value_free=True,
        )
    domains = engine.filter_domains(spec, data)
    return Population.of(dict(spec.where), domains)


def costs(cells: pd.DataFrame, hier: tuple[Hierarchy, ...], spec: TableSpec) -> Any:
    """What hiding each cell costs, as the spec's secondary suppression counts it."""
    structure = build_structure(cells, hier, dimensions=spec.dimension_names, check_values=False)
    return cell_costs(cells, structure, spec.suppression)


def published_section(
    published: Sequence[OutputTable], carried: int, context: PublishedContext | None
) -> dict[str, Any]:
    """The report's record of the releases the table was protected with."""
    if context is None:
        return {
            "releases": [t.label for t in published],
            "carried_hidden": carried,
            "note": "secondary suppression was not run: not checked with the releases",
        }
    return {**context.to_dict(), "carried_hidden": carried}


def linked_with_published(
    loaded: Sequence[TableSpec],
    primaries: Sequence[Any],
    parts: list[pd.DataFrame],
    published: Sequence[OutputTable],
    suppression: SuppressionSpec,
    audit: AuditResult,
    progress: Progress | None,
    exact_max_cells: int,
    membership: Population | None = None,
) -> tuple[list[pd.DataFrame], PublishedContext, AuditResult]:
    """Linked tables (``primaries``: their TableResults) protected together with the
    releases, and audited again if that hid more (``membership``: see pipeline.tables)."""
    new = [
        NewTable(
            s.name,
            cells,
            r.hierarchies,
            costs(cells, r.hierarchies, s),
            joined(result_population(r), membership),
        )
        for s, r, cells in zip(loaded, primaries, parts, strict=True)
    ]
    with progress_stage(progress, "protect with published releases (linked tables)") as stage:
        context = protect_with_published(new, published)
        stage.outcome = f"{sum(context.hidden_more):,} more cells hidden"
    if not sum(context.hidden_more):
        return parts, context, audit
    cells = list(context.cells)
    audit = audit_linked(
        [(c, r.hierarchies) for c, r in zip(cells, primaries, strict=True)],
        a_priori_percent=suppression.a_priori_percent,
        frequency=loaded[0].is_frequency,
        singleton=suppression.singleton,
        intervals="exact" if sum(len(c) for c in cells) <= exact_max_cells else "check",
    )
    audit.raise_if_unsafe()
    return cells, context, audit


def result_population(result: Any) -> Population | None:
    """A TableResult's population, from its report."""
    raw = result.report.get("population")
    return Population.of(raw["where"], raw["domains"]) if raw else None
