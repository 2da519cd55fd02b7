"""Write a protected table's outputs: cells.csv, report.json, table.csv and table.xlsx
(and population.json for a table of part of the units).

Every file is first written to a temporary file in the output folder; only when
all of them are complete are they moved into place with ``os.replace``, so a
failure never leaves a half-written output (nor a mix of old and new files that
the failure would have replaced).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from fivesafes.errors import OutputError
from fivesafes.sdc.cells import (
    CONFIDENTIAL_SYMBOL,
    CONTRIBUTORS,
    LOWER,
    PUBLISHED,
    RECORDS,
    RULE,
    STATUS,
    UPPER,
    VALUE,
)
from fivesafes.sdc.formats.injection import csv_field, csv_row, xlsx_text
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.outputs.cells_csv import cells_csv_text, with_format
from fivesafes.sdc.outputs.presentation import Presentation, present
from fivesafes.sdc.outputs.report import STATUS_DIGEST, status_digest
from fivesafes.sdc.rules import rule_explanations
from fivesafes.sdc.spec import TableSpec

CELLS_CSV = "cells.csv"
REPORT_JSON = "report.json"
TABLE_CSV = "table.csv"
TABLE_XLSX = "table.xlsx"
POPULATION_JSON = "population.json"

XLSX_FORMATTED_ENTRIES = 20_000  # above this, numbers are written without a number format
Writer = Callable[[Path], object]


class ProtectedTable(Protocol):
    """What the writers read from a protected table (``fivesafes.sdc.TableResult`` has it)."""

    # Read-only members: the pipeline's frozen TableResult is one, without an import
    # from here to the pipeline (which writes through this module).
    @property
    def name(self) -> str: ...
    @property
    def spec(self) -> TableSpec: ...
    @property
    def cells(self) -> pd.DataFrame: ...
    @property
    def hierarchies(self) -> tuple[Hierarchy, ...]: ...
    @property
    def report(self) -> dict[str, Any]: ...


def cells_columns(dimensions: Sequence[str], *, with_value: bool) -> list[str]:
    """The columns of cells.csv, in order."""
    cols = [*dimensions, RECORDS, CONTRIBUTORS]
    if with_value:
        cols.append(VALUE)
    return [*cols, STATUS, RULE, LOWER, UPPER]


def published_cells(result: ProtectedTable) -> pd.DataFrame:
    """The cells.csv frame: codes, counts, value, status, rule and protection (no internals)."""
    spec = result.spec
    # a frequency table's value is the count itself unless it is weighted
    with_value = not spec.is_frequency or spec.weight is not None
    cols = cells_columns(spec.dimension_names, with_value=with_value)
    if PUBLISHED in result.cells.columns:
        # changed values: the published one next to the true one, and for rounded tables
        # each primary's attacker interval (the evidence of its protection)
        extra = [PUBLISHED, "attacker_min", "attacker_max"]
        cols += [c for c in extra if c in result.cells.columns]
    out = result.cells[cols].copy()
    for d in spec.dimension_names:
        out[d] = out[d].astype(str)
    return out


def notes_lines(result: ProtectedTable) -> list[str]:
    """The notes that travel with the human-readable table (notes sheet / CSV header)."""
    r = result.report
    rules = r["rules"]
    src = r["source"]
    method = r.get("protection", {}).get("method", "suppression")
    if method == "suppression":
        how = [
            f"{CONFIDENTIAL_SYMBOL} = confidential: the value is withheld to protect the "
            "confidentiality of a contributor (primary or secondary suppression).",
            "[x] = not available.",
            "Totals include the hidden cells.",
            "Rules (a cell is hidden when any of them applies):",
        ]
    else:
        hidden = bool((result.cells["status"] != "safe").any())
        how = [
            f"Protection: {method} (the notes below say what it means for the figures).",
            *(
                [f"{CONFIDENTIAL_SYMBOL} = confidential: withheld as well, see below."]
                if hidden
                else []
            ),
            "[x] = not available.",
            "Rules (the cells they flag are protected by the method):",
        ]
    lines = [
        f"Table: {result.name}",
        *how,
        *(
            f"  {line}"
            for line in rule_explanations(result.spec.rules, frequency=result.spec.is_frequency)
        ),
        "Rule parameters: "
        + "; ".join(
            f"{k} = {_param(v)}"
            for k, v in rules.items()
            if k not in ("in_force", "basis") and v is not None
        ),
        f"The rules were evaluated on {rules['basis']}.",
        *(
            [f"Secondary suppression: {r['suppression']['method']}."]
            if method == "suppression"
            else []
        ),
        f"Source: {src.get('path') or src.get('kind')}"
        + (f" (sha256 {src['sha256']})" if src.get("sha256") else "")
        + (f", {src['rows']} rows" if src.get("rows") is not None else ""),
        f"Spec sha256: {r['spec']['sha256']}",
        f"Produced by fivesafes {r['fivesafes_version']} at {r['created_at']}.",
    ]
    lines.extend(f"Note: {n}" for n in r["notes"])
    return lines


def _param(value: Any) -> str:
    if isinstance(value, list):
        if value and all(isinstance(v, list) for v in value):
            return ", ".join(f"({_param(v)})" for v in value)
        return ", ".join(_param(v) for v in value) if value else "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def write_outputs(result: ProtectedTable, out_dir: Path) -> dict[str, Path]:
    """Write all four outputs into ``out_dir`` (created if needed), all or nothing."""
    view = present(result.name, result.cells, result.spec.dimension_names, result.hierarchies)
    notes = notes_lines(result)
    cells = published_cells(result)
    # the statuses as written: a reader (table show) refuses a cells.csv edited since
    digest = status_digest(cells, result.spec.dimension_names)
    report = {**result.report, "cells": {**result.report["cells"], STATUS_DIGEST: digest}}
    report = with_format(report)  # cells.csv's text is escaped: readers undo it
    report, population = split_population(report)
    writers: dict[str, Writer] = {
        CELLS_CSV: lambda p: write_cells_csv(cells, p),
        REPORT_JSON: lambda p: write_json(report, p),
        TABLE_CSV: lambda p: write_table_csv(view, notes, p),
        TABLE_XLSX: lambda p: write_table_xlsx(view, notes, p),
    }
    if population is not None:
        writers[POPULATION_JSON] = lambda p: write_json(population, p)
    return write_all(out_dir, writers)


def split_population(report: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """report.json's content with a ``[table] where`` filter's kept values only, and the
    population (kept values and every value of each filter column) for population.json.

    Every value of a filter column is what the differencing check at release submit
    needs, but a filter on a unit identifier would list every unit of the data: it is
    kept out of the plain report, in a file of its own beside cells.csv.
    """
    raw = report.get("population")
    if not isinstance(raw, dict) or "domains" not in raw:
        return report, None
    shown = {k: v for k, v in raw.items() if k != "domains"}
    shown["domains_in"] = POPULATION_JSON
    return {**report, "population": shown}, {"where": raw["where"], "domains": raw["domains"]}


def write_all(out_dir: Path, writers: dict[str, Writer]) -> dict[str, Path]:
    """Run each writer on a temp file in ``out_dir``, then move them all into place.

    The folders it makes (``out_dir`` and any missing parent) are 0700 and every file is
    0600, whatever the umask: the files hold confidential cells. On a failure the files
    are not placed and the folders it made are removed again.
    """
    try:
        created = private_folders(out_dir)
    except OSError as exc:
        raise OutputError(
            f"cannot create the output folder {out_dir}: {exc.strerror}",
            hint="choose a folder you can write to with --out",
        ) from exc
    if not out_dir.is_dir():
        raise OutputError(
            f"cannot create the output folder {out_dir}: a file of that name is there",
            hint="choose a folder you can write to with --out",
        )
    temps: dict[str, Path] = {}
    try:
        for name, writer in writers.items():
            fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".tmp")
            os.close(fd)
            temps[name] = Path(tmp_name)
            writer(temps[name])
            # mkstemp's 0600 again: a writer may have put a file of its own in its place
            os.chmod(temps[name], 0o600)
        final = {}
        for name, tmp in temps.items():
            final[name] = out_dir / name
            os.replace(tmp, final[name])
        return final
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        _remove_empty(created)
        raise


def private_folders(folder: Path) -> list[Path]:
    """Make ``folder`` and every missing parent 0700 (whatever the umask); returns the
    folders made, deepest first. An existing folder is left as it is.

    As fivesafes.vault.atomic.private_dirs, which this library cannot import (it stands
    alone): ``mkdir(parents=True, mode=0o700)`` gives the mode to the last folder only.
    """
    missing: list[Path] = []
    current = folder
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    made = []
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:  # another process made it meanwhile: not ours to remove
            continue
        os.chmod(path, 0o700)  # mkdir's mode is masked by the umask
        made.append(path)
    return made[::-1]


def _remove_empty(folders: Sequence[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            return


def write_cells_csv(cells: pd.DataFrame, path: Path) -> None:
    """cells.csv: every text field escaped so that no spreadsheet runs it (cells_csv.py).

    The report written with it must say so (:func:`with_format`): readers undo the
    escape only then, so a code comes back exactly as the string it is.
    """
    path.write_text(cells_csv_text(cells), encoding="utf-8", newline="")


def write_json(content: dict[str, Any], path: Path) -> None:
    """A JSON file, indented, keys in the order given."""
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_table_csv(view: Presentation, notes: Sequence[str], path: Path) -> None:
    """table.csv: a ``#`` comment block of notes, then each block of the table."""
    buf = io.StringIO()
    for line in notes:
        buf.write(f"# {line}\n")
    # every text field through csv_field: a code "=..." must not run as a formula
    w = csv.writer(buf, lineterminator="\n")
    for b, block in enumerate(view.blocks):
        if b:
            w.writerow([])
        if block.title:
            w.writerow([csv_field(block.title)])
        corner = (
            f"{block.row_dimension} \\ {block.column_dimension}"
            if block.column_dimension
            else block.row_dimension
        )
        w.writerow(csv_row([corner, *block.column_codes]))
        for i, row in enumerate(block.rows):
            w.writerow([_indented_field(block.row_label(i)), *csv_row([c.text() for c in row])])
    path.write_text(buf.getvalue(), encoding="utf-8")


