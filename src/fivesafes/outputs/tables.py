"""A crosstab or pivot table output: tabulate, check, protect, check differencing, record.

The steps, each in its own module: one DuckDB pass (``tabulate``), ACRO's per-cell
checks (``checks``), secondary suppression and audit when suppressing (``protect``),
the differencing check against earlier outputs of the same rows (``differencing``),
then the table as pandas would show it and the record (``layout``, ``record``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.errors import DataError
from fivesafes.outputs import verdict as V
from fivesafes.outputs.checks import CellChecks, protection_needs, run_checks
from fivesafes.outputs.differencing import EarlierOutputs, SourceKey, check_against
from fivesafes.outputs.layout import Layout, outcome_frame, table_frame
from fivesafes.outputs.protect import (
    RESERVED,
    Measure,
    Protection,
    cells_frame,
    hierarchies,
    protect,
)
from fivesafes.outputs.record import Output, TableEvidence
from fivesafes.outputs.rules import OutputRules
from fivesafes.outputs.subsets import RowSets, RowsTable, published
from fivesafes.outputs.tabulate import STATISTICS, Cube, Request, tabulate
from fivesafes.outputs.verdict import Verdict
from fivesafes.sdc import (
    LOWER,
    RULE,
    STATUS,
    UPPER,
    VALUE,
    DifferencingResult,
    OutputTable,
    Status,
    SuppressionSpec,
)

BoolArray = npt.NDArray[np.bool_]
SUPPRESSION_EXCEPTION = "Suppression automatically applied where needed"
EXTREMES = frozenset({"min", "max"})
EXTREMES_NOTE = f"{V.EXTREME}: a minimum or maximum is a unit's own value, for a human to check"


@dataclass(frozen=True)
class TableCall:
    """A crosstab or pivot table as asked: its columns, statistics and margins."""

    method: str  # crosstab | pivot_table
    frame: pd.DataFrame  # k0.. (dimensions, index ones first) and v (values)
    names: tuple[str, ...]
    n_index: int
    values_name: str | None
    statistics: tuple[str, ...]
    stat_level: bool
    margins: bool
    margins_name: str


@dataclass(frozen=True)
class SessionContext:
    """What a session lends each output: rules, mitigation, the earlier outputs."""

    rules: OutputRules
    suppress: bool
    suppression: SuppressionSpec
    providers: Sequence[EarlierOutputs]
    population: str
    connection: duckdb.DuckDBPyConnection | None = None
    row_sets: RowSets | None = None  # the session's outputs with their rows (``subsets``)


@dataclass(frozen=True)
class TableOutcome:
    """The table shown, its record, and what the differencing history keeps of it."""

    table: pd.DataFrame
    output: Output
    kept: tuple[tuple[SourceKey, OutputTable], ...]
    rows_kept: tuple[RowsTable, ...] = ()


def statistics_of(aggfunc: Any, has_values: bool) -> tuple[tuple[str, ...], bool]:
    """(statistics, stat_level) from an ``aggfunc`` as ACRO takes it (None, a name, a list)."""
    if aggfunc is None:
        if has_values:
            raise DataError(
                "values were given without an aggfunc",
                hint="say how to aggregate them, e.g. aggfunc='mean'",
            )
        return ("count",), False
    names = list(aggfunc) if isinstance(aggfunc, list | tuple) else [aggfunc]
    bad = [n for n in names if n not in STATISTICS]
    if bad or not names:
        raise DataError(
            f"aggfunc {bad or names!r} is not supported",
            hint=f"use one of {', '.join(STATISTICS)} (or a list of them)",
        )
    if not has_values:
        raise DataError("an aggfunc needs values", hint="give values=<column> to aggregate")
    return tuple(names), isinstance(aggfunc, list | tuple)


def check_names(names: Sequence[str]) -> None:
    """Dimension names must be distinct and not those of the cells table's own columns."""
    clash = sorted(set(names) & RESERVED)
    if clash or len(set(names)) != len(names):
        raise DataError(
            f"dimension names {list(names)} repeat or use reserved names {clash}",
            hint="rename the Series (e.g. s.rename('region'))",
        )


