"""Write a benchmark instance in sdcTable's (and tau-Argus's) input form, for comparison.

One folder per instance:

* ``cells.csv``: every cell (subtotals included) with its codes, ``freq`` (records),
  ``value``, ``status`` in sdcTable's letters (``s`` publishable, ``u`` primary, ``x``
  secondary, ``z`` never suppress: structural zeros) and the required protection
  ``lower_protection``/``upper_protection``;
* ``leaves.csv``: the leaf rows only (what ``sdcTable::makeProblem`` aggregates itself);
* ``primaries.csv``: the codes of the primary cells, for ``change_cellstatus(..., rule="u")``;
* per dimension ``<dim>.csv`` (sdcTable's ``levels``/``codes`` data frame: ``@`` for the
  total, ``@@`` for its children, ...) and ``<dim>.hrc`` (tau-Argus: one code a line,
  one ``@`` per level below the first, the total left out);
* ``README.txt`` with the R lines that load it.

No microdata: the cells are all there is. Kept minimal on purpose (the product's own
tau-Argus/sdcTable exports live in ``fivesafes.sdc.formats``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fivesafes.sdc.hierarchy import Hierarchy

STATUS_LETTER = {"safe": "s", "primary": "u", "secondary": "x"}


def hierarchy_frame(h: Hierarchy) -> pd.DataFrame:
    """sdcTable's levels/codes frame of a hierarchy (depth-first, total first)."""
    return pd.DataFrame(
        {"levels": ["@" * (h.depth[c] + 1) for c in h.order], "codes": list(h.order)}
    )


def hrc_lines(h: Hierarchy) -> list[str]:
    """tau-Argus .hrc lines: every code below the total, one '@' per level below the first."""
    return ["@" * (h.depth[c] - 1) + c for c in h.order if h.depth[c] >= 1]


def export_instance(cells: pd.DataFrame, hierarchies: Sequence[Hierarchy], folder: Path) -> Path:
    """Write one instance (cells with statuses and protection levels, hierarchies) to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    dims = [h.name for h in hierarchies]
    out = cells[dims].astype(str).copy()
    out["freq"] = cells["records"].astype(int) if "records" in cells else 0
    out["value"] = cells["value"].astype(float)
    letters = cells["status"].astype(str).map(STATUS_LETTER).fillna("s").to_numpy(dtype=object)
    if "records" in cells:
        letters = np.where(
            (cells["records"].to_numpy() == 0) & (letters == "s"), "z", letters
        ).astype(object)
    out["status"] = letters
    for col in ("lower_protection", "upper_protection"):
        out[col] = cells[col].astype(float) if col in cells else 0.0
    out.to_csv(folder / "cells.csv", index=False)
    leaf = np.ones(len(cells), dtype=bool)
    for h in hierarchies:
        leaf &= cells[h.name].astype(str).map(lambda c, h=h: h.is_leaf(c)).to_numpy(dtype=bool)
    out.loc[leaf, [*dims, "freq", "value"]].to_csv(folder / "leaves.csv", index=False)
    out.loc[out["status"] == "u", dims].to_csv(folder / "primaries.csv", index=False)
    for h in hierarchies:
        hierarchy_frame(h).to_csv(folder / f"{h.name}.csv", index=False)
        (folder / f"{h.name}.hrc").write_text("\n".join(hrc_lines(h)) + "\n")
    dim_list = ", ".join(f'{d} = read.csv("{d}.csv", colClasses = "character")' for d in dims)
    (folder / "README.txt").write_text(
        "Instance for sdcTable / tau-Argus (written by bench/sdctable_export.py).\n\n"
        "library(sdcTable)\n"
        'leaves <- read.csv("leaves.csv", colClasses = c(rep("character", '
        f'{len(dims)}), "integer", "numeric"))\n'
        f"dims <- list({dim_list})\n"
        'prob <- makeProblem(data = leaves, dimList = dims, freqVarInd = match("freq", '
        'names(leaves)), numVarInd = match("value", names(leaves)))\n'
        'prim <- read.csv("primaries.csv", colClasses = "character")\n'
        'prob <- change_cellstatus(prob, specs = prim, rule = "u")\n'
        'res <- protectTable(prob, method = "OPT")   # or "HITAS", "HYPERCUBE", "SIMPLEHEURISTIC"\n'
        "\ncells.csv has every cell (subtotals included) with its status (s publishable,\n"
        "u primary, x secondary when a protected pattern was written, z structural zero)\n"
        "and the protection each primary needs; the .hrc files are tau-Argus hierarchies\n"
        "(the total left out).\n"
    )
    return folder
