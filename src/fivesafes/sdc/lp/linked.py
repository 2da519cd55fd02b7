"""Linked tables: several tables from the same data as one system of relations.

:func:`build_linked_structure` builds on :mod:`fivesafes.sdc.lp.structure` (one table's
relations): a cell shared by tables is one variable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from fivesafes.errors import DataError
from fivesafes.sdc.cells import VALUE
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import (
    ADDITIVITY_TOLERANCE,
    IntArray,
    TableStructure,
    build_structure,
    keys_frame,
    radix_strides,
)


@dataclass(frozen=True, eq=False)
class LinkedStructure(TableStructure):
    """Several tables from the same data as one system; a cell shared by tables is one variable.

    Dimensions are the union over the tables; a dimension absent from a table is taken
    at its root. ``members[t][i]`` is the variable of row ``i`` of table ``t``.
    """

    members: tuple[IntArray, ...]


def _same_hierarchy(a: Hierarchy, b: Hierarchy) -> bool:
    return a.root == b.root and a.parent == b.parent and a.order == b.order


def build_linked_structure(
    tables: Sequence[tuple[pd.DataFrame, Sequence[Hierarchy]]],
    *,
    check_values: bool = True,
    tolerance: float = ADDITIVITY_TOLERANCE,
) -> LinkedStructure:
    """Join tables made from the same data into one system of relations over shared cells.

    A cell is identified by its codes over the union of dimensions (absent ones at the
    root); a cell present in two tables is one variable and must have the same value.
    Hierarchies of a shared dimension must be identical.
    """
    if not tables:
        raise DataError("no tables to link", hint="give at least one (cells, hierarchies) pair")
    parts = [
        build_structure(c, hs, check_values=check_values, tolerance=tolerance) for c, hs in tables
    ]
    dims: list[str] = []
    hier: list[Hierarchy] = []
    for t, s in enumerate(parts):
        for dim, h in zip(s.dimensions, s.hierarchies, strict=True):
            if dim in dims:
                other = hier[dims.index(dim)]
                if not _same_hierarchy(other, h):
                    raise DataError(
                        f"dimension '{dim}' has different hierarchies in the linked tables "
                        f"(table {t + 1} differs from an earlier one)",
                        hint="linked tables must use the same hierarchy file for a shared "
                        "dimension",
                    )
            else:
                dims.append(dim)
                hier.append(h)
    stride = radix_strides(hier)
    n_dims = len(dims)
    # global key of each table's cells: absent dimensions at their root's id
    root_ids = np.array([h.order.index(h.root) for h in hier], dtype=np.int32)
    table_codes: list[npt.NDArray[np.int32]] = []
    for s in parts:
        full = np.tile(root_ids, (s.n_cells, 1))
        for d_local, dim in enumerate(s.dimensions):
            full[:, dims.index(dim)] = s.code_ids[:, d_local]
        table_codes.append(full)
    all_codes = np.concatenate(table_codes)
    all_flat = all_codes.astype(np.int64) @ stride
    uniq, first, inverse = np.unique(all_flat, return_index=True, return_inverse=True)
    n = int(uniq.size)
    code_ids = all_codes[first]
    members: list[IntArray] = []
    start = 0
    for s in parts:
        members.append(inverse[start : start + s.n_cells].astype(np.int64))
        start += s.n_cells

    if check_values:
        _check_shared_values(tables, members, n, code_ids, dims, hier)

    # stack every table's relations over global variables; a relation is identified by its
    # total cell and its (global) dimension, so shared relations are kept once
    mats: list[sp.coo_matrix] = []
    rdim: list[IntArray] = []
    rtot: list[IntArray] = []
    for s, m in zip(parts, members, strict=True):
        coo = s.relations.tocoo()
        mats.append(sp.coo_matrix((coo.data, (coo.row, m[coo.col])), shape=(s.n_relations, n)))
        gdim = np.array([dims.index(x) for x in s.dimensions], dtype=np.int64)
        rdim.append(gdim[s.relation_dimension] if s.n_relations else np.zeros(0, np.int64))
        rtot.append(m[s.relation_total])
    stacked = sp.vstack(mats).tocsr() if mats else sp.csr_matrix((0, n))
    relation_dimension = np.concatenate(rdim)
    relation_total = np.concatenate(rtot)
    rel_key = relation_total * n_dims + relation_dimension
    _, keep = np.unique(rel_key, return_index=True)
    keep.sort()
    keys = keys_frame(dims, hier, code_ids.astype(np.int32))
    return LinkedStructure(
        dimensions=tuple(dims),
        hierarchies=tuple(hier),
        keys=keys,
        relations=sp.csr_matrix(stacked[keep]),
        relation_dimension=relation_dimension[keep],
        relation_total=relation_total[keep],
        code_ids=code_ids.astype(np.int32),
        flat_keys=uniq.astype(np.int64),
        members=tuple(members),
    )


def _check_shared_values(
    tables: Sequence[tuple[pd.DataFrame, Sequence[Hierarchy]]],
    members: Sequence[IntArray],
    n: int,
    code_ids: npt.NDArray[np.int32],
    dims: Sequence[str],
    hier: Sequence[Hierarchy],
) -> None:
    first_value = np.full(n, np.nan)
    for t, ((cells, _), m) in enumerate(zip(tables, members, strict=True)):
        if VALUE not in cells.columns:
            continue
        v = pd.to_numeric(cells[VALUE], errors="coerce").to_numpy(dtype=np.float64)
        known = ~np.isnan(first_value[m])
        diff = known & ~np.isclose(first_value[m], v, rtol=ADDITIVITY_TOLERANCE, atol=1e-9)
        if diff.any():
            i = int(np.flatnonzero(diff)[0])
            g = int(m[i])
            name = ", ".join(
                f"{d}={h.order[code_ids[g, k]]}"
                for k, (d, h) in enumerate(zip(dims, hier, strict=True))
            )
            raise DataError(
                f"linked tables disagree on shared cell {name}: {first_value[g]:.10g} in an "
                f"earlier table, {v[i]:.10g} in table {t + 1}",
                hint="linked tables must come from the same data with the same response and "
                "weights",
            )
        fill = np.isnan(first_value[m])
        first_value[m[fill]] = v[fill]
