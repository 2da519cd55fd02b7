"""sdcTable / sdcHierarchies hierarchy data frames, exported as CSV.

``sdcHierarchies::hier_convert(tree, "df")`` gives two columns, ``level`` and
``name``: the level is as many ``@`` as the code's level, ``@`` for the overall
total, ``@@`` for the codes directly under it, and so on, top to bottom (sdcTable's
own examples call the columns ``levels`` and ``codes``)::

    level,name
    @,Total
    @@,N
    @@@,N1
    @@,S

R's ``write.csv`` adds a first column of row numbers unless ``row.names = FALSE``;
it is recognised and ignored.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from fivesafes.errors import HierarchyError
from fivesafes.sdc.hierarchy import Hierarchy

LEVEL_COLUMNS = ("level", "levels")
NAME_COLUMNS = ("name", "codes", "code")
_LEVEL = re.compile(r"@+")


def looks_like_sdc(header: list[str]) -> bool:
    """True when a CSV header is that of an sdcTable/sdcHierarchies hierarchy."""
    cols = [h.strip().strip('"').lower() for h in header]
    return any(c in LEVEL_COLUMNS for c in cols) and any(c in NAME_COLUMNS for c in cols)


def parse_sdc(name: str, text: str, *, where: str = "the hierarchy file") -> Hierarchy:
    """A hierarchy from the CSV text of an sdcHierarchies data frame (``level``, ``name``)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise HierarchyError(f"{where} is empty", hint="the first line should read: level,name")
    header = [h.strip().lower() for h in rows[0]]
    try:
        li = next(i for i, h in enumerate(header) if h in LEVEL_COLUMNS)
        ni = next(i for i, h in enumerate(header) if h in NAME_COLUMNS)
    except StopIteration:
        raise HierarchyError(
            f"{where} has no 'level' and 'name' columns (found {rows[0]})",
            hint="export the hierarchy with sdcHierarchies::hier_convert(tree, 'df') and "
            "write.csv(..., row.names = FALSE)",
        ) from None
    pairs: list[tuple[str, str | None]] = []
    stack: list[str] = []  # stack[d] = the latest code at depth d
    seen: dict[str, int] = {}
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(li, ni):
            raise HierarchyError(f"{where}, line {lineno}: too few fields")
        level, code = row[li].strip(), row[ni].strip()
        if not _LEVEL.fullmatch(level):
            raise HierarchyError(
                f"{where}, line {lineno}: level {level!r} is not a string of '@'",
                hint="'@' is the total, '@@' a code directly under it, and so on",
            )
        if not code:
            raise HierarchyError(f"{where}, line {lineno}: empty code")
        depth = len(level) - 1
        if not pairs and depth != 0:
            raise HierarchyError(
                f"{where}, line {lineno}: the first code must be the total (level '@')",
                hint="sdcHierarchies data frames start with the overall total",
            )
        if pairs and depth == 0:
            raise HierarchyError(
                f"{where}, line {lineno}: a second total ({code!r}, level '@')",
                hint="only the first row has level '@'",
            )
        if depth > len(stack):
            raise HierarchyError(
                f"{where}, line {lineno}: code {code!r} skips a level ({level!r} after "
                f"{'@' * len(stack)!r})",
                hint="a code can be at most one level below the code on the line before it",
            )
        if code in seen:
            raise HierarchyError(
                f"{where}, line {lineno}: code {code!r} appears twice (first on line {seen[code]})"
            )
        seen[code] = lineno
        del stack[depth:]
        pairs.append((code, stack[depth - 1] if depth else None))
        stack.append(code)
    if not pairs:
        raise HierarchyError(f"{where} has a header but no codes")
    return Hierarchy.from_pairs(name, pairs)


def sdc_text(h: Hierarchy) -> str:
    """The hierarchy as an sdcHierarchies data frame in CSV (``level,name``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["level", "name"])
    for code in h.order:
        w.writerow(["@" * (h.depth[code] + 1), code])
    return buf.getvalue()


def read_sdc(name: str, path: str | Path) -> Hierarchy:
    """Read an sdcHierarchies data frame saved as CSV."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HierarchyError(
            f"hierarchy file {path} is not UTF-8 text (byte {exc.start} cannot be read)",
            hint="write it with write.csv(..., fileEncoding = 'UTF-8')",
        ) from exc
    return parse_sdc(name, text, where=str(path))