def make_table(call: TableCall, ctx: SessionContext, uid: str, command: str) -> TableOutcome:
    """Run every step for one table output."""
    check_names(call.names)
    stats = call.statistics
    need = set(stats)
    request = Request(
        frame=call.frame,
        names=call.names,
        has_values=call.values_name is not None,
        statistics=tuple(need),
        top_n=ctx.rules.top_n,
        shown=_shown_subsets(len(call.names), call.n_index, call.margins),
    )
    cube = tabulate(request, ctx.connection)
    layout = Layout(
        axes=cube.axes,
        n_index=call.n_index,
        margins=call.margins,
        margins_name=call.margins_name,
        statistics=stats,
        stat_level=call.stat_level,
        values_name=call.values_name,
    )
    shown = layout.shown
    checks = [run_checks(cube, s, ctx.rules) for s in stats]
    flagged = np.zeros(cube.shape, dtype=bool)
    for c in checks:
        flagged |= c.flagged()
    primary = flagged & shown
    review = any(c.flagged(frozenset({V.MISSING, V.NEGATIVE}))[shown].any() for c in checks)
    measures = _measures(cube, call, ctx.rules, checks)
    protection: Protection | None = None
    hidden = np.zeros(cube.shape, dtype=bool)
    if ctx.suppress:
        protection = protect(cube, measures, primary, ctx.suppression, flagged & ~shown)
        hidden = protection.hidden & shown
    secondary = hidden & ~primary
    rule_text = _rule_text(checks, cube.shape)
    evidence = _evidence(cube, measures, primary, hidden if ctx.suppress else primary, rule_text)
    # an unprotected output with disclosive cells fails anyway and is not releasable as it
    # is: neither checked for differencing (its own cells would be "revealed") nor kept
    releasable = protection.ok if protection is not None else not primary.any()
    kept, diff = _differencing(evidence, ctx, uid, shown) if releasable else ((), None)
    rows_kept, nearby = _row_sets(evidence, ctx, uid, shown, call) if releasable else ((), [])
    status, summary = _status(ctx, checks, shown, primary, secondary, review, protection, diff)
    if nearby:
        status = Verdict.FAIL
        summary = _restated(status, summary, [f"differencing: {text}" for text in nearby])
    if EXTREMES & set(stats):
        # ACRO passes a minimum or maximum of ten records; either is one record's value
        status = max(status, Verdict.REVIEW)
        summary = _restated(status, summary, [EXTREMES_NOTE])
    table = table_frame(layout, _grids(cube, layout, hidden, call.values_name is not None))
    outcome = outcome_frame(layout, checks)
    details = _details(cube, ctx, checks, shown, primary, secondary, protection, diff, rule_text)
    details["differencing_rows"] = nearby
    output = Output(
        uid=uid,
        status=status,
        output_type="table",
        properties={"method": call.method, "mitigation": "suppress" if ctx.suppress else "none"},
        sdc=_acro_sdc(layout, checks),
        command=command,
        summary=summary,
        outcome=outcome,
        output=(table,),
        checks=details,
        exception=SUPPRESSION_EXCEPTION if ctx.suppress and status is Verdict.REVIEW else "",
        tables=_submittable(evidence, stats) if releasable and status is not Verdict.FAIL else (),
    )
    safe = (diff is None or diff.safe) and not nearby
    return TableOutcome(table, output, kept if safe else (), rows_kept if safe else ())


def _row_sets(
    evidence: Sequence[TableEvidence],
    ctx: SessionContext,
    uid: str,
    shown: BoolArray,
    call: TableCall,
) -> tuple[tuple[RowsTable, ...], list[str]]:
    """Each measure's published cells with the output's rows, and what they reveal with
    the session's earlier outputs over nearby rows (``subsets``)."""
    if ctx.row_sets is None:
        return (), []
    tables = []
    found: list[str] = []
    for e in evidence:
        dims = [d for d, _ in e.total_codes]
        measure = "count" if e.frequency else f"sum:{e.measure}"
        cells = e.cells.loc[shown.ravel()]
        table = published(uid, ctx.population, call.frame.index, measure, cells, dims)
        tables.append(table)
        found.extend(ctx.row_sets.check(table, ctx.rules.safe_threshold))
    return tuple(tables), found


def _restated(status: Verdict, summary: str, more: Sequence[str]) -> str:
    """``summary`` under a new status, with ``more`` findings at its end."""
    parts = summary.split("; ")[1:]  # the first part is the old status
    return "; ".join([status.text, *parts, *more])


def _submittable(
    evidence: Sequence[TableEvidence], stats: Sequence[str]
) -> tuple[TableEvidence, ...]:
    """The additive tables that are what the output shows (counts, sums), once protected.

    A mean's protection runs on its sums, but a release of the sums is not what the
    researcher made, so a mean (or any other statistic) goes for a human check as a file.
    """
    shown = {"count", "sum"} & set(stats)
    return tuple(e for e in evidence if ("count" if e.frequency else "sum") in shown)


