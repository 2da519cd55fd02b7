"""Who is an insider against a cell: the insider rule of ``singleton = true``.

The single contributor of a hidden cell ``q`` knows ``q`` exactly. Against a primary
cell ``p`` that contributor is an *outside* insider (an attacker the methods and the
audit must protect ``p`` from, see :mod:`fivesafes.sdc.secondary.singleton`) unless it
is one of ``p``'s own contributors: ``p``'s protection level is computed for what its
contributors know of themselves (the dominance and p% formulas assume the largest
contributor knows its own value), so counting it again would ask for protection no
pattern can give, and a protectable table would be refused.

``q``'s contributor is one of ``p``'s when the cells share records: the units common to
``p`` and ``q`` form the cell whose code in each dimension is the lower of the two codes
(one code must be the other or below it in every dimension; otherwise the cells are
disjoint in that dimension). That *meet* cell lies inside ``q``, so every record in it
belongs to ``q``'s only contributor, and it lies inside ``p``. So:

* ``q`` nested in ``p`` (or ``p`` in ``q``): the meet is ``q`` (or ``p``), with records;
* ``q`` *crossing* ``p`` (region WM below ENG by industry Q above D86): the meet (WM by
  D86) holds records exactly when ``q``'s contributor trades in ``p``; when the other
  cells of Q in WM are structural zeros, it does, and ``q`` is ``p``'s own contributor.

Without a records column only nesting is used (the meet is ``p`` or ``q``). A meet
missing from the table (linked tables cover only some combinations) counts as empty:
the insider is then treated as outside, which is the cautious side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fivesafes.sdc.lp.structure import TableStructure

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class InsiderRule:
    """Decides, per (single-contributor cell, primary cell) pair, whether the insider is outside."""

    code_ids: IntArray  # n x D: each cell's code position per dimension
    above: tuple[BoolArray, ...]  # per dimension: above[d][a, b] when code a is b or above b
    stride: IntArray  # mixed-radix multiplier per dimension (as the structure's flat keys)
    sorted_keys: IntArray  # the cells' flat keys, sorted
    order: IntArray  # the cell of each sorted key
    records: FloatArray | None  # records per cell (NaN: unknown); None: no records column

    @classmethod
    def of(cls, structure: TableStructure, records: npt.ArrayLike | None = None) -> InsiderRule:
        """The rule for a table's cells, with their record counts when known."""
        ids = np.asarray(structure.code_ids, dtype=np.int64)
        sizes = np.array([len(h.order) for h in structure.hierarchies], dtype=np.int64)
        stride = np.ones(sizes.size, dtype=np.int64)
        for d in range(sizes.size - 2, -1, -1):
            stride[d] = stride[d + 1] * sizes[d + 1]
        flat = ids @ stride if ids.size else np.zeros(0, dtype=np.int64)
        order = np.argsort(flat, kind="stable").astype(np.int64)
        rec = None
        if records is not None:
            rec = np.asarray(records, dtype=np.float64)
            if rec.shape != (ids.shape[0],):
                raise ValueError(f"records must have one value per cell ({ids.shape[0]})")
        return cls(
            code_ids=ids,
            above=tuple(h.ancestor_matrix() for h in structure.hierarchies),
            stride=stride,
            sorted_keys=flat[order],
            order=order,
            records=rec,
        )

    def meet(self, p: int, cells: npt.ArrayLike) -> IntArray:
        """For each of ``cells``: the cell of the units it shares with ``p`` (-1: none)."""
        q = np.asarray(cells, dtype=np.int64)
        nested = np.ones(q.size, dtype=bool)
        key = np.zeros(q.size, dtype=np.int64)
        for d, m in enumerate(self.above):
            a = int(self.code_ids[p, d])
            b = self.code_ids[q, d]
            b_below = m[a, b]  # q's code is p's or below it: q's is the lower one
            a_below = m[b, a]
            nested &= b_below | a_below
            key += np.where(b_below, b, a) * self.stride[d]
        pos = np.searchsorted(self.sorted_keys, key)
        pos = np.minimum(pos, max(self.sorted_keys.size - 1, 0))
        found = nested & (self.sorted_keys.size > 0)
        if self.sorted_keys.size:
            found &= self.sorted_keys[pos] == key
        return np.where(found, self.order[pos] if self.order.size else -1, -1).astype(np.int64)

    def shares_contributor(self, p: int, cells: npt.ArrayLike) -> BoolArray:
        """For each single-contributor cell of ``cells``: its contributor is one of ``p``'s."""
        q = np.asarray(cells, dtype=np.int64)
        m = self.meet(p, q)
        nested = (m == q) | (m == p)
        if self.records is None:
            inside = nested
        else:
            rec = self.records[np.maximum(m, 0)]
            known = (m >= 0) & ~np.isnan(rec)
            # records known: the meet has some; unknown: fall back on nesting
            inside = np.where(known, rec > 0, nested)
        return np.asarray((inside & (m >= 0)) | (q == p), dtype=bool)

    def outside(self, p: int, cells: npt.ArrayLike) -> BoolArray:
        """For each single-contributor cell of ``cells``: an insider to protect ``p`` from."""
        return ~self.shares_contributor(p, cells)
