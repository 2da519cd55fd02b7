"""The workbook of a release, as plain data: cover, contents, notes, one table per sheet.

This module decides what goes where, following the Analysis Function guidance
*Releasing statistics in spreadsheets*; :mod:`~fivesafes.release.xlsx` and
:mod:`~fivesafes.release.ods` write the same workbook as XLSX and ODS.

- a cover sheet (title, what the release is, source, contact, symbols used),
- a contents sheet with a link to every sheet,
- a notes sheet with numbered notes (``[note 1]``), referred to from the tables,
- one table per sheet: title in A1, a few lines of text in column A, then one
  header row and the table, marked up as a real table (an Excel table / an ODS
  database range), numbers stored as numbers with a number format;
- sheet, table and file names that spreadsheet programs accept and that never
  collide (Excel compares sheet names without case and cuts them at 31 characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from fivesafes.release.layout import Layout
from fivesafes.sdc import CONFIDENTIAL_SYMBOL, NOT_AVAILABLE_SYMBOL

SHEET_NAME_MAX = 31  # Excel's limit
FILE_STEM_MAX = 100
FIXED_SHEETS = ("Cover", "Contents", "Notes")
RESERVED_SHEETS = frozenset({"history"})  # Excel reserves "History"
LANGUAGE = "en-GB"


@dataclass(frozen=True)
class Link:
    """Text that links to another sheet of the workbook (its cell A1)."""

    text: str
    sheet: str


@dataclass(frozen=True)
class Line:
    """One line of text in column A above a table; a heading is shown as one."""

    text: str
    link: str | None = None  # a sheet to link to
    heading: bool = False


@dataclass(frozen=True)
class Sheet:
    """A worksheet: a title in A1, lines of text under it, then at most one table."""

    name: str
    title: str
    lines: tuple[Line, ...]
    table: Layout | None = None
    table_name: str = ""


@dataclass(frozen=True)
class Properties:
    """Document properties: what the file is, by whom, in which language."""

    title: str
    subject: str
    creator: str
    description: str
    keywords: tuple[str, ...] = ()
    language: str = LANGUAGE
    created: date | None = None


@dataclass(frozen=True)
class Workbook:
    """Every sheet in order, and the document's properties."""

    sheets: tuple[Sheet, ...]
    properties: Properties
    notes: tuple[tuple[str, str], ...] = field(default=())  # (marker, text)


def _clean(name: str, *, keep: str = r"\w\-") -> str:
    text = re.sub(rf"[^{keep}]+", "_", name.strip()).strip("_'")
    return text or "table"


def unique_names(names: Iterable[str], *, limit: int, taken: Iterable[str] = ()) -> list[str]:
    """Names made acceptable and unique without regard to case, each at most ``limit`` long."""
    used = {t.casefold() for t in taken}
    out: list[str] = []
    for name in names:
        base = _clean(name)[:limit]
        candidate, n = base, 1
        while candidate.casefold() in used or candidate.casefold() in RESERVED_SHEETS:
            n += 1
            suffix = f"_{n}"
            candidate = base[: limit - len(suffix)] + suffix
        used.add(candidate.casefold())
        out.append(candidate)
    return out


def sheet_names(table_names: Sequence[str]) -> list[str]:
    """Sheet names for the tables: no spaces or ``[]:*?/\\``, 31 characters, none shared."""
    return unique_names(table_names, limit=SHEET_NAME_MAX, taken=FIXED_SHEETS)


def file_stems(names: Sequence[str], *, taken: Iterable[str] = ()) -> list[str]:
    """File names (without suffix) that differ even on a file system that ignores case."""
    return unique_names(names, limit=FILE_STEM_MAX, taken=taken)


def table_name(sheet: str) -> str:
    """The name of the table object on ``sheet``: starts with a letter, never a cell address."""
    return "t_" + re.sub(r"[^A-Za-z0-9_]", "_", sheet)


def numbered_notes(texts: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The notes as (``[note N]``, text), numbered from 1 in the order given."""
    return tuple((f"[note {i}]", text) for i, text in enumerate(texts, start=1))


@dataclass(frozen=True)
class TableSheet:
    """A table of the release as it goes on its sheet."""

    sheet: str
    title: str
    layout: Layout
    lines: tuple[str, ...] = ()


def build_workbook(
    *,
    title: str,
    cover: Sequence[Line],
    notes: Sequence[str],
    tables: Sequence[TableSheet],
    properties: Properties,
) -> Workbook:
    """Cover, contents (linked), notes (numbered), then one sheet per table."""
    marked = numbered_notes(notes)
    contents_rows: list[tuple[object, ...]] = [
        (Link("Notes", "Notes"), "Notes used in this workbook"),
        *((Link(t.sheet, t.sheet), t.title) for t in tables),
    ]
    contents = Sheet(
        name="Contents",
        title="Contents",
        lines=(
            Line("This worksheet contains one table. Each worksheet name links to that sheet."),
        ),
        table=Layout(
            header=("Worksheet name", "Worksheet title"),
            kinds=("text", "text"),
            rows=tuple(contents_rows),
            decimals=0,
        ),
        table_name=table_name("Contents"),
    )
    notes_sheet = Sheet(
        name="Notes",
        title="Notes",
        lines=(Line("This worksheet contains one table. Tables refer to these notes by number."),),
        table=Layout(
            header=("Note number", "Note text"),
            kinds=("text", "text"),
            rows=tuple(marked),
            decimals=0,
        ),
        table_name=table_name("Notes"),
    )
    cover_sheet = Sheet(name="Cover", title=title, lines=tuple(cover))
    sheets = [cover_sheet, contents, notes_sheet]
    for t in tables:
        lines = (
            Line("This worksheet contains one table. Notes are on the Notes worksheet.", "Notes"),
            *(Line(text) for text in t.lines),
        )
        sheets.append(
            Sheet(
                name=t.sheet,
                title=t.title,
                lines=lines,
                table=t.layout,
                table_name=table_name(t.sheet),
            )
        )
    return Workbook(sheets=tuple(sheets), properties=properties, notes=marked)


SYMBOLS = (
    f"{CONFIDENTIAL_SYMBOL} = confidential",
    f"{NOT_AVAILABLE_SYMBOL} = not available",
)
