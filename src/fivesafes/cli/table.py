"""``fivesafes table``: protect statistical tables declared in TOML specs."""

from __future__ import annotations

import ctypes
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from fivesafes.cli.output_folder import output_folder
from fivesafes.cli.progress import progress_on_stderr
from fivesafes.engine import ENGINES, get_tabulator
from fivesafes.errors import Interrupted, SpecError, ValidationError
from fivesafes.sdc import (
    KEYED_METHODS,
    PROTECTION_METHODS,
    ROUNDING_METHODS,
    SECONDARY_METHODS,
    TableResult,
    TableSpec,
    compare_methods,
    load_key_material,
    load_spec,
    protect_all,
    write_comparison,
)

CHANGING_METHODS = ("cellkey", *ROUNDING_METHODS)


@click.group()
def table() -> None:
    """Protect statistical tables (disclosure control of cells and subtotals).

    \b
    Examples (start here):
      fivesafes table protect --help
      fivesafes table protect examples/turnover.toml --data examples/survey.csv
    """


@table.command("protect", short_help="Protect tables: flag disclosive cells, write the outputs.")
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    help="The microdata: a .csv (.tsv, .txt; each may be gzipped: .csv.gz) or .parquet file "
    "with the spec's columns.",
)
@click.option(
    "--dataset",
    "dataset_ref",
    metavar="AREA/NAME",
    help="Instead of --data: a dataset stored encrypted in a restricted area of the "
    "workspace (FIVESAFES_HOME), opened through the access decision (audited).",
)
@click.option(
    "--purpose",
    default="statistical",
    show_default=True,
    help="With --dataset: the purpose of this use (only statistical purposes are allowed).",
)
@click.option(
    "--project", "project_ref", help="With --dataset: the approved project, for researchers."
)
@click.option(
    "--ignore-published",
    is_flag=True,
    help="With --dataset: protect the tables alone, not together with the releases already "
    "published from their source, or from the dataset's family (its parent and the "
    "datasets derived from it, dataset add --derived-from), the default. Nothing is "
    "weakened: release submit's differencing check still compares the table with them "
    "and blocks it if it would reveal a cell they hide.",
)
@click.option(
    "--out",
    default=None,
    type=click.Path(path_type=Path, file_okay=False),
    help="With --data: folder for the outputs, written all at once [default: out]. A new "
    "folder, or an earlier run's (replaced whole); a folder of other files is refused. "
    "Refused with --dataset: those outputs stay encrypted in the area.",
)
@click.option(
    "--name",
    "output_name",
    help="With --dataset: the stored output's name [default: t-<UTC time>; with several "
    "specs, NAME-<table name>].",
)
@click.option(
    "--secondary",
    type=click.Choice(SECONDARY_METHODS),
    default=None,
    help="Secondary suppression, overriding the spec's [suppression] method: optimal "
    "(fewest hidden value, slowest), modular (per sub-table), fast (greedy with LP "
    "repair; hypercube moves from 50,000 cells), auto (chooses by size), none (primary "
    "suppression only: not safe to release) [default: the spec's [suppression] method, "
    "else auto].",
)
@click.option(
    "--method",
    type=click.Choice(PROTECTION_METHODS),
    default=None,
    help="Protection method, overriding the spec's [table] protection: suppression (hide "
    "cells), cellkey (perturb every cell from a ptable, [perturbation]), random-rounding or "
    "controlled-rounding (to a multiple of [rounding] base). See docs/perturbation.md "
    "[default: the spec's [table] protection, else suppression].",
)
@click.option(
    "--key-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="With --data: the secret (mode 0600, at least 16 bytes) the record keys of "
    "cellkey and random-rounding come from; else $FIVESAFES_CELLKEY_SECRET (hex). Without "
    "one, nothing is perturbed or published.",
)
@click.option(
    "--compare",
    is_flag=True,
    help="With --data: also protect the table by every method and write the same loss "
    "measures side by side (comparison.json/.csv) with a plot by cell size (.svg/.png).",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="The tabulation engine: duckdb (embedded, this process) or spark (needs "
    "`pip install fivesafes[spark]`) [default: with --dataset, the workspace's "
    "[engine] name; with --data, duckdb].",
)
@click.option(
    "--engine-master",
    metavar="URL",
    default=None,
    help="With --engine spark: Spark's master URL [default: the workspace's [engine] master "
    "with --dataset, else local[*]].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--quiet",
    is_flag=True,
    help="No progress on stderr (by default every step that takes a second or more shows a "
    "bar while it runs and a line when it ends).",
)
def protect(
    specs: tuple[Path, ...],
    data: Path | None,
    dataset_ref: str | None,
    purpose: str,
    project_ref: str | None,
    ignore_published: bool,
    out: Path | None,
    output_name: str | None,
    secondary: str | None,
    method: str | None,
    key_file: Path | None,
    compare: bool,
    engine: str | None,
    engine_master: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Tabulate DATA for each SPEC, find the disclosive cells and write the outputs.

    Every cell, subtotal and total is checked against the primary rules of the
    spec ([rules]: threshold, dominance, p%, pq, frequency threshold, zeros);
    a sensitive cell is marked primary, with the rules that flagged it and the
    protection it needs. Then secondary suppression (when available) hides
    enough other cells that the primary ones cannot be worked out from totals.

    \b
    Examples:
      fivesafes table protect examples/turnover.toml \\
          --data examples/survey.csv --out out
      fivesafes table show out                # the result, hidden cells [c]
      fivesafes table protect examples/turnover.toml examples/enterprises.toml \\
          --data examples/survey.csv --out out --json    # two tables; JSON summary
      fivesafes table protect examples/turnover.toml \\
          --data examples/survey.csv --out draft --secondary none  # never releasable
      fivesafes table protect examples/turnover.toml --dataset business/survey \\
          --name turnover-2026

    \b
    Several SPECs of the same measure (response, contributor, weight) over the
    same data are linked tables: they share cells (e.g. region x industry and
    region x size band share the region totals), so they are protected
    together, one status per shared cell, and audited together. Specs of other
    measures share no cells and are protected one at a time.

    \b
    Outputs, in OUT (or OUT/<table name>/ when several specs are given):
      cells.csv    one row per cell, subtotals included: codes, records,
                   contributors, value, status (safe|primary|secondary),
                   rule, lower_protection, upper_protection; a text field
                   that a spreadsheet would run as a formula (=, +, -, @,
                   tab, CR first; not a number) gets a leading ' (read
                   back exactly by fivesafes, as report.json says)
      report.json  the spec and its SHA-256, the data file and its SHA-256,
                   every rule parameter in force, counts per status and
                   rule, timings, notes, how cells.csv is written
      table.csv    the table as people read it: hierarchy indented, hidden
                   cells shown as [c], notes in a '#' header
      table.xlsx   the same as a spreadsheet, with a Notes sheet

    cells.csv and report.json describe confidential values: keep them inside
    the restricted area. Only table.csv/table.xlsx are meant for release, and
    only after secondary suppression and output checking.

    \b
    Exit status: 0 written; 2 bad input (spec, data, hierarchy, --out);
    3 the table cannot be protected, or its audit failed; 4 no such dataset;
    6 access denied (--dataset); 7 a key missing or wrong (--key-file);
    130 interrupted (Ctrl-C). Nothing is written unless it is 0. With --json,
    stdout holds one JSON document either way: the summary or {"error": ...}.

    \b
    With --dataset nothing is written in plain text: each protected table
    (cells, report, spec, hierarchies) is stored encrypted as an analysis
    output of the area, with its provenance (dataset, measure, spec hash, who)
    registered and audited. Each table is protected together with every release
    already published from its source (their published cells are known, the
    cells they hide stay protected), so that it passes release submit's
    differencing check; for a dataset of a family (dataset add --derived-from),
    with the releases of the same measure of the parent and of every derived
    dataset, the units split by their membership as the check splits them.
    --ignore-published protects it alone. The command
    prints the output's name and counts, never a cell's value; submit it with
      fivesafes release submit --output AREA/NAME --purpose ...
    """
    if (data is None) == (dataset_ref is None):
        raise SpecError(
            "give the microdata with exactly one of --data FILE or --dataset AREA/NAME",
            hint="--data reads a file you hold; --dataset opens an encrypted dataset of an area",
        )
    if dataset_ref is not None and out is not None:
        raise ValidationError(
            "--out is refused with --dataset: a protected table of an area's dataset holds "
            "every cell's true value and stays in the area, encrypted",
            hint="leave out --out; the table is stored as an output of the area (name it with "
            "--name) and leaves only through: fivesafes release submit --output AREA/NAME",
        )
    if data is not None and ignore_published:
        raise ValidationError(
            "--ignore-published needs --dataset: only a stored dataset's releases are known",
            hint="drop --ignore-published",
        )
    if data is not None and output_name is not None:
        raise ValidationError("--name names a stored output: it needs --dataset", hint="use --out")
    loaded = [load_spec(s) for s in specs]  # every spec valid before any work starts
    names = [s.name for s in loaded]
    if len(loaded) > 1 and len(set(names)) != len(names):
        raise SpecError(
            f"two specs share a table name: {names}",
            hint="give each [table] a distinct name; outputs go to OUT/<table name>/",
        )
    methods = [method or s.protection for s in loaded]
    if dataset_ref is not None and (compare or key_file is not None):
        raise ValidationError(
            "--key-file and --compare are refused with --dataset: a stored dataset's record "
            "keys were drawn at ingest and are used as they are, never keys from outside",
            hint="drop --key-file; --method cellkey|random-rounding|controlled-rounding works "
            "with --dataset; compare methods on a file you hold with --data --compare",
        )
    if engine_master is not None and engine not in (None, "spark"):
        raise ValidationError(
            "--engine-master is Spark's master URL: it needs --engine spark",
            hint="drop --engine-master, or add --engine spark",
        )
    if dataset_ref is not None:
        stored = _protect_dataset(
            dataset_ref,
            loaded,
            purpose,
            project_ref,
            secondary,
            output_name,
            (engine, engine_master),
            quiet,
            with_releases=not ignore_published,
            method=method,
        )
        if as_json:
            click.echo(json.dumps({"tables": stored}, indent=2))
        else:
            click.echo("\n".join(render_stored(s) for s in stored))
        return
    out = out or Path("out")
    keys = _key_material(key_file, methods, compare)
    run = _Run(secondary, method, keys, compare, (engine, engine_master), quiet)
    try:
        summaries = _protect_files(loaded, data, out, run)
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted (Ctrl-C): nothing was written, --out {out} is as it was",
            hint="run the command again",
        ) from None
    if as_json:
        click.echo(json.dumps({"tables": summaries}, indent=2))
        return
    for s in summaries:
        click.echo(render(s))


@dataclass(frozen=True)
class _Run:
    """How ``table protect --data`` runs: the command line's choices."""

    secondary: str | None
    method: str | None
    keys: Any
    compare: bool
    engine: tuple[str | None, str | None]
    quiet: bool


