"""The protection pipeline: microdata and specs in, protected tables and their reports out.

:func:`tables` protects one table: tabulate -> primary rules -> secondary suppression
(when asked for) -> the independent audit -> report. :func:`linked_tables` protects
several tables of the same data together, and :func:`protect_all` groups specs so that
tables sharing cells are linked. Nothing is written here; :meth:`TableResult.write`
does the I/O.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from fivesafes.errors import DataError, SpecError
from fivesafes.sdc import secondary as suppression_methods
from fivesafes.sdc.audit import AuditResult, audit_linked, audit_table
from fivesafes.sdc.cells import STATUS, Status
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.outputs.report import build_report
from fivesafes.sdc.outputs.writers import write_outputs
from fivesafes.sdc.progress import Progress
from fivesafes.sdc.progress import stage as progress_stage
from fivesafes.sdc.rules import apply_primary_rules, required_top_k
from fivesafes.sdc.spec import SECONDARY_METHODS, SuppressionSpec, TableSpec, load_spec
from fivesafes.sdc.tabulate import (
    DuckDBTabulator,
    HierarchyLoader,
    Tabulation,
    Tabulator,
    default_top_k,
    load_hierarchies,
)

T = TypeVar("T")
DATA_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class TableResult:
    """A protected table: the cells with their status, the hierarchies and the report."""

    spec: TableSpec
    cells: pd.DataFrame  # the cells.csv columns plus the rules' internal statistics
    hierarchies: tuple[Hierarchy, ...]
    report: dict[str, Any]

    @property
    def name(self) -> str:
        """The table's name from its spec."""
        return self.spec.name

    @property
    def status_counts(self) -> dict[str, int]:
        """Cells per status (every status listed, zeros included)."""
        counts: dict[str, int] = self.report["cells"]["by_status"]
        return dict(counts)

    @property
    def rule_counts(self) -> dict[str, int]:
        """Cells flagged per primary rule (a cell flagged by two rules counts under both)."""
        counts: dict[str, int] = self.report["cells"]["by_rule"]
        return dict(counts)

    @property
    def hidden(self) -> pd.Series:
        """Boolean Series: True for every cell that must not be published."""
        return self.cells[STATUS] != Status.SAFE.value

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write cells.csv, report.json, table.csv and table.xlsx into ``out_dir``."""
        return write_outputs(self, Path(out_dir))


def tables(
    spec: TableSpec | str | Path,
    data: Any,
    *,
    secondary: str | None = None,
    hierarchies: Sequence[Hierarchy] | None = None,
    connection: Any = None,
    tabulator: Tabulator | None = None,
    progress: Progress | None = None,
) -> TableResult:
    """Tabulate ``data`` under ``spec``, flag primary cells, and return the result with its report.

    ``data`` is a CSV/Parquet path, a pandas DataFrame, an Arrow table or a DuckDB
    relation. ``secondary`` overrides the spec's suppression method
    (``auto|optimal|modular|fast|none``). ``tabulator`` is the engine that makes the
    cells (default: DuckDB in this process, on ``connection`` if given). ``progress``
    hears of each stage (tabulation, rules, secondary suppression, audit) as it runs.
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    spec = spec if isinstance(spec, TableSpec) else load_spec(spec)
    spec = _with_method(spec, secondary)
    check_source(data)

    t = time.perf_counter()
    top_k = required_top_k(spec.rules)
    # the file's hash (for the report) is computed while DuckDB reads the same file:
    # hashlib releases the GIL, so a large file costs little extra wall time
    with ThreadPoolExecutor(max_workers=1) as pool, progress_stage(progress, "tabulate") as tell:
        hashing = pool.submit(_timed, describe_source, data)
        engine = tabulator if tabulator is not None else DuckDBTabulator(connection)
        tab = run_tabulator(engine, spec, data, hierarchies, top_k=top_k or default_top_k(spec))
        tell.outcome = f"{len(tab.cells):,} cells"
        timings["tabulate"] = time.perf_counter() - t
        source, timings["source"] = hashing.result()
    for stage, seconds in tab.timings.items():
        timings[f"tabulate.{stage}"] = float(seconds)
    hier = tuple(tab.hierarchies)

    t = time.perf_counter()
    with progress_stage(progress, "primary rules") as rules_stage:
        cells = apply_primary_rules(
            tab.cells, spec.rules, frequency=spec.is_frequency, weighted=spec.weight is not None
        )
        rules_stage.outcome = f"{int((cells[STATUS] == Status.PRIMARY.value).sum()):,} primary"
    timings["primary_rules"] = time.perf_counter() - t

    secondary_summary: dict[str, Any] = {}
    witnesses: dict[tuple[int, int], Any] = {}
    if spec.suppression.method != "none":
        t = time.perf_counter()
        with progress_stage(progress, "secondary suppression") as secondary_stage:
            cells, secondary_summary, witnesses = protect_secondary(
                cells,
                hier,
                spec.suppression,
                frequency=spec.is_frequency,
                dimensions=spec.dimension_names,
                progress=progress,
            )
            secondary_stage.outcome = _secondary_outcome(secondary_summary)
        timings["secondary"] = time.perf_counter() - t

    audit_summary: dict[str, Any] = {
        "run": False,
        "safe": False,
        "safe_to_release": False,
        "reason": "primary suppression only (--secondary none): primary cells can be "
        "recovered from the totals; protect with a secondary method before release",
    }
    if spec.suppression.method != "none":
        t = time.perf_counter()
        with progress_stage(progress, "audit") as audit_stage:
            audit = audit_result(cells, hier, spec, witnesses=witnesses, progress=progress)
            audit_stage.outcome = (
                f"{'safe' if audit.safe else 'UNSAFE'}, {audit.lp_count:,} attacker LPs"
            )
        timings["audit"] = time.perf_counter() - t
        # A pattern that fails the audit is never returned (nor written) as safe.
        audit.raise_if_unsafe()
        audit_summary = {"run": True, **audit.to_dict(), "safe_to_release": audit.safe}

    timings["total"] = time.perf_counter() - start
    report = build_report(
        spec,
        cells,
        hier,
        source=source,
        timings=timings,
        notes=tab.notes,
        secondary=secondary_summary,
    )
    report["audit"] = audit_summary
    report["engine"] = engine.name
    return TableResult(spec=spec, cells=cells, hierarchies=hier, report=report)