def _shown_subsets(n_dims: int, n_index: int, margins: bool) -> tuple[tuple[int, ...], ...]:
    index_axes = tuple(range(n_index))
    column_axes = tuple(range(n_index, n_dims))
    out: list[tuple[int, ...]] = [()]
    if margins:
        if column_axes:
            out.append(column_axes)
        out.append(index_axes)
        if column_axes:
            out.append(index_axes + column_axes)
    return tuple(dict.fromkeys(out))


def _measures(
    cube: Cube, call: TableCall, rules: OutputRules, checks: Sequence[CellChecks]
) -> list[Measure]:
    flags: dict[str, BoolArray] = {}
    for c in checks:
        for name, mask in c.masks.items():
            flags[name] = flags.get(name, np.zeros(cube.shape, dtype=bool)) | mask
    out = []
    stats = set(call.statistics)
    if "count" in stats:
        value = cube.stats["count"]
        need = protection_needs(cube, rules, flags, frequency=True)
        out.append(Measure("count", True, value, value, need))
    if stats & {"sum", "mean"} and call.values_name is not None:
        need = protection_needs(cube, rules, flags, frequency=False)
        out.append(Measure(call.values_name, False, cube.sum, cube.values, need))
    return out


def _rule_text(checks: Sequence[CellChecks], shape: tuple[int, ...]) -> npt.NDArray[Any]:
    text = np.full(shape, "", dtype=object)
    for c in checks:
        for name, mask in c.masks.items():
            if name in V.FAILING_CHECKS:
                text = np.where(mask & ~_contains(text, name), text + f"{name};", text)
    return np.char.rstrip(text.astype(str), ";").astype(object)


def _contains(text: npt.NDArray[Any], name: str) -> BoolArray:
    return np.char.find(text.astype(str), name) >= 0


def _evidence(
    cube: Cube,
    measures: Sequence[Measure],
    primary: BoolArray,
    hidden: BoolArray,
    rule_text: npt.NDArray[Any],
) -> list[TableEvidence]:
    """Each additive measure's cells (the whole cube) with the statuses this output gives."""
    hier = hierarchies(cube)
    out = []
    for m in measures:
        # a magnitude cell without values is known to be empty: hidden, nothing to protect
        prim = primary if m.frequency else primary & (m.records > 0)
        cells = cells_frame(cube, hier, m, prim)
        status = np.where(
            prim, Status.PRIMARY.value, np.where(hidden | primary, Status.SECONDARY.value, "safe")
        )
        cells[STATUS] = status.ravel()
        rules = np.where(primary, rule_text, "").ravel()
        cells.insert(list(cells.columns).index(STATUS) + 1, RULE, rules)
        totals = tuple((h.name, h.root) for h in hier)
        out.append(TableEvidence(m.name, m.frequency, cells, totals))
    return out


def _differencing(
    evidence: Sequence[TableEvidence], ctx: SessionContext, uid: str, shown: BoolArray
) -> tuple[tuple[tuple[SourceKey, OutputTable], ...], DifferencingResult | None]:
    """Check the shown cells of every measure against earlier outputs of the same source."""
    kept: list[tuple[SourceKey, OutputTable]] = []
    worst: DifferencingResult | None = None
    for e in evidence:
        source = SourceKey(ctx.population, "count" if e.frequency else f"sum:{e.measure}")
        dims = [d for d, _ in e.total_codes]
        cells = e.cells.loc[shown.ravel(), [*dims, VALUE, STATUS, LOWER, UPPER]]
        table = OutputTable(uid, _flat(e), cells.reset_index(drop=True))
        kept.append((source, table))
        result = check_against(table, source, ctx.providers)
        if result is not None and (worst is None or not result.safe):
            worst = result
    return tuple(kept), worst


def _flat(e: TableEvidence) -> tuple[Any, ...]:
    from fivesafes.sdc import Hierarchy

    out = []
    for dim, total in e.total_codes:
        codes = [c for c in e.cells[dim].astype(str).unique() if c != total]
        out.append(Hierarchy.flat(dim, codes, total=total))
    return tuple(out)


def _status(
    ctx: SessionContext,
    checks: Sequence[CellChecks],
    shown: BoolArray,
    primary: BoolArray,
    secondary: BoolArray,
    review: bool,
    protection: Protection | None,
    diff: DifferencingResult | None,
) -> tuple[Verdict, str]:
    parts: list[str] = []
    for c in checks:
        for name, mask in c.masks.items():
            n = int((mask & shown).sum())
            if n:
                parts.append(f"{c.statistic} {name}: {n} cell(s)")
    status = Verdict.FAIL if primary.any() else Verdict.PASS
    if review:
        status = max(status, Verdict.REVIEW)
    if ctx.suppress:
        # as ACRO: a suppressed table is for a human to review (and says so)
        status = Verdict.REVIEW
        hidden = int(primary.sum()) + int(secondary.sum())
        parts.append(
            f"hidden: {int(primary.sum())} primary and {int(secondary.sum())} secondary cell(s)"
            if hidden
            else "nothing needed hiding"
        )
        if protection is not None and not protection.ok:
            status = Verdict.FAIL
            parts.append(protection.reason)
    if diff is not None and not diff.safe:
        status = Verdict.FAIL
        parts.extend(f"differencing: {text}" for text in _explained(diff))
    return status, f"{status.text}; " + "; ".join(parts) if parts else status.text


