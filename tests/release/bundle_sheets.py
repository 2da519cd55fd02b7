"""Read back what a bundle's XLSX and ODS hold, the same way for both (for checklist tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from odf import dc
from odf.namespaces import TABLENS, TEXTNS, XLINKNS
from odf.opendocument import load as load_ods
from odf.table import DatabaseRange, Table, TableCell, TableHeaderRows, TableRow
from openpyxl import load_workbook


@dataclass
class Cell:
    value: object  # str, float/int, or None
    kind: str  # "s" (text), "n" (number), "f" (formula), "" (empty)
    number_format: str = ""
    link: str | None = None  # target sheet of an internal link


@dataclass
class SheetData:
    name: str
    rows: list[list[Cell]]
    tables: list[tuple[str, int, int, int]] = field(default_factory=list)  # name, r0, r1, ncols
    header_rows: list[int] = field(default_factory=list)  # ODS table-header-rows (1-based)

    def values(self) -> list[list[object]]:
        return [[c.value for c in row] for row in self.rows]


@dataclass
class Book:
    sheets: dict[str, SheetData]
    properties: dict[str, str]


def read_xlsx(path: Path) -> Book:
    wb = load_workbook(path)
    sheets: dict[str, SheetData] = {}
    for ws in wb:
        rows = []
        for row in ws.iter_rows():
            cells = []
            for c in row:
                kind = "" if c.value is None else c.data_type
                link = None
                if c.hyperlink is not None and c.hyperlink.location:
                    link = c.hyperlink.location.split("!")[0].strip("'")
                cells.append(Cell(c.value, kind, c.number_format, link))
            rows.append(cells)
        tables = []
        for name, ref in ws.tables.items():
            start, end = ref.split(":")
            r0 = int("".join(ch for ch in start if ch.isdigit()))
            r1 = int("".join(ch for ch in end if ch.isdigit()))
            tables.append((name, r0, r1, len(ws.tables[name].tableColumns)))
        sheets[ws.title] = SheetData(ws.title, rows, tables)
    p = wb.properties
    props = {
        "title": p.title or "",
        "creator": p.creator or "",
        "language": p.language or "",
        "subject": p.subject or "",
        "description": p.description or "",
    }
    return Book(sheets, props)


def _text(node) -> str:
    return "".join((n.data if n.nodeType == n.TEXT_NODE else _text(n)) for n in node.childNodes)


def _ods_cell(cell, styles: dict[str, str]) -> Cell:
    vt = cell.getAttrNS("urn:oasis:names:tc:opendocument:xmlns:office:1.0", "value-type")
    if cell.getAttrNS(TABLENS, "formula"):
        return Cell(cell.getAttrNS(TABLENS, "formula"), "f")
    link = None
    for a in cell.getElementsByType(__import__("odf.text", fromlist=["A"]).A):
        href = a.getAttrNS(XLINKNS, "href") or ""
        link = href.lstrip("#").split(".")[0].strip("'")
    style = cell.getAttrNS(TABLENS, "style-name") or ""
    if vt == "float":
        raw = float(cell.getAttrNS("urn:oasis:names:tc:opendocument:xmlns:office:1.0", "value"))
        value: object = int(raw) if raw.is_integer() else raw
        return Cell(value, "n", styles.get(style, ""), link)
    if vt == "string":
        return Cell(_text(cell), "s", "", link)
    return Cell(None, "")


def read_ods(path: Path) -> Book:
    doc = load_ods(str(path))
    styles: dict[str, str] = {}
    for s in doc.automaticstyles.childNodes:
        name = s.getAttribute("name") if s.qname[1] == "style" else None
        if name and s.getAttribute("datastylename"):
            styles[name] = s.getAttribute("datastylename")
    sheets: dict[str, SheetData] = {}
    for t in doc.spreadsheet.getElementsByType(Table):
        rows: list[list[Cell]] = []
        header_rows: list[int] = []
        for tr in t.getElementsByType(TableRow):
            if tr.parentNode.qname == TableHeaderRows().qname:
                header_rows.append(len(rows) + 1)
            rows.append([_ods_cell(c, styles) for c in tr.getElementsByType(TableCell)])
        name = t.getAttribute("name")
        sheets[name] = SheetData(name, rows, header_rows=header_rows)
    for r in doc.spreadsheet.getElementsByType(DatabaseRange):
        target = r.getAttribute("targetrangeaddress")
        start, end = target.split(":")
        sheet = start.split(".")[0].strip("'")
        r0 = int("".join(ch for ch in start.split(".")[1] if ch.isdigit()))
        r1 = int("".join(ch for ch in end.split(".")[1] if ch.isdigit()))
        letters = "".join(ch for ch in end.split(".")[1] if ch.isalpha())
        ncols = 0
        for ch in letters:
            ncols = ncols * 26 + ord(ch) - 64
        assert r.getAttribute("containsheader") == "true"
        sheets[sheet].tables.append((r.getAttribute("name"), r0, r1, ncols))
    meta = doc.meta
    props = {
        "title": _first(meta, dc.Title),
        "creator": _first(meta, dc.Creator),
        "language": _first(meta, dc.Language),
        "subject": _first(meta, dc.Subject),
        "description": _first(meta, dc.Description),
    }
    return Book(sheets, props)


def _first(meta, kind) -> str:
    found = meta.getElementsByType(kind)
    return _text(found[0]) if found else ""


def read_book(path: Path) -> Book:
    return read_xlsx(path) if path.suffix == ".xlsx" else read_ods(path)


__all__ = ["TEXTNS", "Book", "Cell", "SheetData", "read_book", "read_ods", "read_xlsx"]
