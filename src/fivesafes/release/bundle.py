"""A release bundle: the tables laid out for people, a methods note, and a manifest.

The spreadsheets follow the Analysis Function guidance *Releasing statistics in
spreadsheets* (see :mod:`~fivesafes.release.spreadsheet`): a cover sheet, a contents
sheet with links, a numbered notes sheet, then one table per sheet as a real table
(title in A1, one header row, labels and a level column from the hierarchy, units
in the headers, number formats, ``[c]`` for a confidential cell), with document
properties, in XLSX and ODS. Each table is also a tidy CSV (one row per cell, a
status column; the wide layout on request). The methods note says how the
statistics were protected and the choices made (T6.4), in sentences. The manifest
holds every file's SHA-256 so that a published bundle can be verified later.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from fivesafes.errors import IntegrityError
from fivesafes.release import methods
from fivesafes.release.layout import Layout, has_missing, tidy_layout, wide_layout
from fivesafes.release.ods import write_ods
from fivesafes.release.spreadsheet import (
    Line,
    Properties,
    TableSheet,
    Workbook,
    build_workbook,
    file_stems,
    sheet_names,
)
from fivesafes.release.xlsx import write_xlsx
from fivesafes.sdc import (
    CONFIDENTIAL_SYMBOL,
    NOT_AVAILABLE_SYMBOL,
    STATUS,
    Hierarchy,
    Status,
    csv_row,
    present,
    write_all,
)

MANIFEST = "manifest.json"
FIXED_FILES = ("methods.md", "methods.html", "tables.xlsx", "tables.ods", MANIFEST)


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
    measure: str = "value"  # what the values are (the spec's response, or "count")
    unit: str | None = None  # the spec's unit, shown in the value headers
    suppression: dict[str, Any] = field(default_factory=dict)  # the spec's [suppression]
    protection: dict[str, Any] = field(default_factory=dict)  # report.json's [protection]

    @property
    def changes_values(self) -> bool:
        """Whether the table was protected by changing values (cell key method, rounding)."""
        return self.protection.get("method") in methods.CHANGES_VALUES

    def summary(self, info: BundleInfo) -> dict[str, Any]:
        """Counts and sentences for the methods note."""
        status = self.cells[STATUS].astype(str)
        hidden = int((status != Status.SAFE.value).sum())
        return {
            "perturbation": methods.perturbation_text(
                self.protection,
                counts=self.measure == "count",
                withhold=info.withhold_thresholds,
                withheld_by=info.withheld_by,
            ),
            "audited": not self.changes_values or self.protection.get("method") != "cellkey",
            "title": self.title,
            "total_cells": len(self.cells),
            "hidden_cells": hidden,
            "primary": int((status == Status.PRIMARY.value).sum()),
            "secondary": int((status == Status.SECONDARY.value).sum()),
            "rules": methods.rules_text(
                self.rules, withhold=info.withhold_thresholds, withheld_by=info.withheld_by
            ),
            "choices": methods.choices(
                self.rules,
                self.suppression,
                self.method,
                withhold=info.withhold_thresholds,
                hidden=hidden > 0,
            ),
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
    contact: str | None = None  # from the settings (publication_contact)
    withhold_thresholds: bool = False
    withheld_by: str = ""  # who withheld the thresholds: "area policy" or "publisher"
    rule_set: str = ""
    differencing: dict[str, Any] | None = None
    choices: tuple[str, ...] = field(default_factory=tuple)
    earlier_releases: tuple[str, ...] = ()  # releases of the source published before this one

    @property
    def contact_text(self) -> str:
        """Who to contact, as a sentence."""
        if self.contact:
            return f"Contact: {self.contact}."
        return f"For questions about these statistics, contact {self.organisation}."


@dataclass(frozen=True)
class LaidOut:
    """A table with its sheet and file names and both layouts."""

    table: BundleTable
    sheet: str
    stem: str
    wide: Layout
    tidy: Layout


def lay_out(tables: Sequence[BundleTable]) -> list[LaidOut]:
    """Sheet and file names that never collide, and each table's wide and tidy layout."""
    sheets = sheet_names([t.name for t in tables])
    stems = file_stems([t.name for t in tables], taken=[Path(f).stem for f in FIXED_FILES])
    out = []
    for t, sheet, stem in zip(tables, sheets, stems, strict=True):
        # one presentation (the slow part) serves both layouts
        view = present(t.measure, t.cells, [h.name for h in t.hierarchies], t.hierarchies)
        wide = wide_layout(t.cells, t.hierarchies, measure=t.measure, unit=t.unit, view=view)
        tidy = tidy_layout(t.cells, t.hierarchies, measure=t.measure, unit=t.unit, view=view)
        out.append(LaidOut(t, sheet, stem, wide, tidy))
    return out