def run_tabulator(
    engine: Tabulator,
    spec: TableSpec,
    data: Any,
    hierarchies: Sequence[Hierarchy] | None,
    *,
    top_k: int,
) -> Tabulation:
    """Tabulate with ``engine``; hierarchies not given come from files, else from the data."""
    if isinstance(engine, DuckDBTabulator):
        # DuckDB finds flat dimensions' codes while it reads the data for the cells: one read.
        return engine.tabulate(spec, data, hierarchies, top_k=top_k)
    if hierarchies is None:
        files = [(d.name, d.hierarchy) for d in spec.dimensions if d.hierarchy is not None]
        if len(files) == len(spec.dimensions):
            hierarchies = tuple(Hierarchy.from_csv(name, path) for name, path in files)
        elif isinstance(engine, HierarchyLoader):
            hierarchies = engine.hierarchies(spec, data)
        else:
            hierarchies = load_hierarchies(spec, data)
    return engine.tabulate(spec, data, hierarchies, top_k=top_k)


# Beyond this many cells the audit proves each requirement without computing every
# hidden cell's exact interval (the verdict is the same; see docs/audit.md). At 20,000
# a 9,800-cell 4-D table spent 284 s of its 307 s in 3,754 exact-interval LPs.
EXACT_AUDIT_MAX_CELLS = 5_000


def audit_result(
    cells: pd.DataFrame,
    hierarchies: tuple[Hierarchy, ...],
    spec: TableSpec,
    *,
    witnesses: dict[tuple[int, int], Any] | None = None,
    progress: Progress | None = None,
) -> AuditResult:
    """The independent audit of the pattern: the attacker's LPs for every hidden cell.

    ``witnesses``: the method's attacker moves, which the audit verifies and uses as
    feasible points (a wrong one only costs LPs; see sdc/audit/witness.py).
    """
    return audit_table(
        cells,
        hierarchies,
        a_priori_percent=spec.suppression.a_priori_percent,
        frequency=spec.is_frequency,
        singleton=spec.suppression.singleton,
        dimensions=spec.dimension_names,
        intervals="exact" if len(cells) <= EXACT_AUDIT_MAX_CELLS else "check",
        witnesses=witnesses,
        progress=progress,
    )


def _secondary_outcome(summary: dict[str, Any]) -> str:
    """A few words on what secondary suppression did (the stage line)."""
    loss = summary.get("information_loss", {}).get("secondary", {})
    text = f"{summary.get('method', '?')}, {int(loss.get('cells', 0)):,} cells hidden"
    if summary.get("gap") is not None:
        text += f", proven gap {float(summary['gap']):.1%}"
    return text


def protect_secondary(
    cells: pd.DataFrame,
    hierarchies: tuple[Hierarchy, ...],
    suppression: SuppressionSpec,
    *,
    frequency: bool,
    dimensions: Sequence[str],
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], dict[tuple[int, int], Any]]:
    """Choose secondary (complementary) suppressions with ``sdc.secondary``.

    Returns (cells, summary, witnesses): the witnesses are the method's proofs, for the
    audit to verify.
    """
    result = suppression_methods.protect_secondary(
        cells,
        hierarchies,
        suppression,
        frequency=frequency,
        dimensions=dimensions,
        progress=progress,
    )
    return result.cells, result.to_dict(), dict(result.witnesses)


