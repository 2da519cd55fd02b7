"""Write a release workbook as ODS (odfpy): the same sheets as the XLSX.

Text cells are ``office:value-type="string"`` and no cell has a formula, so a code
starting with ``=`` stays text; numbers are ``float`` cells with a number style
(thousands separator, fixed decimals); each table's header row is a
``table:table-header-rows`` and the table is a named database range with a header,
which is what LibreOffice and assistive tools know as a table; the title is in A1;
the document properties (``dc:title``, ``dc:language``, ...) say what the file is.
"""

from __future__ import annotations

import io
from datetime import datetime, time
from typing import Any

from odf import dc, meta
from odf.number import Number, NumberStyle
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import (
    ParagraphProperties,
    Style,
    TableCellProperties,
    TableColumnProperties,
    TextProperties,
)
from odf.table import (
    DatabaseRange,
    DatabaseRanges,
    Table,
    TableCell,
    TableColumn,
    TableHeaderRows,
    TableRow,
)
from odf.text import A, P

from fivesafes.release.layout import Layout
from fivesafes.release.spreadsheet import Line, Link, Sheet, Workbook

MAX_WIDTH_CM = 12.0


def write_ods(book: Workbook) -> bytes:
    """The workbook as ODS bytes."""
    doc = OpenDocumentSpreadsheet()
    _properties(doc, book)
    styles = _styles(doc)
    ranges = DatabaseRanges()
    for index, sheet in enumerate(book.sheets):
        doc.spreadsheet.addElement(_sheet(doc, index, sheet, styles, ranges))
    if ranges.childNodes:
        doc.spreadsheet.addElement(ranges)
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


def _properties(doc: Any, book: Workbook) -> None:
    p = book.properties
    doc.meta.addElement(dc.Title(text=p.title))
    doc.meta.addElement(dc.Subject(text=p.subject))
    doc.meta.addElement(dc.Description(text=p.description))
    doc.meta.addElement(dc.Language(text=p.language))
    doc.meta.addElement(dc.Creator(text=p.creator))
    doc.meta.addElement(meta.InitialCreator(text=p.creator))
    for word in p.keywords:
        doc.meta.addElement(meta.Keyword(text=word))
    if p.created is not None:
        doc.meta.addElement(meta.CreationDate(text=datetime.combine(p.created, time()).isoformat()))


def _styles(doc: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for decimals in (0, 2):
        number = NumberStyle(name=f"num{decimals}")
        number.addElement(Number(decimalplaces=decimals, grouping="true", minintegerdigits=1))
        doc.automaticstyles.addElement(number)
        cell = Style(name=f"value{decimals}", family="table-cell", datastylename=f"num{decimals}")
        doc.automaticstyles.addElement(cell)
        out[f"value{decimals}"] = cell
    title = Style(name="title", family="table-cell")
    title.addElement(TextProperties(fontweight="bold", fontsize="14pt"))
    header = Style(name="header", family="table-cell")
    header.addElement(TextProperties(fontweight="bold"))
    header.addElement(TableCellProperties(wrapoption="wrap"))
    heading = Style(name="heading", family="table-cell")
    heading.addElement(TextProperties(fontweight="bold", fontsize="12pt"))
    symbol = Style(name="symbol", family="table-cell")
    symbol.addElement(ParagraphProperties(textalign="end"))
    for s in (title, header, heading, symbol):
        doc.automaticstyles.addElement(s)
        out[str(s.getAttribute("name"))] = s
    return out


def _column_style(doc: Any, sheet: int, index: int, cm: float) -> Any:
    style = Style(name=f"co{sheet}_{index}", family="table-column")
    style.addElement(TableColumnProperties(columnwidth=f"{cm:.2f}cm"))
    doc.automaticstyles.addElement(style)
    return style


def _string(text: str, style: Any = None) -> Any:
    cell = (
        TableCell(valuetype="string", stylename=style) if style else TableCell(valuetype="string")
    )
    cell.addElement(P(text=text))
    return cell


def _link(text: str, sheet: str) -> Any:
    cell = TableCell(valuetype="string")
    p = P()
    p.addElement(A(href=f"#{sheet}.A1", text=text))
    cell.addElement(p)
    return cell


def _row(*cells: Any) -> Any:
    row = TableRow()
    for c in cells:
        row.addElement(c)
    return row


def _line(line: Line, styles: dict[str, Any]) -> Any:
    if line.link is not None:
        return _row(_link(line.text, line.link))
    return _row(_string(line.text, styles["heading"] if line.heading else None))


def _sheet(doc: Any, index: int, sheet: Sheet, styles: dict[str, Any], ranges: Any) -> Any:
    table = Table(name=sheet.name)
    for i, cm in enumerate(_widths(sheet)):
        table.addElement(TableColumn(stylename=_column_style(doc, index, i, cm)))
    table.addElement(_row(_string(sheet.title, styles["title"])))
    for line in sheet.lines:
        table.addElement(_line(line, styles))
    if sheet.table is not None:
        first_row = 2 + len(sheet.lines)
        _table(table, sheet.table, styles)
        last_row = first_row + len(sheet.table.rows)
        last_col = _column_letter(len(sheet.table.header))
        ranges.addElement(
            DatabaseRange(
                name=sheet.table_name,
                targetrangeaddress=f"{sheet.name}.A{first_row}:{sheet.name}.{last_col}{last_row}",
                containsheader="true",
                displayfilterbuttons="true",
            )
        )
    return table


def _table(table: Any, layout: Layout, styles: dict[str, Any]) -> None:
    header = TableHeaderRows()
    header.addElement(_row(*(_string(h, styles["header"]) for h in layout.header)))
    table.addElement(header)
    value_style = styles[f"value{layout.decimals}"]
    for values in layout.rows:
        row = TableRow()
        for value, kind in zip(values, layout.kinds, strict=True):
            if isinstance(value, Link):
                row.addElement(_link(value.text, value.sheet))
            elif isinstance(value, str):
                row.addElement(_string(value, styles["symbol"] if kind == "value" else None))
            elif value is None:
                row.addElement(TableCell())
            else:
                number = float(value)  # type: ignore[arg-type]
                if kind == "value":
                    cell = TableCell(valuetype="float", value=number, stylename=value_style)
                    text = f"{number:,.{layout.decimals}f}"
                else:
                    cell = TableCell(valuetype="float", value=number)
                    text = f"{number:g}"
                cell.addElement(P(text=text))
                row.addElement(cell)
        table.addElement(row)


def _widths(sheet: Sheet) -> list[float]:
    chars: dict[int, int] = {0: 12}
    if sheet.table is not None:
        for i, h in enumerate(sheet.table.header):
            chars[i] = max(chars.get(i, 0), len(h) + 2)
        for row in sheet.table.rows[:500]:
            for i, v in enumerate(row):
                text = v.text if isinstance(v, Link) else str(v)
                chars[i] = max(chars[i], len(text) + 2)
    return [min(MAX_WIDTH_CM, 0.21 * chars[i]) for i in range(max(chars) + 1)]


def _column_letter(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters
