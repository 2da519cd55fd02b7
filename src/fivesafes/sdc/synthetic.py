"""Synthetic hierarchical tables for tests, benchmarks and demonstrations.

No real data: balanced code trees, and every cell of a table computed exactly
from values at the leaves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fivesafes.sdc.hierarchy import Hierarchy


def balanced_tree(name: str, fans: Sequence[int], *, width: int = 0) -> Hierarchy:
    """A hierarchy under root "T" whose level k gives each code fans[k] children.

    Top-level codes are ``name`` plus a number (zero-padded to ``width``); deeper
    codes append ``.i`` to their parent's code.
    """
    pairs: list[tuple[str, str | None]] = [("T", None)]
    level = ["T"]
    for fan in fans:
        nxt = []
        for parent in level:
            for i in range(fan):
                code = f"{name}{i:0{width}d}" if parent == "T" else f"{parent}.{i}"
                pairs.append((code, parent))
                nxt.append(code)
        level = nxt
    return Hierarchy.from_pairs(name, pairs)


def aggregate(
    leaf_values: npt.ArrayLike, hierarchies: Sequence[Hierarchy]
) -> npt.NDArray[np.float64]:
    """Every cell's value (axes in hierarchy display order) from the leaf-level values."""
    out = np.asarray(leaf_values, dtype=np.float64)
    for d, h in enumerate(hierarchies):
        pos = {c: i for i, c in enumerate(h.leaves)}
        rows: list[int] = []
        cols: list[int] = []
        for i, code in enumerate(h.order):
            for leaf in h.leaves_under(code):
                rows.append(i)
                cols.append(pos[leaf])
        m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(h.order), len(h.leaves)))
        moved = np.moveaxis(out, d, 0)
        flat = m @ moved.reshape(moved.shape[0], -1)
        out = np.moveaxis(np.asarray(flat).reshape((len(h.order), *moved.shape[1:])), 0, d)
    return out