def _indented_field(label: str) -> str:
    """A row label: its indentation, then the code as a CSV field never run as a formula.

    The code is escaped after the indentation, not before: a program that trims leading
    spaces on import (Google Sheets does) would otherwise see ``=...`` unescaped.
    """
    code = label.lstrip(" ")
    return label[: len(label) - len(code)] + str(csv_field(code))


def write_table_xlsx(view: Presentation, notes: Sequence[str], path: Path) -> None:
    """table.xlsx: a Notes sheet first (GSS cover/notes), then the Table sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    # write-only mode streams rows: the time grows with the cells, not their square
    wb = Workbook(write_only=True)
    title_font, bold = Font(bold=True, size=14), Font(bold=True)
    right = Alignment(horizontal="right")
    indents = {d: Alignment(indent=d) for b in view.blocks for d in set(b.row_depths)}
    entries_in_table = sum(len(b.rows) * len(b.column_codes) for b in view.blocks)
    # a styled cell costs openpyxl about 3x a plain one: big tables get plain numbers
    format_numbers = entries_in_table <= XLSX_FORMATTED_ENTRIES

    def styled(ws: Any, value: Any, *, font: Font | None = None, **style: Any) -> Any:
        # text is stored as a string, never a formula (a code may start with "=")
        if isinstance(value, str):
            cell = xlsx_text(WriteOnlyCell(ws), value)
        else:
            cell = WriteOnlyCell(ws, value=value)
        if font is not None:
            cell.font = font
        for key, v in style.items():
            setattr(cell, key, v)
        return cell

    ws_notes = wb.create_sheet("Notes")
    ws_notes.column_dimensions["A"].width = 120
    ws_notes.append([styled(ws_notes, view.name, font=title_font)])
    for note in notes:
        ws_notes.append([styled(ws_notes, note)])

    ws = wb.create_sheet("Table")
    ws.column_dimensions["A"].width = 28
    ws.append([styled(ws, view.name, font=title_font)])
    if any(c.symbol == CONFIDENTIAL_SYMBOL for b in view.blocks for row in b.rows for c in row):
        ws.append([styled(ws, f"{CONFIDENTIAL_SYMBOL} = confidential; see the Notes sheet")])
    else:
        ws.append([styled(ws, "see the Notes sheet")])
    for block in view.blocks:
        ws.append([])
        if block.title:
            ws.append([styled(ws, block.title, font=bold)])
        corner = block.row_dimension
        if block.column_dimension:
            corner = f"{block.row_dimension} \\ {block.column_dimension}"
        ws.append([styled(ws, h, font=bold) for h in (corner, *block.column_codes)])
        for i, row in enumerate(block.rows):
            depth = block.row_depths[i]
            # real indentation (not leading spaces), as GSS accessibility guidance asks
            label = styled(
                ws, block.row_codes[i], font=bold if depth == 0 else None, alignment=indents[depth]
            )
            entries = [label]
            for c in row:
                value = _xlsx_value(c.value, c.symbol)
                if isinstance(value, str):
                    entries.append(styled(ws, value, alignment=right))
                elif not format_numbers:
                    entries.append(value)
                else:
                    fmt = "#,##0" if isinstance(value, int) else "#,##0.00"
                    entries.append(styled(ws, value, number_format=fmt))
            ws.append(entries)
    wb.save(path)


def _xlsx_value(value: float | None, symbol: str) -> float | int | str:
    if symbol or value is None:
        return symbol or "[x]"
    return int(value) if float(value).is_integer() else value
