"""The protection pipeline: microdata and specs in, protected tables and their reports out.

:func:`tables` protects one table: tabulate -> primary rules -> secondary suppression
(when asked for) -> the independent audit -> report; or, for the methods that change
values (cell key, rounding; ``sdc/protect_methods.py``), tabulate -> primary rules ->
perturb or round -> report. :func:`linked_tables` protects
several tables of the same data together, and :func:`protect_all` groups specs so that
tables sharing cells are linked. Nothing is written here; :meth:`TableResult.write`
does the I/O.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from fivesafes.errors import DataError, SpecError
from fivesafes.sdc import secondary as suppression_methods
from fivesafes.sdc.audit import AuditResult, audit_linked, audit_table
from fivesafes.sdc.cells import CONFIDENTIAL_SYMBOL, STATUS, VALUE, Status
from fivesafes.sdc.differencing import OutputTable
from fivesafes.sdc.formats.export import export_table
from fivesafes.sdc.formats.hierarchies import load_hierarchy
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.loss import loss_measures
from fivesafes.sdc.occupancy import Occupancy, filter_pairs, outputs_of
from fivesafes.sdc.outputs.report import build_report, count_by_status
from fivesafes.sdc.outputs.writers import write_outputs
from fivesafes.sdc.perturbation.keys import RecordKeySource
from fivesafes.sdc.pipeline_context import (
    costs,
    linked_with_published,
    population_of,
    published_section,
    result_population,
)
from fivesafes.sdc.population import Population, joined, restrict
from fivesafes.sdc.progress import Progress
from fivesafes.sdc.progress import stage as progress_stage
from fivesafes.sdc.protect_methods import (
    check_method,
    keyed_source,
    method_top_k,
    protect_by_method,
    with_protection,
)
from fivesafes.sdc.published_context import (
    NewTable,
    PublishedContext,
    carry_hidden,
    protect_with_published,
    releases_of_measure,
)
from fivesafes.sdc.rules import apply_primary_rules, required_top_k
from fivesafes.sdc.sparse import sparse_note
from fivesafes.sdc.spec import (
    SECONDARY_METHODS,
    DimensionSpec,
    SuppressionSpec,
    TableSpec,
    load_spec,
)
from fivesafes.sdc.tabulate import (
    DuckDBTabulator,
    HierarchyLoader,
    Tabulation,
    Tabulator,
    default_top_k,
    load_hierarchies,
)

T = TypeVar("T")
# a .tsv or .txt is delimited text as a .csv is: the reader finds the delimiter
DATA_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# delimited text may be compressed: DuckDB (and Spark) decompress it as they read, in
# memory, so no plaintext copy is ever written (Parquet compresses inside the file)
COMPRESSION_SUFFIXES = {".gz": "gzip"}
# every name a data file may have, as the errors list them
DATA_NAMES = (
    *DATA_SUFFIXES,
    *(s + c for c in COMPRESSION_SUFFIXES for s, f in DATA_SUFFIXES.items() if f == "csv"),
)


def data_format(path: Path) -> tuple[str, str | None] | None:
    """(format, compression) of a data file, from its name; None when it is not read."""
    suffix = path.suffix.lower()
    compression = COMPRESSION_SUFFIXES.get(suffix)
    if compression is not None:
        suffix = Path(path.stem).suffix.lower()
    fmt = DATA_SUFFIXES.get(suffix)
    if fmt is None or (compression is not None and fmt != "csv"):
        return None
    return fmt, compression


@dataclass(frozen=True)
class TableResult:
    """A protected table: the cells with their status, the hierarchies and the report.

    ``cells`` is CONFIDENTIAL (true values of hidden cells and each cell's largest
    contributions); for the table as the public would see it, use :meth:`published`.
    """

    spec: TableSpec
    cells: pd.DataFrame
    """Every cell with its true value and status, plus the rules' internal statistics.

    CONFIDENTIAL: besides the true value of every hidden cell, this holds each
    cell's largest contributions (``top1``, ``top2``, ...): the very values the rules
    protect. Keep it inside the restricted area; never publish or share it. What may
    be published is :meth:`published`.
    """
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

    def published(self, *, symbols: bool = False) -> pd.DataFrame:
        """The table as it would be published: one row per cell in hierarchy order.

        Columns: the dimensions' codes, ``value`` (NA where the cell is hidden, or the
        text ``[c]`` with ``symbols=True``) and ``status`` (``published`` or
        ``confidential``: primary and secondary cells look the same). No internal
        statistic and no hidden value is in it.
        """
        return published_view(self.cells, self.hierarchies, symbols=symbols)

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write cells.csv, report.json, table.csv and table.xlsx into ``out_dir``."""
        return write_outputs(self, Path(out_dir))

    def export(self, tool: str, out_dir: str | Path) -> dict[str, Path]:
        """Write the protected table as input for another tool (``argus`` or ``sdctable``).

        The files hold every cell's true value: they are as confidential as cells.csv.
        """
        return export_table(tool, self.name, self.cells, self.hierarchies, out_dir)


