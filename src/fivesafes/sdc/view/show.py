"""Gather what a view needs: a protected table (in memory or an output folder), its audit.

:func:`view_table` is the entry point from Python and the CLI. It reads an output
folder of ``table protect`` (cells.csv, report.json and the spec's hierarchies), or
takes a :class:`~fivesafes.sdc.TableResult`; for the checker's view it runs the
independent audit to get every hidden cell's interval (the report keeps only the
verdict) and, when more than a third of the cells are hidden, protects the coarser
tables to suggest the one that hides least.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from fivesafes.errors import (
    DataError,
    IntegrityError,
    NotFoundError,
    SpecError,
    UnsafeTableError,
)
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.cells import CONTRIBUTORS, PUBLISHED
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.outputs.cells_csv import formula_escaped
from fivesafes.sdc.outputs.reader import read_cells, spec_hierarchies
from fivesafes.sdc.outputs.report import STATUS_DIGEST, count_by_status, status_digest
from fivesafes.sdc.outputs.writers import CELLS_CSV, REPORT_JSON
from fivesafes.sdc.progress import Progress
from fivesafes.sdc.progress import stage as progress_stage
from fivesafes.sdc.spec import TableSpec, load_spec
from fivesafes.sdc.view.coarser import DEFAULT_BUDGET_SECONDS, suggest_coarser
from fivesafes.sdc.view.model import SUGGEST_ABOVE_SHARE, TableView, build_view

# Up to this many cells the checker's view gets every hidden cell's exact interval;
# above, exact intervals for primary cells and inner ranges for secondary ones.
EXACT_VIEW_MAX_CELLS = 5_000


@dataclass(frozen=True)
class Shown:
    """A protected table as read for showing: spec, cells, hierarchies and report."""

    spec: TableSpec
    cells: pd.DataFrame
    hierarchies: tuple[Hierarchy, ...]
    report: dict[str, Any]

    @property
    def name(self) -> str:
        """The table's name."""
        return self.spec.name


def read_output(folder: str | Path, spec: str | Path | None = None) -> Shown:
    """Read an output folder of ``table protect`` (``spec``: where the spec is now)."""
    folder = Path(folder)
    report_path = folder / REPORT_JSON
    if not report_path.is_file():
        # several specs write OUT/<table name>/: name them rather than send the user back
        # to the --out they already gave
        tables = (
            sorted(p.parent for p in folder.glob(f"*/{REPORT_JSON}")) if folder.is_dir() else []
        )
        # no output here: the path names none (not_found), the data are not at fault
        if tables:
            raise NotFoundError(
                f"{folder} holds one output folder per table (table protect with several "
                f"specs): {', '.join(p.name for p in tables[:10])}",
                hint=f"show one of them, e.g. fivesafes table show {tables[0]}",
            )
        raise NotFoundError(
            f"{folder} is not an output folder of `fivesafes table protect`: no {REPORT_JSON}",
            hint="give the folder passed to --out (it holds cells.csv and report.json)",
        )
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(
            f"{report_path} is not valid JSON ({type(exc).__name__})",
            hint="protect the table again to write a fresh report.json",
        ) from None
    _check_report_shape(report, report_path)
    loaded = load_spec(spec if spec is not None else _spec_path(report, report_path))
    if loaded.spec_hash != report["spec"]["sha256"]:
        raise SpecError(
            f"the spec {loaded.source_path} is not the one this table was protected with "
            "(its SHA-256 differs from report.json's)",
            hint="give the spec the table was protected with (--spec), or protect again",
        )
    cells = read_cells(
        folder / CELLS_CSV, loaded.dimension_names, formula_escaped=formula_escaped(report)
    )
    _check_statuses(cells, loaded.dimension_names, report["cells"], folder)
    return Shown(loaded, cells, spec_hierarchies(loaded, cells), report)


def _check_report_shape(report: Any, where: Path) -> None:
    """report.json as ``table protect`` writes it: the parts a view reads, of their types."""
    parts = {"spec": dict, "cells": dict, "audit": dict}
    bad = (
        not isinstance(report, dict)
        or any(not isinstance(report.get(k), t) for k, t in parts.items())
        or not isinstance(report["spec"].get("sha256"), str)
        or not isinstance(report["spec"].get("path"), str | None)
        or not isinstance(report["cells"].get("by_status"), dict)
        or not isinstance(report.get("protection", {}), dict)
    )
    if bad:
        raise DataError(
            f"{where} is not the report.json of `fivesafes table protect` (it lacks the "
            "spec's SHA-256, the cells' statuses or the audit, or they are of another type)",
            hint="protect the table again to write a fresh output folder",
        )