def _protect_files(
    loaded: list[TableSpec], source: Any, out: Path, run: _Run
) -> list[dict[str, Any]]:
    """Protect every table, write them all into ``out`` at once; their summaries."""
    # the outputs go to a staging folder, moved into place only once every file of every
    # table is written: a failure or Ctrl-C leaves --out as it was (cli/output_folder.py)
    with output_folder(out) as staging:
        with native_stdout_to_stderr(), progress_on_stderr(run.quiet) as progress:
            tabulator = get_tabulator(run.engine[0] or "duckdb", master=run.engine[1])
            # tables of the same measure from the same data share cells: protected together
            results = protect_all(
                loaded,
                source,
                secondary=run.secondary,
                tabulator=tabulator,
                method=run.method,
                keys=run.keys,
                progress=progress,
            )
            comparisons = [
                compare_methods(
                    spec, source, keys=run.keys, secondary=run.secondary, tabulator=tabulator
                )[0]
                if run.compare
                else None
                for spec in loaded
            ]
        summaries = []
        for result, comparison in zip(results, comparisons, strict=True):
            sub = Path(result.name) if len(results) > 1 else Path()
            files = result.write(staging / sub)
            if comparison is not None:
                files.update(write_comparison(comparison, staging / sub))
            placed = {name: out / sub / path.name for name, path in files.items()}
            summaries.append(summary(result, placed, comparison))
    return summaries