def tables(
    spec: TableSpec | str | Path,
    data: Any,
    *,
    secondary: str | None = None,
    hierarchies: Sequence[Hierarchy] | None = None,
    connection: Any = None,
    tabulator: Tabulator | None = None,
    progress: Progress | None = None,
    method: str | None = None,
    keys: RecordKeySource | None = None,
    published: Sequence[OutputTable] = (),
    population: Population | None = None,
    membership: Population | None = None,
) -> TableResult:
    """Tabulate ``data`` under ``spec``, flag primary cells, and return the result with its report.

    ``data`` is a CSV/Parquet path, a pandas DataFrame, an Arrow table or a DuckDB
    relation. ``secondary`` overrides the spec's suppression method
    (``auto|optimal|modular|fast|none``). ``tabulator`` is the engine that makes the
    cells (default: DuckDB in this process, on ``connection`` if given). ``progress``
    hears of each stage (tabulation, rules, secondary suppression, audit) as it runs.
    ``method`` overrides the spec's protection (``suppression|cellkey|random-rounding|
    controlled-rounding``); the keyed ones take ``keys`` (KeyMaterial or StoredKeys, see
    sdc/protect_methods.py). ``published``: releases of the same source (their published
    cells and their hidden ones, as :class:`OutputTable`): the table is protected together
    with them (sdc/published_context.py), so that no cell hidden there or here can be
    recovered from both; the report's ``published`` section names them. ``population``:
    ``data`` hold only part of the source's units (sdc/population.py): the differencing
    model then splits the units by the filter, and the report records it. ``membership``:
    ``data`` are a dataset of a family (release/families.py) and ``published`` holds the
    family's releases, each with its membership: the new table is seen with its own (one
    more filter dimension, as the differencing check at submission sees it).
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    spec = spec if isinstance(spec, TableSpec) else load_spec(spec)
    spec = with_protection(spec, method)
    changes_values = spec.protection != "suppression"
    if not changes_values:
        spec = _with_method(spec, secondary)
    elif published:
        raise SpecError(
            f"spec {spec.name!r} asks for {spec.protection}; protection together with "
            "published releases works by suppression",
            hint="protect it by suppression (the releases' hidden cells stay hidden)",
        )
    check_source(data)
    engine = tabulator if tabulator is not None else DuckDBTabulator(connection)
    key_info: dict[str, Any] = {}
    tab_data = data
    if changes_values:
        engine, tab_data, key_info = keyed_source(spec, data, engine, keys, timings)

    # the data hold every unit of the source unless the caller says they are a part
    complete = population is None and membership is None
    population = population or population_of(spec, engine, tab_data)
    # the table as the differencing model sees it: its filter, and its family's membership
    seen = joined(population, membership)
    t = time.perf_counter()
    top_k = max(required_top_k(spec.rules) or default_top_k(spec), method_top_k(spec))
    # the file's hash (for the report) is computed while DuckDB reads the same file:
    # hashlib releases the GIL, so a large file costs little extra wall time
    with ThreadPoolExecutor(max_workers=1) as pool, progress_stage(progress, "tabulate") as tell:
        hashing = pool.submit(_timed, describe_source, data)
        tab = run_tabulator(engine, spec, tab_data, hierarchies, top_k=top_k)
        sparse = sparse_note(tab.cells, tab.hierarchies)
        # said as soon as the cells are known: whoever meant another table can stop here
        tell.outcome = f"{len(tab.cells):,} cells" + (f"; {sparse}" if sparse else "")
        tab_notes = (*tab.notes, *([sparse] if sparse else []))
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

    if changes_values:
        t = time.perf_counter()
        with progress_stage(progress, f"protect ({spec.protection})") as method_stage:
            cells, section, audit_summary = protect_by_method(spec, cells, hier, engine=engine.name)
            method_stage.outcome = "safe" if audit_summary.get("safe") else "see the report"
        timings["protect"] = time.perf_counter() - t
        section["keys"] = key_info
        timings["total"] = time.perf_counter() - start
        notes = (*tab_notes, *section["notes"])
        report = build_report(spec, cells, hier, source=source, timings=timings, notes=notes)
        report["protection"] = section
    else:
        cells, carried = carry_hidden(cells, hier, published, seen)
        cells, secondary_summary, audit_summary = _suppress(cells, hier, spec, timings, progress)
        context: PublishedContext | None = None
        if published and spec.suppression.method != "none":
            t = time.perf_counter()
            with progress_stage(progress, "protect with published releases") as with_stage:
                cost = costs(cells, hier, spec)
                new = NewTable(spec.name, cells, hier, cost, seen)
                occupancy = _occupancy(engine, spec, data, published, seen, complete)
                context = protect_with_published([new], published, occupancy)
                with_stage.outcome = f"{context.hidden_more[0]:,} more cells hidden"
            timings["published"] = time.perf_counter() - t
            if context.hidden_more[0]:
                cells = context.cells[0]
                audit_summary = _audit_again(cells, hier, spec, timings, progress)
        timings["total"] = time.perf_counter() - start
        report = build_report(
            spec,
            cells,
            hier,
            source=source,
            timings=timings,
            notes=tab_notes,
            secondary=secondary_summary,
        )
        if published:
            report["published"] = published_section(published, carried, context)
    if population is not None:
        report["population"] = population.to_dict()
    if membership is not None:  # what the family's releases see of the table
        report["membership"] = membership.to_dict()
    report["audit"] = audit_summary
    report["loss"] = loss_measures(cells, hier, spec.dimension_names, frequency=spec.is_frequency)
    report["engine"] = engine.name
    return TableResult(spec=spec, cells=cells, hierarchies=hier, report=report)


def _occupancy(
    engine: Tabulator,
    spec: TableSpec,
    data: Any,
    published: Sequence[OutputTable],
    seen: Population | None,
    complete: bool,
) -> Occupancy | None:
    """Which value pairs of the filter columns and the dimensions hold units, from the data
    (sdc/occupancy.py): the attacker knows the empty ones (country follows from region).

    Only from data that hold every unit (a part would make true combinations look empty)
    and on the DuckDB engine, which reads the data with the filter aside."""
    if not complete or not isinstance(engine, DuckDBTabulator):
        return None
    filters = tuple(seen.where) if seen is not None else ()
    pairs = filter_pairs([(tuple(spec.dimension_names), filters), *outputs_of(published)])
    return engine.occupancy(spec, data, pairs) if pairs else None


def _suppress(
    cells: pd.DataFrame,
    hier: tuple[Hierarchy, ...],
    spec: TableSpec,
    timings: dict[str, float],
    progress: Progress | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Secondary suppression (unless ``none``) and the audit: (cells, secondary, audit)."""
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
    return cells, secondary_summary, audit_summary