def write_bundle(
    out_dir: Path,
    info: BundleInfo,
    tables: Sequence[BundleTable],
    *,
    wide_csv: bool = False,
) -> dict[str, str]:
    """Write every file of the bundle and its manifest, all or nothing; returns the manifest.

    ``wide_csv``: also write each table in its wide layout (``NAME_wide.csv``).
    """
    if not tables:
        raise ValueError("a release bundle needs at least one table")
    laid = lay_out(tables)
    book = workbook(info, laid)
    files: dict[str, bytes] = {
        "methods.md": _render("methods.md.j2", info, tables).encode("utf-8"),
        "methods.html": _render("methods.html.j2", info, tables).encode("utf-8"),
        "tables.xlsx": write_xlsx(book),
        "tables.ods": write_ods(book),
    }
    taken = [Path(f).stem for f in FIXED_FILES] + [t.stem for t in laid]
    wide_stems = file_stems([f"{t.stem}_wide" for t in laid], taken=taken) if wide_csv else []
    for i, t in enumerate(laid):
        files[f"{t.stem}.csv"] = layout_csv(t.tidy)
        if wide_csv:
            files[f"{wide_stems[i]}.csv"] = layout_csv(t.wide)
    manifest = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    doc = {
        "release": info.release_id,
        "files": manifest,
        "thresholds": thresholds_record(info),
        "tables": [{"name": t.table.name, "sheet": t.sheet, "csv": f"{t.stem}.csv"} for t in laid],
    }
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


def _writer(content: bytes):  # type: ignore[no-untyped-def]
    return lambda p: Path(p).write_bytes(content)


def layout_csv(layout: Layout) -> bytes:
    """A layout as CSV: one header row, then the rows; text that could start a formula escaped."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(csv_row(list(layout.header)))
    for row in layout.rows:
        w.writerow(csv_row(["" if v is None else v for v in row]))
    return buf.getvalue().encode("utf-8")


def notes(info: BundleInfo, laid: Sequence[LaidOut]) -> list[str]:
    """The notes of the workbook, in the order they are numbered."""
    out = [
        f"{CONFIDENTIAL_SYMBOL} means confidential: the value is withheld so that no "
        "contributor's information can be recovered (primary and secondary suppression look "
        "the same). In the CSV files such a cell has an empty value and the status "
        "'confidential'.",
        "The level column gives each code's place in its hierarchy: 0 is the total, 1 a code "
        "directly under the total, 2 a code under a level 1 code, and so on. A code adds up "
        "to the nearest code above it with a lower level.",
        "Totals and subtotals include the hidden cells: they are the true totals."
        if not any(t.table.changes_values for t in laid)
        else "Totals and subtotals are published as changed (see methods.html): a total may "
        "differ from the sum of its parts.",
        "How these statistics were protected, and the choices made, are in methods.html "
        "(and methods.md) in this release.",
    ]
    if any(has_missing(t.wide) for t in laid):
        out.append(
            f"{NOT_AVAILABLE_SYMBOL} means not available: the table has no cell for that "
            "combination of codes."
        )
    return out


def workbook(info: BundleInfo, laid: Sequence[LaidOut]) -> Workbook:
    """The release as a workbook: cover, contents, notes and one sheet per table."""
    published = f"{info.published_on.day} {info.published_on:%B %Y}"
    cover = [
        Line(f"Release {info.release_id}, published by {info.organisation}."),
        Line("Publication date", heading=True),
        Line(published),
        Line("Source", heading=True),
        Line(info.source),
        Line("About these tables", heading=True),
        Line(
            "The tables were protected so that no contributor's information can be recovered. "
            f"A confidential value is shown as {CONFIDENTIAL_SYMBOL} (see note 1)."
        ),
        Line("Contents", heading=True),
        Line("The contents worksheet lists every table, with links.", "Contents"),
        Line("Notes", heading=True),
        Line("The notes worksheet explains the symbols and columns used.", "Notes"),
        Line("Methods", heading=True),
        Line("How the statistics were protected: methods.html in this release."),
        Line("Contact", heading=True),
        Line(info.contact_text),
    ]
    sheets = [
        TableSheet(
            sheet=t.sheet,
            title=t.table.title,
            layout=t.wide,
            lines=(
                f"Source: {info.source}.",
                f"Confidential values are shown as {CONFIDENTIAL_SYMBOL} [note 1].",
                "The level columns give each code's place in its hierarchy [note 2].",
                "Totals include the hidden cells [note 3].",
            ),
        )
        for t in laid
    ]
    props = Properties(
        title=info.title,
        subject=f"Release {info.release_id}: {info.source}",
        creator=info.organisation,
        description=(
            f"Statistics from {info.source}, protected against disclosure; "
            f"{len(laid)} table(s), {CONFIDENTIAL_SYMBOL} = confidential."
        ),
        keywords=("official statistics", info.release_id, *(t.table.name for t in laid)),
        created=info.published_on,
    )
    return build_workbook(
        title=info.title,
        cover=cover,
        notes=notes(info, laid),
        tables=sheets,
        properties=props,
    )


def _render(template: str, info: BundleInfo, tables: Sequence[BundleTable]) -> str:
    env = Environment(
        loader=PackageLoader("fivesafes.release", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=template.endswith(".html.j2"),
    )
    return env.get_template(template).render(
        info=info,
        tables=[t.summary(info) for t in tables],
        earlier=methods.earlier_text(info.differencing, info.earlier_releases),
    )