def _key_material(key_file: Path | None, methods: list[str], compare: bool) -> Any:
    """The record keys' secret when a method needs it (KeyProviderError when missing)."""
    if key_file is None and not compare and not any(m in KEYED_METHODS for m in methods):
        return None
    return load_key_material(key_file)


def _protect_dataset(
    ref: str,
    specs: list[TableSpec],
    purpose: str,
    project_ref: str | None,
    secondary: str | None,
    name: str | None,
    engine: tuple[str | None, str | None],
    quiet: bool,
    *,
    with_releases: bool = True,
    method: str | None = None,
) -> list[dict[str, Any]]:
    """Protect the tables of AREA/NAME through the audited read path; stored in the area."""
    from fivesafes.cli.acting import ask_passphrase, call, opened, server
    from fivesafes.server.operations_tables import TableProtect, protect, spec_text

    name_, master = engine
    params = TableProtect(
        dataset=ref,
        specs=[spec_text(s) for s in specs],
        purpose=purpose,
        project=project_ref,
        secondary=secondary,
        name=name,
        engine=name_,
        engine_master=master,
        with_releases=with_releases,
        method=method,
    )
    if server() is not None:
        return list(call("table.protect", **params.model_dump()))
    # in process: the same operation, with its progress on this terminal
    with opened() as (app, login), native_stdout_to_stderr(), progress_on_stderr(quiet) as bar:
        app.ask_passphrase = ask_passphrase
        return list(protect(app, login, params, progress=bar))