def _audit_again(
    cells: pd.DataFrame,
    hier: tuple[Hierarchy, ...],
    spec: TableSpec,
    timings: dict[str, float],
    progress: Progress | None,
) -> dict[str, Any]:
    """The audit of the pattern with the cells hidden for the releases' sake.

    Hiding more cannot narrow an interval, but the report describes the pattern returned,
    so it is audited as returned."""
    t = time.perf_counter()
    with progress_stage(progress, "audit (with the cells hidden for the releases)") as stage:
        audit = audit_result(cells, hier, spec, progress=progress)
        stage.outcome = f"{'safe' if audit.safe else 'UNSAFE'}, {audit.lp_count:,} attacker LPs"
    timings["audit_published"] = time.perf_counter() - t
    audit.raise_if_unsafe()
    return {"run": True, **audit.to_dict(), "safe_to_release": audit.safe}


def published_view(
    cells: pd.DataFrame, hierarchies: Sequence[Hierarchy], *, symbols: bool = False
) -> pd.DataFrame:
    """Cells in hierarchy order; hidden values NA (or ``[c]``); status published/confidential."""
    dims = [h.name for h in hierarchies]
    order = pd.MultiIndex.from_product([list(h.codes) for h in hierarchies], names=dims)
    keyed = cells.assign(**{d: cells[d].astype(str) for d in dims}).set_index(dims)
    # one dimension gives a flat index: match it with a flat one
    keyed = keyed.reindex(order if len(dims) > 1 else order.get_level_values(0))
    hidden = keyed[STATUS].astype(str) != Status.SAFE.value  # a missing cell is hidden too
    values = keyed[VALUE].astype("Float64").mask(hidden.to_numpy())
    out = pd.DataFrame(index=order).reset_index()
    if symbols:
        out[VALUE] = [CONFIDENTIAL_SYMBOL if h else v for v, h in zip(values, hidden, strict=True)]
    else:
        out[VALUE] = values.to_numpy()
    out[STATUS] = ["confidential" if h else "published" for h in hidden]
    return out


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
        files = [(d, d.hierarchy) for d in spec.dimensions if d.hierarchy is not None]
        if len(files) == len(spec.dimensions):
            # any format a spec may name: csv, tau-Argus .hrc, sdcHierarchies level,name
            hierarchies = tuple(
                load_hierarchy(d.name, path, total_code=d.total_code) for d, path in files
            )
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
    published: Sequence[OutputTable] = (),
    membership: Population | None = None,
) -> list[TableResult]:
    """Protect every spec's table over ``data`` together; each result carries the joint audit.

    ``published`` and ``membership``: releases of the same source (or family), protected
    with as in :func:`tables`."""
    loaded = [s if isinstance(s, TableSpec) else load_spec(s) for s in specs]
    if len(loaded) < 2:
        raise SpecError("linked protection needs at least two specs")
    _check_compatible(loaded)
    changing = sorted({s.protection for s in loaded} - {"suppression"})
    if changing:
        raise SpecError(
            f"linked_tables protects by suppression; these tables ask for {', '.join(changing)}",
            hint="use protect_all, which protects tables by the other methods one at a time",
        )
    method = secondary or loaded[0].suppression.method
    suppression = replace(loaded[0].suppression, method=method)  # type: ignore[arg-type]
    primaries = [
        tables(
            s,
            data,
            secondary="none",
            tabulator=tabulator,
            progress=progress,
            published=published,
            membership=membership,
        )
        for s in loaded
    ]
    if method == "none":
        return primaries
    frequency = loaded[0].is_frequency
    t = time.perf_counter()
    with progress_stage(progress, "secondary suppression (linked tables)") as linked_stage:
        joint = suppression_methods.protect_linked(
            [(r.cells, r.hierarchies) for r in primaries],
            suppression,
            frequency=frequency,
            progress=progress,
        )
        hidden = sum(int((t.cells[STATUS] == Status.SECONDARY.value).sum()) for t in joint.tables)
        linked_stage.outcome = f"{joint.method}, {hidden:,} cells hidden in all"
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
            progress=progress,
        )
        audit_stage.outcome = "safe" if audit.safe else "UNSAFE"
    audit_seconds = time.perf_counter() - t
    audit.raise_if_unsafe()  # an unsafe joint pattern is never returned
    parts = [p.cells for p in joint.tables]
    context: PublishedContext | None = None
    if published:
        parts, context, audit = linked_with_published(
            loaded,
            primaries,
            parts,
            published,
            suppression,
            audit,
            progress,
            EXACT_AUDIT_MAX_CELLS,
            membership,
        )
    names = [s.name for s in loaded]
    out = []
    for result, part, cells in zip(primaries, joint.tables, parts, strict=True):
        report = dict(result.report)
        if published:
            carried = int(result.report.get("published", {}).get("carried_hidden", 0))
            report["published"] = published_section(published, carried, context)
        report["suppression"] = {**report["suppression"], "method": method, "linked_with": names}
        report["secondary"] = {**part.to_dict(), "linked": joint.to_dict()}
        # the counts and the loss of the pattern returned, not of the primaries alone
        report["cells"] = {**report["cells"], "by_status": count_by_status(cells)}
        report["loss"] = loss_measures(
            cells,
            result.hierarchies,
            result.spec.dimension_names,
            frequency=result.spec.is_frequency,
        )
        report["audit"] = {"run": True, "linked": True, **audit.to_dict(), "safe_to_release": True}
        report["timings"] = {
            **report["timings"],
            "secondary_linked": seconds,
            "audit_linked": audit_seconds,
        }
        spec = replace(result.spec, suppression=suppression)
        out.append(replace(result, spec=spec, cells=cells, report=report))
    return out


