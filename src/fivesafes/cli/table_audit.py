"""``fivesafes table audit``: the attacker's intervals for a protected table, from any tool."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import click
import pandas as pd

from fivesafes.cli.output_folder import check_files_folder, place_files, text_file
from fivesafes.errors import DataError
from fivesafes.sdc import (
    CONTRIBUTORS,
    INTERVAL_MODES,
    AuditResult,
    IntervalMode,
    audit_table,
    load_spec,
    normalise_cells,
    read_output_cells,
    spec_hierarchies,
)


def read_cells_csv(path: Path, dimensions: tuple[str, ...]) -> pd.DataFrame:
    """Read a cells.csv with codes as strings; DataError names a missing dimension column.

    An empty file and a header without cells are refused: there is no table to audit.
    """
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(
            f"cells file {path} is empty (0 bytes)",
            hint="give the cells.csv written by table protect (or another tool's table)",
        )
    # codes exactly: a cells.csv of table protect is escaped, as its report.json says
    cells = read_output_cells(path, dimensions)
    if cells.empty:
        raise DataError(
            f"{path} has no cells (only a header)", hint="give the table's cells, one per row"
        )
    missing = [d for d in dimensions if d not in cells.columns]
    if missing:
        raise DataError(
            f"{path} has no column(s) {missing} for the spec's dimension(s)",
            hint=f"columns found: {list(cells.columns)[:20]}",
        )
    return cells


AUDIT_FILES = ("audit.csv", "audit.json")


def write_audit(
    result: AuditResult, out: Path, extra: dict[str, Any], *, link_ok: bool = False
) -> tuple[Path, Path]:
    """Write audit.csv (every hidden cell's interval) and audit.json (the summary).

    Both or neither, each over its earlier version; the folder's other files (the
    cells.csv audited, another tool's files) are left alone (cli/output_folder.py).
    """
    payload = {**extra, "audit": result.to_dict()}
    text = {
        "audit.csv": result.intervals.to_csv(index=False),
        "audit.json": json.dumps(payload, indent=2, allow_nan=False) + "\n",
    }
    written = place_files(
        out,
        {name: text_file(content) for name, content in text.items()},
        option="--out",
        link_ok=link_ok,
    )
    return written["audit.csv"], written["audit.json"]


@click.command("audit")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option(
    "--cells",
    "cells_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The cells.csv to audit: dimension columns, value, status, and protection columns.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for audit.csv and audit.json [default: the folder of --cells].",
)
@click.option(
    "--protection-percent",
    type=click.FloatRange(min=0),
    default=None,
    help="Required protection of a primary cell, as +/- this % of its value, where "
    "cells.csv has no lower_protection/upper_protection (e.g. from another tool).",
)
@click.option(
    "--a-priori-percent",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="The attacker knows each hidden cell to within this % "
    "[default: the spec's [suppression] a_priori_percent, else only the sign].",
)
@click.option(
    "--singleton/--no-singleton",
    default=None,
    help="Also check what one single contributor learns about another "
    "[default: the spec's [suppression] singleton, when cells.csv has contributors].",
)
@click.option(
    "--intervals",
    type=click.Choice(INTERVAL_MODES),
    default="exact",
    show_default=True,
    help="How much to solve (the verdict is the same): exact = every hidden cell's exact "
    "interval; primary = exact for primary cells, inner ranges for secondary ones; "
    "check = stop once each requirement is shown to be met (fastest).",
)
@click.option(
    "--status-map",
    default=None,
    metavar="MAP",
    help="What the status codes mean, for tables from other tools: a preset (argus: "
    "V=safe, A/B/C=primary, D=secondary, S/U/P; sdctable: s/z=safe, u=primary, "
    "x=secondary), CODE=STATUS pairs (B=primary,D=secondary,V=safe), or both "
    "(argus,M=secondary) [default: by the status column: status = fivesafes, "
    "sdcStatus = sdctable, Status = argus].",
)
@click.option(
    "--status-column",
    default=None,
    help="The column holding the statuses [default: status, else sdcStatus, else Status].",
)
@click.option(
    "--value-column",
    default=None,
    help="The column holding the cell values [default: value] (sdcTable and tau-Argus "
    "name it after the response).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def audit_command(
    spec: Path,
    cells_path: Path,
    out: Path | None,
    protection_percent: float | None,
    a_priori_percent: float | None,
    singleton: bool | None,
    intervals: str,
    status_map: str | None,
    status_column: str | None,
    value_column: str | None,
    as_json: bool,
) -> None:
    """Audit a protected table: what can an attacker work out about each hidden cell?

    For every hidden cell (status primary or secondary) of the table in --cells,
    solve the attacker's linear programs (minimum and maximum of the cell, given
    every published cell, the table's subtotal relations from the SPEC's
    hierarchies, and the attacker's bounds) and compare the interval with the
    protection each primary cell requires. Works on tables protected by any tool.

    \b
    Examples:
      fivesafes table audit examples/turnover.toml --cells out/cells.csv
      fivesafes table audit spec.toml --cells other/cells.csv \\
          --protection-percent 15 --out audit-out
      fivesafes table audit big.toml --cells out/cells.csv --intervals check
      fivesafes table audit spec.toml --cells argus_out.csv --status-map argus \\
          --value-column turnover --protection-percent 10
      fivesafes table audit spec.toml --cells sdctable_final.csv --value-column value

    \b
    Writes, in OUT:
      audit.csv    one row per hidden cell: codes, value, status, attacker_min,
                   attacker_max, required_lower, required_upper, protected,
                   exact, failure (interval|exact|published|singleton),
                   interval (exact|inner|unsolved)
      audit.json   the verdict, the failed cells, the attacker's bounds, LPs
                   solved and timings
    Exit status 0 when every primary cell is protected, 3 when any is not.
    """
    # the folder of --cells by default: it holds the table audited (and maybe another
    # tool's files), so only audit.csv and audit.json are placed there, never the folder
    target = out if out is not None else cells_path.parent
    check_files_folder(target, list(AUDIT_FILES), option="--out", link_ok=out is None)
    loaded = load_spec(spec)
    cells = read_cells_csv(cells_path, loaded.dimension_names)
    cells, notes = normalise_cells(
        cells,
        status_map=status_map,
        status_column=status_column,
        value_column=value_column,
        where=str(cells_path),
    )
    hierarchies = spec_hierarchies(loaded, cells)
    if singleton is None:
        singleton = loaded.suppression.singleton and CONTRIBUTORS in cells.columns
        if loaded.suppression.singleton and CONTRIBUTORS not in cells.columns:
            notes.append("singleton check skipped: cells.csv has no contributors column")
    apriori = (
        a_priori_percent if a_priori_percent is not None else loaded.suppression.a_priori_percent
    )
    result = audit_table(
        cells,
        hierarchies,
        a_priori_percent=apriori,
        frequency=loaded.is_frequency,
        singleton=singleton,
        protection_percent=protection_percent,
        intervals=cast(IntervalMode, intervals),
    )
    csv_path, json_path = write_audit(
        result,
        target,
        {
            "spec": str(spec),
            "table": loaded.name,
            "spec_sha256": loaded.spec_hash,
            "cells": str(cells_path),
            "protection_percent": protection_percent,
            "notes": notes,
        },
        link_ok=out is None,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    else:
        click.echo(f"table {loaded.name}: {cells.shape[0]} cells")
        click.echo(result.summary())
        for note in notes:
            click.echo(f"  note: {note}")
        click.echo(f"wrote {csv_path} and {json_path}")
    result.raise_if_unsafe()


__all__ = ["audit_command", "read_cells_csv", "write_audit"]