def _status_lines(s: dict[str, Any]) -> list[str]:
    """The primary and secondary counts of a summary (shared by both renderings)."""
    status = s["by_status"]
    by_rule = ", ".join(f"{k} {v}" for k, v in s["by_rule"].items()) or "no rules"
    if s["secondary"] in CHANGING_METHODS:
        # every flagged cell is published changed, not hidden (rounding may hide a few)
        return [
            f"  protection: {s['secondary']} (values changed, not hidden); cells the rules "
            f"flag: {by_rule}",
            f"  hidden: {status.get('primary', 0) + status.get('secondary', 0):,}",
        ]
    return [
        f"  primary: {status.get('primary', 0):,} ({by_rule})",
        f"  secondary: {status.get('secondary', 0):,} (method: {s['secondary']})",
    ]


def render_stored(s: dict[str, Any]) -> str:
    """A stored table's summary: counts, method, audit and where it is; never a value."""
    rows = f"{s['rows']:,}" if s["rows"] is not None else "?"
    lines = [
        f"{s['table']}: {s['cells']:,} cells from {rows} rows of {s['source']}",
        *_status_lines(s),
        f"  safe: {s['by_status'].get('safe', 0):,}; audit: {s['audit']}",
        _releases_line(s),
        *([_population_line(s["population"])] if s.get("population") else []),
        f"  stored encrypted as output {s['output']} (id {s['object_id']})",
        f"  submit it: fivesafes release submit --output {s['output']} --purpose ...",
    ]
    lines += [f"  note: {n}" for n in s["notes"]]
    return "\n".join(lines)


def _population_line(where: dict[str, list[str]]) -> str:
    """The units a table covers ([table] where), in words."""
    kept = "; ".join(f"{column} in {', '.join(values)}" for column, values in where.items())
    return f"  population: only units with {kept}"


def _releases_line(s: dict[str, Any]) -> str:
    """Which published releases the table was protected with (or that it was not)."""
    if not s.get("with_releases", True):
        return (
            "  published releases: not taken into account (--ignore-published); "
            "release submit's differencing check still compares it with them"
        )
    releases = s.get("published_releases", [])
    family = "".join(
        f" of its family ({column}: {', '.join(kept)})"
        for column, kept in (s.get("membership") or {}).items()
    )
    if not releases:
        return f"  published releases: none of this source{' or its family' if family else ''} yet"
    return (
        f"  protected together with {len(releases)} published release(s){family}: "
        f"{', '.join(releases)} ({s.get('hidden_for_releases', 0):,} cell(s) hidden for them)"
    )


@contextmanager
def native_stdout_to_stderr() -> Iterator[None]:
    """Route C-level writes to stdout (solver banners) to stderr, so stdout stays ours."""
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ else -1
        err = sys.__stderr__.fileno() if sys.__stderr__ else -1
    except (OSError, ValueError):
        fd = err = -1
    try:
        libc = ctypes.CDLL(None)  # the C library already loaded (POSIX)
    except (OSError, TypeError):
        fd = -1
    if fd < 0 or err < 0:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    os.dup2(err, fd)
    try:
        yield
    finally:
        libc.fflush(None)  # C stdio buffers must drain before stdout is restored
        os.dup2(saved, fd)
        os.close(saved)