def measure_key(spec: TableSpec) -> tuple[Any, ...]:
    """What a table measures, of which units; only tables with the same key share cells."""
    return (spec.response, spec.contributor, spec.holding, spec.weight, spec.where)


def protect_all(
    specs: Sequence[TableSpec],
    data: Any,
    *,
    secondary: str | None = None,
    tabulator: Tabulator | None = None,
    progress: Progress | None = None,
    method: str | None = None,
    keys: RecordKeySource | None = None,
    published: Mapping[str, Sequence[OutputTable]] | None = None,
    membership: Population | None = None,
) -> list[TableResult]:
    """Protect several tables of ``data``: those of the same measure together (linked).

    ``published``: per measure (the response, or ``count`` for a count table), the
    releases of that source to protect with (see :func:`tables`). Tables of one measure
    protected in different groups are protected with each other too, the earlier
    groups' tables taken as published, since they will be submitted together.
    ``membership``: ``data`` are a dataset of a family whose releases ``published`` holds
    with their membership (release/families.py; see :func:`tables`).

    Methods that change values protect each table on its own: the cell key method is
    key-consistent (a shared cell gets the same value in every table) and hides nothing;
    rounding checks (and may hide) cells table by table, so linked tables are refused
    with random or controlled rounding.
    """
    if method is not None:
        check_method(method)
        specs = [replace(s, protection=method) for s in specs]  # type: ignore[arg-type]
    groups: dict[tuple[str | None, ...], list[int]] = {}
    for i, s in enumerate(specs):
        groups.setdefault(measure_key(s), []).append(i)
    results: dict[int, TableResult] = {}
    context: dict[str, list[OutputTable]] = {}
    for members in groups.values():
        chosen = [specs[i] for i in members]
        measure = chosen[0].response or "count"
        releases = (*releases_of_measure(published, measure), *context.get(measure, ()))
        chosen_methods: set[str] = {s.protection for s in chosen}
        if chosen_methods != {"suppression"}:
            _check_linked_methods(chosen, chosen_methods)
            done = [
                tables(
                    s, data, secondary=secondary, tabulator=tabulator, keys=keys, progress=progress
                )
                for s in chosen
            ]
        elif len(chosen) == 1 or not _same_dimensions(chosen):
            # one table, or tables that group a shared dimension differently (they cannot
            # be one system of relations): one at a time, each protected with the releases
            # and the tables before it, which will be published with it
            done = []
            for s in chosen:
                before = tuple(_as_output(r, membership) for r in done)
                done.append(
                    tables(
                        s,
                        data,
                        secondary=secondary,
                        tabulator=tabulator,
                        progress=progress,
                        published=(*releases, *before),
                        membership=membership,
                    )
                )
        else:
            done = linked_tables(
                chosen,
                data,
                secondary=secondary,
                tabulator=tabulator,
                progress=progress,
                published=releases,
                membership=membership,
            )
        if len(groups) > 1 and chosen_methods == {"suppression"}:
            context.setdefault(measure, []).extend(_as_output(r, membership) for r in done)
        results.update(zip(members, done, strict=True))
    return [results[i] for i in range(len(specs))]


