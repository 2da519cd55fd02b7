"""Read a protected table back from disk: its cells.csv and the hierarchies of its spec.

The one reader used by ``table audit``, release submission and stored outputs: codes
stay strings (``01`` stays ``01``, ``NA`` stays ``NA``), an empty field is missing, and
an unreadable file is a DataError whose message names the file and the failure, never
a cell's value.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from fivesafes.errors import DataError
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import TableSpec


def read_cells(
    source: Path | str, dimensions: Sequence[str], *, name: str | None = None
) -> pd.DataFrame:
    """A cells.csv (a path, or its text) with codes as strings; empty fields are missing.

    ``name`` is how errors call the file (default: the path). Raises DataError when the
    file is missing or is not a UTF-8 CSV table.
    """
    where = name if name is not None else str(source)
    if isinstance(source, Path):
        if not source.is_file():
            raise DataError(f"cells file not found: {source}", hint="give the cells.csv to read")
        handle: Path | io.StringIO = source
    else:
        handle = io.StringIO(source)
    try:
        return pd.read_csv(
            handle,
            dtype=dict.fromkeys(dimensions, str),
            keep_default_na=False,
            na_values=[""],
        )
    except (ValueError, pd.errors.ParserError) as exc:  # EmptyDataError, UnicodeDecodeError too
        # The message of a parser error may quote a line: name only its kind.
        raise DataError(
            f"{where} is not a UTF-8 CSV table ({type(exc).__name__})",
            hint="give the cells.csv written by `fivesafes table protect`, or a CSV with one "
            "column per dimension",
        ) from None


def spec_hierarchies(spec: TableSpec, cells: pd.DataFrame) -> tuple[Hierarchy, ...]:
    """Each dimension's hierarchy: its file, or a flat list of the codes in the cells."""
    out = []
    for dim in spec.dimensions:
        if dim.hierarchy is not None:
            out.append(Hierarchy.from_csv(dim.name, dim.hierarchy))
        else:
            codes = [c for c in cells[dim.name].dropna().unique() if c != dim.total_code]
            out.append(Hierarchy.flat(dim.name, codes, total=dim.total_code))
    return tuple(out)