# --- linked tables: several tables from the same data, protected together -----------
#
# Tables that share cells (region x industry and region x size band share the region
# totals) must be protected as one system, or one table publishes what another hides.
# Each table is tabulated and its primary cells found on its own; then one
# secondary-suppression problem covers them all (a shared cell has one status
# everywhere), and one audit proves the joint pattern.


def linked_tables(
    specs: Sequence[TableSpec | str | Path],
    data: Any,
    *,
    secondary: str | None = None,
    tabulator: Tabulator | None = None,
    progress: Progress | None = None,
) -> list[TableResult]:
    """Protect every spec's table over ``data`` together; each result carries the joint audit."""
    loaded = [s if isinstance(s, TableSpec) else load_spec(s) for s in specs]
    if len(loaded) < 2:
        raise SpecError("linked protection needs at least two specs")
    _check_compatible(loaded)
    method = secondary or loaded[0].suppression.method
    suppression = replace(loaded[0].suppression, method=method)  # type: ignore[arg-type]
    primaries = [
        tables(s, data, secondary="none", tabulator=tabulator, progress=progress) for s in loaded
    ]
    if method == "none":
        return primaries
    frequency = loaded[0].is_frequency
    t = time.perf_counter()
    with progress_stage(progress, "secondary suppression (linked tables)"):
        joint = suppression_methods.protect_linked(
            [(r.cells, r.hierarchies) for r in primaries], suppression, frequency=frequency
        )
    seconds = time.perf_counter() - t
    protected = [(p.cells, r.hierarchies) for p, r in zip(joint.tables, primaries, strict=True)]
    t = time.perf_counter()
    n_cells = sum(len(c) for c, _ in protected)
    with progress_stage(progress, "audit (linked tables)") as audit_stage:
        audit = audit_linked(
            protected,
            a_priori_percent=suppression.a_priori_percent,
            frequency=frequency,
            singleton=suppression.singleton,
            intervals="exact" if n_cells <= EXACT_AUDIT_MAX_CELLS else "check",
        )
        audit_stage.outcome = "safe" if audit.safe else "UNSAFE"
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
    tabulator: Tabulator | None = None,
    progress: Progress | None = None,
) -> list[TableResult]:
    """Protect several tables of ``data``: those of the same measure together (linked)."""
    groups: dict[tuple[str | None, ...], list[int]] = {}
    for i, s in enumerate(specs):
        groups.setdefault(measure_key(s), []).append(i)
    results: dict[int, TableResult] = {}
    for members in groups.values():
        chosen = [specs[i] for i in members]
        if len(chosen) == 1:
            done = [
                tables(chosen[0], data, secondary=secondary, tabulator=tabulator, progress=progress)
            ]
        else:
            done = linked_tables(
                chosen, data, secondary=secondary, tabulator=tabulator, progress=progress
            )
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


def check_source(data: Any) -> None:
    """Raise a clear DataError when ``data`` is a path that is missing or of an unknown format."""
    if not isinstance(data, str | Path):
        return
    path = Path(data)
    if not path.is_file():
        raise DataError(
            f"data file not found: {path}",
            hint="give the path of a CSV or Parquet file with the spec's columns",
        )
    if path.suffix.lower() not in DATA_SUFFIXES:
        raise DataError(
            f"cannot tell the format of {path} from its suffix",
            hint=f"use one of {sorted(DATA_SUFFIXES)}",
        )


def describe_source(data: Any) -> dict[str, Any]:
    """What the data were: a file's path, format, size and SHA-256, or an object's type."""
    if isinstance(data, str | Path):
        check_source(data)
        path = Path(data)
        fmt = DATA_SUFFIXES[path.suffix.lower()]
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        return {
            "kind": "file",
            "path": str(path.resolve()),
            "format": fmt,
            "bytes": path.stat().st_size,
            "sha256": digest,
        }
    if isinstance(data, pd.DataFrame):
        return {"kind": "pandas.DataFrame", "columns": [str(c) for c in data.columns]}
    kind = f"{type(data).__module__}.{type(data).__qualname__}"
    return {"kind": kind}


def _timed(fn: Callable[[Any], T], arg: Any) -> tuple[T, float]:
    start = time.perf_counter()
    return fn(arg), time.perf_counter() - start


def _with_method(spec: TableSpec, secondary: str | None) -> TableSpec:
    if secondary is None:
        return spec
    if secondary not in SECONDARY_METHODS:
        raise SpecError(
            f"unknown secondary suppression method {secondary!r}",
            hint=f"use one of {', '.join(SECONDARY_METHODS)}",
        )
    return replace(spec, suppression=replace(spec.suppression, method=secondary))  # type: ignore[arg-type]
