"""Write a release workbook as XLSX (openpyxl, streamed: the time grows with the cells).

Every text cell is stored as a string, never a formula, whatever it starts with
(a code ``=HYPERLINK(...)`` stays text); numbers are numbers with a number format;
each table is an Excel table (header row, filter buttons) so screen readers and
tools find it; the title is in A1 with the Heading 1 style; the document
properties say what the file is.
"""

from __future__ import annotations

import io
import warnings
from datetime import datetime, time
from typing import Any

from openpyxl import Workbook as XlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from fivesafes.release.layout import Layout
from fivesafes.release.spreadsheet import Line, Link, Sheet, Workbook
from fivesafes.sdc import xlsx_text

TITLE_STYLE = "Headline 1"  # Excel's built-in "Heading 1"
MAX_WIDTH = 60
NUMBER_FORMATS = {0: "#,##0", 2: "#,##0.00"}


def write_xlsx(book: Workbook) -> bytes:
    """The workbook as XLSX bytes."""
    wb = XlWorkbook(write_only=True)
    _properties(wb, book)
    for sheet in book.sheets:
        _sheet(wb, sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _properties(wb: Any, book: Workbook) -> None:
    p = book.properties
    props = wb.properties
    props.title = p.title
    props.subject = p.subject
    props.creator = p.creator
    props.lastModifiedBy = p.creator
    props.description = p.description
    props.keywords = ", ".join(p.keywords)
    props.language = p.language
    if p.created is not None:
        props.created = datetime.combine(p.created, time())


def _text(ws: Any, value: str, **style: Any) -> Any:
    cell = xlsx_text(WriteOnlyCell(ws), value)
    for key, v in style.items():
        setattr(cell, key, v)
    return cell


def _link(ws: Any, text: str, sheet: str) -> Any:
    cell = _text(ws, text, font=Font(color="0563C1", underline="single"))
    cell.hyperlink = Hyperlink(ref="A1", location=f"'{sheet}'!A1", display=text)
    return cell


def _line(ws: Any, line: Line) -> Any:
    if line.link is not None:
        return _link(ws, line.text, line.link)
    if line.heading:
        return _text(ws, line.text, font=Font(bold=True, size=12))
    return _text(ws, line.text)


def _sheet(wb: Any, sheet: Sheet) -> None:
    ws = wb.create_sheet(sheet.name)
    title = WriteOnlyCell(ws)
    xlsx_text(title, sheet.title)
    title.style = TITLE_STYLE
    _widths(ws, sheet)
    ws.append([title])
    for line in sheet.lines:
        ws.append([_line(ws, line)])
    if sheet.table is None:
        return
    first_row = 2 + len(sheet.lines)
    _table(ws, sheet.table, first_row, sheet.table_name)


def _table(ws: Any, layout: Layout, first_row: int, name: str) -> None:
    bold = Font(bold=True)
    ws.append([_text(ws, h, font=bold, alignment=Alignment(wrap_text=True)) for h in layout.header])
    number_format = NUMBER_FORMATS[layout.decimals]
    right = Alignment(horizontal="right")
    for row in layout.rows:
        out = []
        for value, kind in zip(row, layout.kinds, strict=True):
            if isinstance(value, Link):
                out.append(_link(ws, value.text, value.sheet))
            elif isinstance(value, str):
                out.append(
                    _text(ws, value, alignment=right) if kind == "value" else _text(ws, value)
                )
            elif value is None:
                out.append(WriteOnlyCell(ws))
            else:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = number_format if kind == "value" else "0"
                out.append(cell)
        ws.append(out)
    last_row = first_row + len(layout.rows)
    ref = f"A{first_row}:{get_column_letter(len(layout.header))}{last_row}"
    table = Table(displayName=name, ref=ref)
    # a streamed sheet cannot be read back, so the columns are named here (openpyxl
    # would otherwise read the header cells)
    table.tableColumns = [TableColumn(id=i, name=h) for i, h in enumerate(layout.header, start=1)]
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
    with warnings.catch_warnings():
        # openpyxl warns that write-only tables need their columns set by hand: they are
        warnings.simplefilter("ignore", UserWarning)
        ws.add_table(table)


def _widths(ws: Any, sheet: Sheet) -> None:
    widths: dict[int, int] = {1: 12}
    if sheet.table is not None:
        for i, h in enumerate(sheet.table.header, start=1):
            widths[i] = max(widths.get(i, 0), min(MAX_WIDTH, len(h) + 2))
        for row in sheet.table.rows[:500]:  # a sample is enough for a width
            for i, v in enumerate(row, start=1):
                text = v.text if isinstance(v, Link) else f"{v:,}" if isinstance(v, int) else str(v)
                widths[i] = max(widths[i], min(MAX_WIDTH, len(text) + 2))
    for i, w in widths.items():
        ws.column_dimensions[get_column_letter(i)].width = w
