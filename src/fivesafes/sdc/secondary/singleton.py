"""Insider knowledge: single-contributor cells (``[suppression] singleton = true``).

A contributor knows its own contributions. If it is the only contributor of a hidden
cell it knows that cell exactly, so two single-contributor cells that are the only
hidden cells of a relation reveal each other to their contributors.

What is guaranteed when ``singleton = true``: every primary cell ``p`` keeps its
required protection against an outside attacker (published cells, relations,
a-priori bounds) AND against each insider ``s``: the single contributor of a hidden
single-contributor cell, who knows that cell's value exactly, for every such cell that
shares a relation with ``p`` or lies in ``p``'s attacker neighbourhood (the hidden
cells linked to ``p``, at least 60 of them: the whole linked set when it is smaller).
Coalitions of several contributors are not modelled (as in tau-Argus's
singleton option); a contributor who dominates several cells is covered by the
primary rules on holdings (one contributor per enterprise group) and by the
protection levels, see docs/secondary.md.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.sdc.cells import CONTRIBUTORS, RECORDS


def single_contributor(cells: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """True for every non-empty cell with exactly one contributor."""
    if CONTRIBUTORS not in cells.columns:
        return np.zeros(len(cells), dtype=bool)
    contrib = pd.to_numeric(cells[CONTRIBUTORS], errors="coerce").fillna(0).to_numpy()
    single = contrib == 1
    if RECORDS in cells.columns:
        records = pd.to_numeric(cells[RECORDS], errors="coerce").fillna(0).to_numpy()
        single &= records > 0
    return np.asarray(single, dtype=bool)