def _as_output(result: TableResult, membership: Population | None = None) -> OutputTable:
    """A table of this run as the later ones see it: published with them (a table of part
    of the units with its filter, a family's dataset with its membership)."""
    table = OutputTable(f"this run: {result.name}", result.hierarchies, result.cells)
    return restrict(table, joined(result_population(result), membership))


def _same_dimensions(specs: Sequence[TableSpec]) -> bool:
    """Whether every dimension the specs share has the same hierarchy file and total code."""
    seen: dict[str, DimensionSpec] = {}
    for spec in specs:
        for d in spec.dimensions:
            if seen.setdefault(d.name, d) != d:
                return False
    return True


def _check_linked_methods(chosen: Sequence[TableSpec], methods: set[str]) -> None:
    if len(chosen) > 1 and len(methods) > 1:
        raise SpecError(
            f"tables {[s.name for s in chosen]} share cells but are protected by "
            f"different methods ({', '.join(sorted(methods))}): a cell one "
            "hides or perturbs, another could publish otherwise",
            hint="give linked tables the same [table] protection (or use --method)",
        )
    if len(chosen) > 1 and "random-rounding" in methods:
        raise SpecError(
            f"tables {[s.name for s in chosen]} share cells, and random rounding cannot keep "
            "them consistent: its protection check bounds each table on its own (not through "
            "the relations the tables add together), and a cell it must hide in one table "
            "would be published, rounded, in another",
            hint="protect linked tables by the cell key method (the same cell gets the same "
            "value everywhere and nothing is hidden) or by suppression (protected together); "
            "or round one table at a time and let release submit's differencing check "
            "compare them",
        )
    if len(chosen) > 1 and "controlled-rounding" in methods:
        raise SpecError(
            f"tables {[s.name for s in chosen]} share cells, and controlled rounding "
            "rounds each table on its own: a shared cell could be published twice, "
            "differently",
            hint="protect linked tables by suppression or cellkey, or give them one at a time",
        )