def _check_statuses(
    cells: pd.DataFrame, dimensions: tuple[str, ...], counted: dict[str, Any], folder: Path
) -> None:
    """Refuse a cells.csv whose statuses are not those protected (edited, truncated, mixed)."""
    expected = counted.get(STATUS_DIGEST)
    if expected is not None:  # written by this version: every cell's codes and status
        same = status_digest(cells, dimensions) == expected
    else:  # an earlier version's report: the number of cells of each status
        found = count_by_status(cells)
        wanted = {str(k): v for k, v in counted["by_status"].items()}
        same = all(found.get(k, 0) == wanted.get(k, 0) for k in {*found, *wanted}) and len(
            cells
        ) == sum(found.values())
    if not same:
        raise IntegrityError(
            f"{folder / CELLS_CSV} does not hold the statuses the table was protected with "
            f"(they differ from {folder / REPORT_JSON}'s): it was edited, truncated or "
            "copied from another output, so a hidden cell may show as safe",
            hint="protect the table again (fivesafes table protect ... --out) and show the "
            "new output folder; to check a pattern of your own, use `fivesafes table audit`",
        )


def view_table(
    table: Any,
    *,
    checker: bool = False,
    spec: str | Path | None = None,
    suggest: bool | None = None,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    progress: Progress | None = None,
) -> TableView:
    """The view of ``table``: a TableResult, or the output folder of ``table protect``.

    ``checker``: the output checker's view (CONFIDENTIAL: true values, statuses, rules,
    intervals, loss). ``suggest``: protect coarser tables (default: when more than a
    third of the cells are hidden; checker view only), within ``budget_seconds``.
    """
    shown = read_output(table, spec) if isinstance(table, str | Path) else table
    report: dict[str, Any] = dict(shown.report)
    method = report.get("protection", {}).get("method", shown.spec.protection)
    unit = shown.spec.unit
    if not checker:
        _check_publishable(shown.name, report.get("audit"))
        if method != "suppression" and PUBLISHED not in shown.cells.columns:
            # the cells hold the true values; without the changed ones nothing is publishable
            raise IntegrityError(
                f"table {shown.name!r} was protected by {method}, but its cells have no "
                f"{PUBLISHED!r} column (the values as changed): the true values are not "
                "publishable",
                hint="show the output folder as `table protect` wrote it, or protect again",
            )
        return build_view(shown.name, shown.cells, shown.hierarchies, unit=unit)
    notes: list[str] = []
    intervals = None
    verdict = _verdict(report.get("audit", {}))
    if method == "suppression":
        with progress_stage(progress, "audit (intervals for the checker)") as tell:
            audit = audit_table(
                shown.cells,
                shown.hierarchies,
                a_priori_percent=shown.spec.suppression.a_priori_percent,
                frequency=shown.spec.is_frequency,
                singleton=shown.spec.suppression.singleton and CONTRIBUTORS in shown.cells,
                dimensions=shown.spec.dimension_names,
                intervals="exact" if len(shown.cells) <= EXACT_VIEW_MAX_CELLS else "primary",
                progress=progress,
            )
            tell.outcome = "safe" if audit.safe else "UNSAFE"
        intervals = audit.intervals
        verdict = (
            f"audit now: {'safe' if audit.safe else 'UNSAFE'} ({len(audit.failures):,} "
            f"under-protected); {audit.lp_count:,} attacker LPs"
        )
    else:
        notes.append(f"protected by {method}: values are changed, so there are no intervals")
    view = build_view(
        shown.name,
        shown.cells,
        shown.hierarchies,
        checker=True,
        intervals=intervals,
        unit=unit,
        audit=verdict,
        notes=notes,
    )
    assert view.loss is not None
    wanted = view.loss.share_hidden > SUGGEST_ABOVE_SHARE if suggest is None else suggest
    if wanted and method == "suppression":
        suggestions = suggest_coarser(
            shown.name,
            shown.cells,
            shown.hierarchies,
            shown.spec.suppression,
            frequency=shown.spec.is_frequency,
            budget_seconds=budget_seconds,
            progress=progress,
        )
        return replace(view, suggestions=suggestions)
    return view


def _check_publishable(name: str, audit: Any) -> None:
    """Refuse the published view of a table its report does not call safe to release."""
    if isinstance(audit, dict) and audit.get("safe_to_release") is True:
        return
    if not isinstance(audit, dict) or "safe_to_release" not in audit:
        why = "its report records no verdict on whether it is safe to release"
    elif audit.get("reason"):
        why = str(audit["reason"])
    else:
        why = f"its audit found {audit.get('failures', 'some')} under-protected cell(s)"
    raise UnsafeTableError(
        f"table {name!r} is not safe to release, so it has no published view: {why}",
        hint="protect it with a secondary suppression method (e.g. --secondary modular) "
        "until its audit passes; --checker shows the pattern and what the audit finds",
    )


def _spec_path(report: dict[str, Any], where: Path) -> Path:
    raw = report["spec"].get("path")
    if not raw or not Path(raw).is_file():
        raise SpecError(
            f"the spec this table was protected with ({raw or 'not recorded'}) is not there",
            hint=f"give it with --spec (its SHA-256 is in {where})",
        )
    return Path(raw)


def _verdict(audit: dict[str, Any]) -> str:
    if not audit.get("run"):
        return f"audit not run: {audit.get('reason', 'no audit in the report')}"
    return "audit at protection: " + ("safe" if audit.get("safe") else "UNSAFE")