def summary(result: TableResult, files: dict[str, Path], comparison: Any = None) -> dict[str, Any]:
    """The run's summary as plain data (what ``--json`` prints)."""
    report = result.report
    extra: dict[str, Any] = {}
    if "protection" in report:
        extra["method"] = report["protection"]["method"]
    if comparison is not None:
        extra["comparison"] = list(comparison.rows)
    if "population" in report:
        extra["population"] = report["population"]["where"]
    if "published" in report:  # tables of this run protected with each other
        extra["protected_with"] = list(report["published"].get("releases", []))
    return {
        **extra,
        "table": result.name,
        "cells": report["cells"]["total"],
        "by_status": report["cells"]["by_status"],
        "by_rule": report["cells"]["by_rule"],
        "secondary": report["secondary"].get("method") or report["suppression"]["method"],
        "seconds": report["timings"]["total"],
        "audit": audit_verdict(report.get("audit", {})),
        "rows": report["source"].get("rows"),
        "files": {name: str(path) for name, path in files.items()},
        "notes": report["notes"],
    }


def audit_verdict(audit: dict[str, Any]) -> dict[str, Any]:
    """The audit's verdict for the summary: whether it ran, safe or not, and the work."""
    if not audit.get("run"):
        return {"run": False, "safe": False, "reason": audit.get("reason", "not run")}
    return {
        "run": True,
        "safe": bool(audit.get("safe")),
        "failures": int(audit.get("failures", 0)),
        "lp_count": int(audit.get("lp_count", 0)),
        "seconds": float(audit.get("timings", {}).get("total", 0.0)),
        "intervals": audit.get("intervals"),
        "singleton": audit.get("singleton"),
    }


def render_verdict(v: dict[str, Any]) -> str:
    """The audit's verdict in a few words."""
    if not v.get("run"):
        return f"not run ({v.get('reason', '')})"
    word = "safe" if v["safe"] else f"UNSAFE ({v['failures']} cells under-protected)"
    single = ", singleton check" if v.get("singleton") else ""
    return f"{word}: {v['lp_count']:,} attacker LPs in {v['seconds']:.2f} s{single}"


def render(s: dict[str, Any]) -> str:
    """The summary as a few lines of text."""
    folder = Path(next(iter(s["files"].values()))).parent
    rows = f"{s['rows']:,}" if s["rows"] is not None else "?"
    lines = [f"{s['table']}: {s['cells']:,} cells from {rows} rows in {s['seconds']:.2f} s"]
    if s.get("method"):
        status = s["by_status"]
        hidden = status.get("primary", 0) + status.get("secondary", 0)
        lines.append(
            f"  method: {s['method']}; published: {status.get('safe', 0):,}; suppressed: {hidden:,}"
        )
    else:
        lines.extend(_status_lines(s))
    lines.append(f"  audit: {render_verdict(s['audit'])}")
    if s.get("population"):
        lines.append(_population_line(s["population"]))
    if s.get("protected_with"):
        lines.append(f"  protected together with: {', '.join(s['protected_with'])}")
    lines.append(f"  outputs in {folder}: {', '.join(s['files'])}")
    for row in s.get("comparison", []):
        lines.append("  " + _comparison_line(row))
    lines += [f"  note: {n}" for n in s["notes"]]
    return "\n".join(lines)


def _comparison_line(row: dict[str, Any]) -> str:
    """One method's loss measures on one line."""
    if not row["ran"]:
        return f"compare {row['method']}: not run: {row['reason']}"

    def pct(key: str) -> str:
        v = row.get(key)
        return "n/a" if v is None else f"{100 * v:.1f}%"

    hell = row.get("hellinger")
    return (
        f"compare {row['method']}: changed or hidden {pct('changed_or_hidden')}, "
        f"hidden {pct('hidden')}, mean relative deviation {pct('mean_relative_deviation')}"
        + ("" if hell is None else f", Hellinger {hell:.4f}")
    )