def _explained(diff: DifferencingResult) -> list[str]:
    """Each disclosure without the hidden value or the attacker's bounds (they travel)."""
    out = []
    for d in diff.disclosures:
        where = ", ".join(f"{k}={v}" for k, v in d.codes.items())
        how = "exactly" if d.exact else "too narrowly"
        combo = " ".join(
            f"{'+' if c > 0 else '-'} {abs(c):g}*{t}({_codes(cs)})"
            for t, cs, c in d.revealed_by[:8]
        )
        out.append(f"{d.table} cell ({where}) is determined {how} by {combo.lstrip('+ ')}")
    return out


def _codes(codes: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in codes.items())


def _grids(
    cube: Cube, layout: Layout, hidden: BoolArray, has_values: bool
) -> dict[str, npt.NDArray[Any]]:
    where = layout.select()
    out: dict[str, npt.NDArray[Any]] = {}
    mask = hidden[where]
    empty = (cube.values == 0)[where] if has_values else np.zeros_like(mask)
    for s in layout.statistics:
        grid = cube.stats[s][where].astype(float)
        grid = np.where(mask | (empty & (s != "count")), np.nan, grid)
        out[s] = grid
    return out


def _acro_sdc(layout: Layout, checks: Sequence[CellChecks]) -> dict[str, Any]:
    """ACRO's ``sdc`` block: cells flagged per check, and their (row, column) positions."""
    where = layout.select()
    summary: dict[str, int] = {}
    cells: dict[str, list[list[int]]] = {}
    for c in checks:
        for name, mask in c.masks.items():
            grid = mask[where]
            if name in summary:
                grid = grid | _grid_of(cells[name], grid.shape)
            summary[name] = int(grid.sum())
            cells[name] = [[int(r), int(k)] for r, k in np.argwhere(grid)]
    return {"summary": summary, "cells": cells}


def _grid_of(positions: list[list[int]], shape: tuple[int, ...]) -> BoolArray:
    out = np.zeros(shape, dtype=bool)
    for r, k in positions:
        out[r, k] = True
    return out


def _details(
    cube: Cube,
    ctx: SessionContext,
    checks: Sequence[CellChecks],
    shown: BoolArray,
    primary: BoolArray,
    secondary: BoolArray,
    protection: Protection | None,
    diff: DifferencingResult | None,
    rule_text: npt.NDArray[Any],
) -> dict[str, Any]:
    """The machine-readable checks: rules, cells flagged, what was hidden and why."""
    hier = hierarchies(cube)

    def codes(index: tuple[int, ...]) -> dict[str, str]:
        return {
            a.name: (a.labels[i] if i < a.size else h.root)
            for a, h, i in zip(cube.axes, hier, index, strict=True)
        }

    hidden_list = [
        {"cell": codes(tuple(int(x) for x in ix)), "why": str(rule_text[tuple(ix)]).split(";")}
        for ix in np.argwhere(primary)
    ] + [
        {"cell": codes(tuple(int(x) for x in ix)), "why": [V.SECONDARY]}
        for ix in np.argwhere(secondary)
    ]
    return {
        "rules": ctx.rules.name,
        "statistics": [c.statistic for c in checks],
        "flagged": {
            f"{c.statistic}:{name}": int((mask & shown).sum())
            for c in checks
            for name, mask in c.masks.items()
        },
        "suppress": ctx.suppress,
        "hidden": hidden_list if ctx.suppress else [],
        "protection": None
        if protection is None
        else {
            "ok": protection.ok,
            "reason": protection.reason,
            "seconds": round(protection.seconds, 4),
            **protection.reports,
        },
        "differencing": None if diff is None else _diff_summary(diff),
    }


def _diff_summary(diff: DifferencingResult) -> dict[str, Any]:
    full = diff.to_dict()
    secret = {"attacker_min", "attacker_max", "required_lower", "required_upper", "explanation"}
    full["disclosures"] = [
        {k: v for k, v in d.items() if k not in secret} | {"explanation": text}
        for d, text in zip(full["disclosures"], _explained(diff), strict=True)
    ]
    return full
