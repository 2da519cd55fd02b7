"""Read a hierarchy file in any format fivesafes knows, and write one in any of them.

=========  ==================================================================
format     file
=========  ==================================================================
csv        ``code,parent[,label]`` (fivesafes' own; parent empty for the root)
hrc        tau-Argus ``.hrc``: one code per line, ``@`` per level below the top
sdc        sdcTable / sdcHierarchies data frame as CSV: ``level,name`` (``@``...)
=========  ==================================================================

A ``.hrc`` file is recognised by its suffix; a CSV by its header.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Literal

from fivesafes.errors import HierarchyError
from fivesafes.sdc.formats.hrc import hrc_text, read_hrc
from fivesafes.sdc.formats.sdchier import looks_like_sdc, read_sdc, sdc_text
from fivesafes.sdc.hierarchy import DEFAULT_TOTAL_CODE, Hierarchy, refuse_control_characters

HierarchyFormat = Literal["csv", "hrc", "sdc"]
HIERARCHY_FORMATS: tuple[str, ...] = ("csv", "hrc", "sdc")


def detect_format(path: Path) -> HierarchyFormat:
    """The format of a hierarchy file: ``.hrc`` by suffix, a CSV by its header line."""
    if path.suffix.lower() == ".hrc":
        return "hrc"
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return "csv"  # the CSV reader gives the precise error
    return "sdc" if looks_like_sdc(header) else "csv"


def load_hierarchy(
    name: str, path: str | Path, *, total_code: str = DEFAULT_TOTAL_CODE
) -> Hierarchy:
    """The hierarchy of dimension ``name`` from a file in any known format."""
    path = Path(path)
    if not path.is_file():
        raise HierarchyError(
            f"hierarchy file for '{name}' not found: {path}",
            hint="give a CSV with columns code,parent, a tau-Argus .hrc file or an "
            "sdcHierarchies level,name CSV (paths are relative to the spec file)",
        )
    fmt = detect_format(path)
    if fmt == "hrc":
        h = read_hrc(name, path, total_code=total_code)
    elif fmt == "sdc":
        h = read_sdc(name, path)
    else:
        h = Hierarchy.from_csv(name, path)
    return refuse_control_characters(h, from_data=False)


def hierarchy_text(h: Hierarchy, fmt: str) -> str:
    """The hierarchy as the text of a file in format ``fmt`` (csv, hrc or sdc)."""
    if fmt == "hrc":
        return hrc_text(h)
    if fmt == "sdc":
        return sdc_text(h)
    if fmt != "csv":
        raise HierarchyError(
            f"unknown hierarchy format {fmt!r}", hint=f"use one of {HIERARCHY_FORMATS}"
        )
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    labelled = bool(h.labels)
    w.writerow(["code", "parent", "label"] if labelled else ["code", "parent"])
    for code in h.order:
        row = [code, h.parent[code] or ""]
        w.writerow([*row, h.labels.get(code, "")] if labelled else row)
    return buf.getvalue()
