"""A release bundle: the tables laid out for people, a methods note, and a manifest.

Layout follows the GSS guidance on releasing statistics in spreadsheets: a cover
sheet, a contents sheet, a notes sheet, then one table per sheet starting in A1,
one header row, no blank rows inside a table, hidden cells as ``[c]``. The same
tables go to CSV (one file per table), XLSX and ODS. The methods note says how
the statistics were protected and the choices made (T6.4). The manifest holds
every file's SHA-256 so that a published bundle can be verified later.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from fivesafes.errors import IntegrityError
from fivesafes.sdc import CONFIDENTIAL_SYMBOL, STATUS, Hierarchy, Status, present, write_all

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BundleTable:
    """One protected table of a release and how it was protected."""

    name: str
    title: str
    cells: pd.DataFrame
    hierarchies: tuple[Hierarchy, ...]
    rules: dict[str, Any]
    method: str
    audit_safe: bool
    gap: float | None = None

    @property
    def sheet(self) -> str:
        """A sheet name that spreadsheet programs accept (31 characters, no []:*?/\\)."""
        return re.sub(r"[\[\]:*?/\\]", "_", self.name)[:31]

    def summary(self) -> dict[str, Any]:
        """Counts and rule text for the methods note."""
        status = self.cells[STATUS].astype(str)
        in_force = [str(r) for r in self.rules.get("in_force", [])]
        params = {k: v for k, v in self.rules.items() if k != "in_force" and v not in (None, [])}
        return {
            "title": self.title,
            "total_cells": len(self.cells),
            "hidden_cells": int((status != Status.SAFE.value).sum()),
            "primary": int((status == Status.PRIMARY.value).sum()),
            "secondary": int((status == Status.SECONDARY.value).sum()),
            "rule_names": in_force,
            "rule_text": ", ".join(f"{k} = {v}" for k, v in params.items()) or "none",
            "method": self.method,
            "gap": self.gap,
            "audit_safe": self.audit_safe,
        }


@dataclass(frozen=True)
class BundleInfo:
    """What the release is, and the facts the methods note states."""

    release_id: str
    title: str
    organisation: str
    source: str
    published_on: date
    contact: str = "the statistics team"
    withhold_thresholds: bool = False
    withheld_by: str = ""  # who withheld the thresholds: "area policy" or "publisher"
    rule_set: str = ""
    differencing: dict[str, Any] | None = None
    choices: tuple[str, ...] = field(default_factory=tuple)


def table_rows(table: BundleTable) -> tuple[list[str], list[list[object]]]:
    """The table as one contiguous block: header row, then one row per line (no blank rows)."""
    dims = [h.name for h in table.hierarchies]
    view = present(table.title, table.cells, dims, table.hierarchies)
    extra = [h.name for h in table.hierarchies[2:]]
    header: list[str] = []
    rows: list[list[object]] = []
    for block in view.blocks:
        fixed = [part.split(" = ", 1)[1] for part in block.title.split("; ")] if extra else []
        if not header:
            corner = block.row_dimension
            header = [
                *extra,
                corner,
                *(block.column_codes if block.column_dimension else ["value"]),
            ]
        for i, line in enumerate(block.rows):
            label = "  " * block.row_depths[i] + block.row_codes[i]
            values: list[object] = [
                c.symbol if c.symbol or c.value is None else _number(c.value) for c in line
            ]
            rows.append([*fixed, label, *values])
    return header, rows


def write_bundle(out_dir: Path, info: BundleInfo, tables: Sequence[BundleTable]) -> dict[str, str]:
    """Write every file of the bundle and its manifest, all or nothing; returns the manifest."""
    if not tables:
        raise ValueError("a release bundle needs at least one table")
    laid_out = [(t, *table_rows(t)) for t in tables]
    notes = _notes(info, tables)
    files: dict[str, bytes] = {
        "methods.md": _render("methods.md.j2", info, tables).encode("utf-8"),
        "methods.html": _render("methods.html.j2", info, tables).encode("utf-8"),
        "tables.xlsx": _xlsx(info, notes, laid_out),
        "tables.ods": _ods(info, notes, laid_out),
    }
    for t, header, rows in laid_out:
        files[f"{t.sheet}.csv"] = _csv(header, rows)
    manifest = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    doc = {"release": info.release_id, "files": manifest, "thresholds": thresholds_record(info)}
    files[MANIFEST] = (json.dumps(doc, indent=2) + "\n").encode()
    write_all(out_dir, {name: _writer(content) for name, content in files.items()})
    return manifest


def thresholds_record(info: BundleInfo) -> str:
    """What the manifest records about thresholds in the methods note."""
    if not info.withhold_thresholds:
        return "stated"
    return f"withheld by {info.withheld_by or 'policy'}"


def verify_bundle(bundle_dir: Path) -> None:
    """Raise IntegrityError naming every file that is missing, extra or changed."""
    path = bundle_dir / MANIFEST
    if not path.is_file():
        raise IntegrityError(f"{bundle_dir} has no {MANIFEST}", hint="is this a release bundle?")
    manifest = json.loads(path.read_text(encoding="utf-8"))["files"]
    problems: list[str] = []
    for name, digest in sorted(manifest.items()):
        f = bundle_dir / name
        if not f.is_file():
            problems.append(f"{name} is missing")
        elif hashlib.sha256(f.read_bytes()).hexdigest() != digest:
            problems.append(f"{name} has changed since publication")
    extra = sorted(
        p.name for p in bundle_dir.iterdir() if p.name not in manifest and p.name != MANIFEST
    )
    problems.extend(f"{name} was added after publication" for name in extra)
    if problems:
        raise IntegrityError(
            f"release bundle {bundle_dir} does not match its manifest: " + "; ".join(problems),
            hint="restore the published files from the release archive",
        )


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 2)


def _writer(content: bytes):  # type: ignore[no-untyped-def]
    return lambda p: Path(p).write_bytes(content)


def _notes(info: BundleInfo, tables: Sequence[BundleTable]) -> list[tuple[str, str]]:
    return [
        ("[c]", f"{CONFIDENTIAL_SYMBOL}: confidential, withheld to protect a contributor"),
        ("Totals", "Totals include the hidden cells; they are the true totals."),
        ("Source", info.source),
        ("Methods", "See methods.html in this release for how the tables were protected."),
        *((t.sheet, t.title) for t in tables),
    ]


def _render(template: str, info: BundleInfo, tables: Sequence[BundleTable]) -> str:
    env = Environment(
        loader=PackageLoader("fivesafes.release", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=template.endswith(".html.j2"),
    )
    return env.get_template(template).render(info=info, tables=[t.summary() for t in tables])


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _sheets(
    info: BundleInfo,
    notes: list[tuple[str, str]],
    laid_out: Sequence[tuple[BundleTable, list[str], list[list[object]]]],
) -> list[tuple[str, list[list[object]]]]:
    """Every sheet as rows: cover, contents, notes, then the tables (GSS layout)."""
    published = info.published_on.isoformat()
    cover: list[list[object]] = [
        [info.title],
        [f"Release {info.release_id}, published {published} by {info.organisation}."],
        [f"Source: {info.source}"],
        ["This workbook has a contents sheet, a notes sheet and one table per sheet."],
        [f"Hidden cells are shown as {CONFIDENTIAL_SYMBOL} (confidential)."],
        [f"Contact: {info.contact}"],
    ]
    contents: list[list[object]] = [["Contents"], ["Sheet", "Table"]]
    contents += [[t.sheet, t.title] for t, _, _ in laid_out]
    notes_rows: list[list[object]] = [["Notes"], ["Note", "Text"]]
    notes_rows += [[a, b] for a, b in notes]
    sheets: list[tuple[str, list[list[object]]]] = [
        ("Cover", cover),
        ("Contents", contents),
        ("Notes", notes_rows),
    ]
    for t, header, rows in laid_out:
        sheets.append(
            (
                t.sheet,
                [
                    [t.title],
                    ["This worksheet contains one table. [c] = confidential (see Notes)."],
                    list(header),
                    *rows,
                ],
            )
        )
    return sheets


def _xlsx(info: BundleInfo, notes: list[tuple[str, str]], laid_out) -> bytes:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    first = True
    for name, rows in _sheets(info, notes, laid_out):
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        first = False
        ws.title = name
        for row in rows:
            ws.append(row)
        ws["A1"].font = Font(bold=True, size=14)
        ws.column_dimensions["A"].width = 40
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _ods(info: BundleInfo, notes: list[tuple[str, str]], laid_out) -> bytes:  # type: ignore[no-untyped-def]
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in _sheets(info, notes, laid_out):
        sheet = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                if isinstance(value, int | float) and not isinstance(value, bool):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
                tr.addElement(cell)
            sheet.addElement(tr)
        doc.spreadsheet.addElement(sheet)
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()
