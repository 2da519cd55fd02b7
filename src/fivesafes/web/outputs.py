"""What the request page shows of an output beyond its table: the changes a new version made
and safe previews of file outputs.

A file output is data the author made; the browser must never run it. Images are served
from their own endpoint with their content type only when the bytes are what the name says,
under ``Content-Security-Policy: sandbox``; SVG, HTML and any other text is shown as escaped
source; CSV as a table whose fields are shown inert (no markup, never a spreadsheet formula);
PDF and anything else is downloaded, never rendered in the page.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from itertools import islice
from pathlib import PurePosixPath

from starlette.responses import Response

from fivesafes.release.submission import FileSubmission, TableSubmission
from fivesafes.sdc import build_view, entry_text

SHOWN_CHANGES = 500
PREVIEW_BYTES = 1_000_000  # text and CSV previews show at most this much
CSV_ROWS = 500

# name suffix -> (content type, the bytes it must start with)
IMAGES = {
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
}
PDF = (".pdf", b"%PDF-")
SOURCE_TEXT = {".svg", ".html", ".htm", ".xml", ".txt", ".md", ".json", ".tex", ".log"}
# the served file: never run, never framed, never sniffed into something else
SANDBOX = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class CellChange:
    """One cell whose published entry or status differs between two versions."""

    codes: tuple[str, ...]
    before: str  # "" when the cell is new
    after: str  # "" when the cell was dropped


def _entries(table: TableSubmission) -> dict[tuple[str, ...], str]:
    view = build_view(table.name, table.cells, table.hierarchies, checker=True)
    out = {}
    for row in view.rows:
        status = row.status.value if row.status is not None else "missing"
        out[row.codes] = f"{entry_text(row)} ({status})"
    return out


def table_changes(before: TableSubmission, after: TableSubmission) -> list[CellChange]:
    """Every cell whose true value or status changed, appeared or went, in ``after``'s order."""
    old, new = _entries(before), _entries(after)
    changes = [
        CellChange(codes, old.get(codes, ""), shown)
        for codes, shown in new.items()
        if old.get(codes) != shown
    ]
    changes += [CellChange(codes, shown, "") for codes, shown in old.items() if codes not in new]
    return changes


@dataclass(frozen=True)
class Preview:
    """How the page shows a file output."""

    kind: str  # image | pdf | csv | source | download
    name: str
    size: int
    rows: tuple[tuple[str, ...], ...] = ()  # csv
    text: str = ""  # source
    cut: bool = False  # the preview shows only the start


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lower()


def image_type(f: FileSubmission) -> str | None:
    """The image content type, only when the name and the first bytes agree."""
    known = IMAGES.get(_suffix(f.name))
    if known is None or not f.content.startswith(known[1]):
        return None
    return known[0]


def preview(f: FileSubmission) -> Preview:
    """Decide how ``f`` is shown (never as live markup)."""
    suffix, size = _suffix(f.name), len(f.content)
    if image_type(f) is not None:
        return Preview("image", f.name, size)
    if suffix == PDF[0] and f.content.startswith(PDF[1]):
        return Preview("pdf", f.name, size)
    head = f.content[:PREVIEW_BYTES]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return Preview("download", f.name, size)
    cut = size > PREVIEW_BYTES
    if suffix == ".csv":
        try:
            rows = tuple(tuple(r) for r in islice(csv.reader(io.StringIO(text)), CSV_ROWS + 1))
        except csv.Error:  # not CSV after all: its source
            return Preview("source", f.name, size, text=text, cut=cut)
        return Preview("csv", f.name, size, rows=rows[:CSV_ROWS], cut=cut or len(rows) > CSV_ROWS)
    if suffix in SOURCE_TEXT:
        return Preview("source", f.name, size, text=text, cut=cut)
    return Preview("download", f.name, size)


def served(f: FileSubmission) -> Response:
    """The file's bytes for the preview: an image as itself, anything else as a download."""
    kind = image_type(f)
    headers = dict(SANDBOX)
    if kind is None:
        kind = "application/pdf" if _suffix(f.name) == PDF[0] else "application/octet-stream"
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in f.name)[:100]
        headers["Content-Disposition"] = f'attachment; filename="{safe or "output"}"'
    return Response(f.content, media_type=kind, headers=headers)
