"""A protected table as input for tau-Argus or sdcTable, to compare the tools side by side.

Both exports carry the same table (every cell, its value and counts), the same
hierarchies and fivesafes' primary cells with their required protection, so the
other tool starts from the same problem. Its answer comes back through
``fivesafes table audit --status-map argus|sdctable``. The files hold every cell's
true value: they are as confidential as cells.csv.

tau-Argus (table input): ``NAME.tab`` (one line per cell, no header), ``NAME.rda``
(the metadata: columns, totals, hierarchies, status markers), ``NAME_DIM.hrc`` per
hierarchical dimension. sdcTable: ``NAME_sdctable.csv`` (the inner cells:
dimensions, ``freq``, ``value``: the table without microdata; sdcTable adds the
subtotals itself), ``NAME_hier_DIM.csv`` per dimension (sdcHierarchies
``level,name``) and ``NAME_fivesafes.csv`` (every cell with fivesafes' status as
``sdcStatus``: ``u`` primary, ``x`` secondary, ``s`` safe).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fivesafes.errors import SpecError
from fivesafes.sdc.cells import CONTRIBUTORS, LOWER, RECORDS, STATUS, UPPER, VALUE, Status
from fivesafes.sdc.formats.hrc import LEAD, hrc_text
from fivesafes.sdc.formats.sdchier import sdc_text
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.outputs.writers import write_all

EXPORT_TOOLS = ("argus", "sdctable")
ARGUS_SAFE, ARGUS_UNSAFE, ARGUS_PROTECT = "S", "U", "P"
SDC_STATUS = {Status.SAFE.value: "s", Status.PRIMARY.value: "u", Status.SECONDARY.value: "x"}


def _stem(name: str) -> str:
    return re.sub(r"[^\w\-]+", "_", name).strip("_") or "table"


def _number(v: float) -> str:
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)


def _frequency(cells: pd.DataFrame) -> pd.Series:
    # tau-Argus' FREQUENCY and sdcTable's freq: the contributors (units) in a cell
    column = CONTRIBUTORS if CONTRIBUTORS in cells.columns else RECORDS
    if column not in cells.columns:
        return pd.Series(np.zeros(len(cells), dtype=np.int64), index=cells.index)
    return cells[column].fillna(0).astype(np.int64)


def argus_files(
    name: str, cells: pd.DataFrame, hierarchies: Sequence[Hierarchy]
) -> dict[str, bytes]:
    """tau-Argus table input: NAME.tab, NAME.rda and an .hrc per hierarchical dimension."""
    stem = _stem(name)
    dims = [h.name for h in hierarchies]
    has_protection = LOWER in cells.columns and UPPER in cells.columns
    status = cells[STATUS].astype(str)
    freq = _frequency(cells)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for i in range(len(cells)):
        row = [str(cells[d].iloc[i]) for d in dims]
        row += [_number(cells[VALUE].iloc[i]), str(int(freq.iloc[i]))]
        if has_protection:
            row += [_number(cells[LOWER].iloc[i]), _number(cells[UPPER].iloc[i])]
        # fivesafes' primary cells are unsafe for tau-Argus; it chooses the secondaries
        row.append(ARGUS_UNSAFE if status.iloc[i] == Status.PRIMARY.value else ARGUS_SAFE)
        w.writerow(row)
    files = {f"{stem}.tab": buf.getvalue().encode("utf-8")}
    rda = [
        '    <SEPARATOR> ","',
        f'    <SAFE> "{ARGUS_SAFE}"',
        f'    <UNSAFE> "{ARGUS_UNSAFE}"',
        f'    <PROTECT> "{ARGUS_PROTECT}"',
    ]
    for h in hierarchies:
        rda += [h.name, "    <RECODEABLE>", f'    <TOTCODE> "{h.root}"']
        if h.max_depth > 1:
            hrc = f"{stem}_{_stem(h.name)}.hrc"
            files[hrc] = hrc_text(h).encode("utf-8")
            rda += ["    <HIERARCHICAL>", f'    <HIERCODELIST> "{hrc}"']
            rda.append(f'    <HIERLEADSTRING> "{LEAD}"')
    rda += [VALUE, "    <NUMERIC>", "    <DECIMALS> 6", "freq", "    <FREQUENCY>"]
    if has_protection:
        rda += [LOWER, "    <LOWERPL>", UPPER, "    <UPPERPL>"]
    rda += [STATUS, "    <STATUS>"]
    files[f"{stem}.rda"] = ("\n".join(rda) + "\n").encode("utf-8")
    return files


def sdctable_files(
    name: str, cells: pd.DataFrame, hierarchies: Sequence[Hierarchy]
) -> dict[str, bytes]:
    """sdcTable input: the inner cells, the hierarchies, and every cell with fivesafes' status."""
    stem = _stem(name)
    dims = [h.name for h in hierarchies]
    freq = _frequency(cells)
    inner = np.ones(len(cells), dtype=bool)
    for h in hierarchies:
        leaves = set(h.leaves)
        inner &= cells[h.name].astype(str).isin(leaves).to_numpy()
    table = pd.DataFrame({d: cells[d].astype(str) for d in dims})
    table["freq"] = freq.to_numpy()
    table["value"] = cells[VALUE].astype(float).to_numpy()
    files = {f"{stem}_sdctable.csv": table[inner].to_csv(index=False).encode("utf-8")}
    for h in hierarchies:
        files[f"{stem}_hier_{_stem(h.name)}.csv"] = sdc_text(h).encode("utf-8")
    full = table.copy()
    full["sdcStatus"] = [SDC_STATUS.get(s, "u") for s in cells[STATUS].astype(str)]
    files[f"{stem}_fivesafes.csv"] = full.to_csv(index=False).encode("utf-8")
    return files


def export_table(
    tool: str,
    name: str,
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    out_dir: str | Path,
) -> dict[str, Path]:
    """Write the table's files for ``tool`` (argus or sdctable) into ``out_dir``, all or none."""
    if tool == "argus":
        files = argus_files(name, cells, hierarchies)
    elif tool == "sdctable":
        files = sdctable_files(name, cells, hierarchies)
    else:
        raise SpecError(f"unknown tool {tool!r}", hint=f"use one of {', '.join(EXPORT_TOOLS)}")
    return write_all(Path(out_dir), {n: _bytes_writer(data) for n, data in files.items()})


def _bytes_writer(data: bytes) -> Callable[[Path], object]:
    return lambda p: p.write_bytes(data)
