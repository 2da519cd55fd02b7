"""Read a protected table back from disk: its cells.csv and the hierarchies of its spec.

The one reader used by ``table audit``, release submission and stored outputs: codes
stay strings (``01`` stays ``01``, ``NA`` stays ``NA``), an empty field is missing, and
an unreadable file is a DataError whose message names the file and the failure, never
a cell's value.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fivesafes.errors import DataError
from fivesafes.sdc.formats.hierarchies import load_hierarchy
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.outputs.cells_csv import escaped_names, formula_escaped, unescape_cells
from fivesafes.sdc.outputs.writers import REPORT_JSON
from fivesafes.sdc.spec import TableSpec


def read_cells(
    source: Path | str,
    dimensions: Sequence[str],
    *,
    name: str | None = None,
    formula_escaped: bool = False,
) -> pd.DataFrame:
    """A cells.csv (a path, or its text) with codes as strings; empty fields are missing.

    ``name`` is how errors call the file (default: the path). ``formula_escaped``: the
    file's text fields are escaped against spreadsheet formulas (its report.json says
    so, :func:`~fivesafes.sdc.outputs.cells_csv.formula_escaped`): undone here, exactly.
    Raises DataError when the file is missing or is not a UTF-8 CSV table.
    """
    where = name if name is not None else str(source)
    if isinstance(source, Path):
        if not source.is_file():
            raise DataError(f"cells file not found: {source}", hint="give the cells.csv to read")
        handle: Path | io.StringIO = source
    else:
        handle = io.StringIO(source)
    # an escaped header holds a dimension "=x" as "'=x"
    names = escaped_names(dimensions) if formula_escaped else list(dimensions)
    try:
        cells = pd.read_csv(
            handle,
            dtype=dict.fromkeys(names, str),
            keep_default_na=False,
            na_values=[""],
        )
    except (ValueError, pd.errors.ParserError) as exc:  # EmptyDataError, UnicodeDecodeError too
        # The message of a parser error may quote a line: name only its kind.
        latin = (
            " (a file saved as Latin-1 or Windows-1252 looks like this: save it as UTF-8, "
            "in Excel as CSV UTF-8)"
            if isinstance(exc, UnicodeDecodeError)
            else ""
        )
        raise DataError(
            f"{where} is not a UTF-8 CSV table ({type(exc).__name__})",
            hint="give the cells.csv written by `fivesafes table protect`, or a CSV with one "
            "column per dimension" + latin,
        ) from None
    return unescape_cells(cells) if formula_escaped else cells


def read_output_cells(path: Path, dimensions: Sequence[str]) -> pd.DataFrame:
    """The cells.csv at ``path``, unescaped when the report.json beside it says it is.

    A cells.csv without such a report (another tool's, or fivesafes' before it escaped
    its text) is read as it is.
    """
    return read_cells(path, dimensions, formula_escaped=formula_escaped(_report_beside(path)))


def _report_beside(path: Path) -> Any:
    try:
        return json.loads((path.parent / REPORT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no report (another tool's cells), or not JSON
        return None


def spec_hierarchies(spec: TableSpec, cells: pd.DataFrame) -> tuple[Hierarchy, ...]:
    """Each dimension's hierarchy: its file (csv, .hrc or sdc), else the cells' codes, flat."""
    out = []
    for dim in spec.dimensions:
        if dim.hierarchy is not None:
            out.append(load_hierarchy(dim.name, dim.hierarchy, total_code=dim.total_code))
        else:
            codes = [c for c in cells[dim.name].dropna().unique() if c != dim.total_code]
            out.append(Hierarchy.flat(dim.name, codes, total=dim.total_code))
    return tuple(out)