def _check_compatible(specs: Sequence[TableSpec]) -> None:
    first = specs[0]
    for s in specs[1:]:
        if measure_key(s) != measure_key(first):
            raise SpecError(
                f"tables {first.name!r} and {s.name!r} measure different things "
                "(response, contributor, holding, weight or [table] where differ), so they "
                "share no cells",
                hint="link only tables of the same measure from the same data; "
                "protect the others one at a time",
            )


def check_source(data: Any) -> None:
    """Raise a clear DataError when ``data`` is a path that is missing or of an unknown format."""
    if not isinstance(data, str | Path):
        return
    path = Path(data)
    if path.is_dir():
        raise DataError(
            f"data file {path} is a folder",
            hint="give the path of a CSV or Parquet file with the spec's columns",
            value_free=True,
        )
    if not path.is_file():
        raise DataError(
            f"data file not found: {path}",
            hint="give the path of a CSV or Parquet file with the spec's columns",
            value_free=True,
        )
    suffix = path.suffix.lower()
    if data_format(path) is None:
        spreadsheet = suffix in (".xlsx", ".xls", ".xlsm", ".ods")
        raise DataError(
            f"cannot tell the format of {path} from its suffix"
            + (
                ": a spreadsheet is not read (its cells may hold formulas, dates or hidden rows)"
                if spreadsheet
                else ""
            ),
            hint=(
                "save the sheet as CSV UTF-8 (Excel: File > Save As > CSV UTF-8), then "
                "give that file"
                if spreadsheet
                else f"use one of {sorted(DATA_NAMES)}"
            ),
            value_free=True,
        )


def describe_source(data: Any) -> dict[str, Any]:
    """What the data were: a file's path, format, size and SHA-256, or an object's type."""
    if isinstance(data, str | Path):
        check_source(data)
        path = Path(data)
        fmt, compression = data_format(path) or ("", None)  # (check_source refused None)
        with path.open("rb") as fh:  # the file as given: its compressed bytes, if compressed
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        return {
            "kind": "file",
            "path": str(path.resolve()),
            "format": fmt,
            **({"compression": compression} if compression else {}),
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
