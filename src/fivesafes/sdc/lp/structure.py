"""The linear structure of a table: every subtotal equals the sum of its children.

A table with dimensions d_1..d_D, each with a hierarchy, has one cell for every
combination of codes (totals and subtotals included). For each dimension d, each
(parent, children) pair of d's hierarchy and each combination of codes of the
other dimensions, the table satisfies one relation

    x[parent] - sum(x[children]) = 0

which is one row of a sparse matrix (+1 for the total, -1 for each child).
Secondary suppression and the audit both work on this matrix.

Cells are addressed by integer code ids (the position of a code in its
hierarchy's display order) combined into one mixed-radix integer key, so that
building is a few vectorised numpy operations, not a loop over cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from fivesafes.errors import DataError
from fivesafes.sdc.cells import VALUE
from fivesafes.sdc.hierarchy import Hierarchy

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Additivity is checked to this relative tolerance (of the sum of the absolute values
# in the relation) plus the same absolute tolerance: cells.csv round-trips floats and
# sums of many weighted values carry rounding error; anything larger is a real break.
ADDITIVITY_TOLERANCE = 1e-6


@dataclass(frozen=True, eq=False)
class TableStructure:
    """The cells of a table (by their codes) and its additive relations as a sparse matrix."""

    dimensions: tuple[str, ...]
    hierarchies: tuple[Hierarchy, ...]
    keys: pd.DataFrame  # the dimension columns (categorical codes); row i is cell i
    relations: sp.csr_matrix  # m x n, +1 for the total, -1 for each child
    relation_dimension: IntArray  # which dimension (index into dimensions) each relation runs along
    relation_total: IntArray  # the cell that is the total of each relation
    code_ids: npt.NDArray[np.int32]  # n x D: position of each cell's code in hierarchy.order
    flat_keys: IntArray  # mixed-radix key of each cell over code_ids

    @property
    def n_cells(self) -> int:
        """Number of cells (columns of the relation matrix)."""
        return int(self.keys.shape[0])

    @property
    def n_relations(self) -> int:
        """Number of relations (rows of the relation matrix)."""
        return int(self.relations.shape[0])

    @cached_property
    def relations_csc(self) -> sp.csc_matrix:
        """The relation matrix in column-major form, for slicing by cell."""
        return sp.csc_matrix(self.relations)

    @cached_property
    def _sorted_keys(self) -> tuple[IntArray, IntArray]:
        order = np.argsort(self.flat_keys, kind="stable").astype(np.int64)
        return self.flat_keys[order], order

    @cached_property
    def _code_position(self) -> tuple[dict[str, int], ...]:
        return tuple({c: i for i, c in enumerate(h.order)} for h in self.hierarchies)

    def relations_of(self, cell: int) -> IntArray:
        """Indices of the relations that cell ``cell`` appears in (as total or as child)."""
        csc = self.relations_csc
        return np.asarray(csc.indices[csc.indptr[cell] : csc.indptr[cell + 1]], dtype=np.int64)

    def cell_index(self, codes: Mapping[str, str]) -> int:
        """The row of the cell with these codes; a dimension not named is taken at its total."""
        unknown = sorted(set(codes) - set(self.dimensions))
        if unknown:
            raise DataError(
                f"unknown dimension(s) {unknown}", hint=f"the dimensions are {self.dimensions}"
            )
        key = 0
        for d, h in enumerate(self.hierarchies):
            code = str(codes.get(self.dimensions[d], h.root))
            pos = self._code_position[d].get(code)
            if pos is None:
                raise DataError(
                    f"code '{code}' is not in the hierarchy of dimension '{self.dimensions[d]}'",
                    hint="use a code of the dimension's hierarchy (codes are strings)",
                )
            key = key * len(h.order) + pos
        sorted_keys, order = self._sorted_keys
        i = int(np.searchsorted(sorted_keys, key))
        if i >= sorted_keys.size or sorted_keys[i] != key:
            raise DataError(f"no cell {dict(codes)} in this table")
        return int(order[i])

    def describe_cell(self, cell: int) -> str:
        """A readable name of a cell, e.g. ``region=N1, industry=Total``."""
        row = self.keys.iloc[cell]
        return ", ".join(f"{d}={row[d]}" for d in self.dimensions)

    def check_additive(
        self, values: FloatArray, *, tolerance: float = ADDITIVITY_TOLERANCE
    ) -> None:
        """Raise DataError naming the first total that differs from the sum of its children."""
        values = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            bad = int(np.flatnonzero(~np.isfinite(values))[0])
            raise DataError(
                f"cell {self.describe_cell(bad)} has no finite value ({values[bad]})",
                hint="every cell of an audited table needs a numeric value",
            )
        if self.n_relations == 0:
            return
        residual = self.relations @ values
        scale = abs(self.relations) @ np.abs(values)
        bad_rows = np.flatnonzero(np.abs(residual) > tolerance * (scale + 1.0))
        if bad_rows.size:
            r = int(bad_rows[0])
            total = int(self.relation_total[r])
            dim = self.dimensions[int(self.relation_dimension[r])]
            parts = values[total] - residual[r]
            raise DataError(
                f"the table is not additive: cell {self.describe_cell(total)} has value "
                f"{values[total]:.10g} but its children along '{dim}' sum to {parts:.10g} "
                f"({bad_rows.size} relation(s) broken in all)",
                hint="audit the table exactly as published: every subtotal must equal the sum "
                "of its children (check rounding, and that the hierarchy files match the table)",
            )


def _code_ids(cells: pd.DataFrame, dim: str, h: Hierarchy) -> npt.NDArray[np.int32]:
    if dim not in cells.columns:
        raise DataError(
            f"the cells table has no column for dimension '{dim}'",
            hint=f"columns found: {list(cells.columns)[:20]}",
        )
    col = cells[dim]
    if col.isna().any():
        row = int(np.flatnonzero(col.isna().to_numpy())[0])
        raise DataError(
            f"dimension '{dim}' has an empty code in row {row + 1} of the cells table",
            hint=f"totals carry the root code '{h.root}', never an empty value",
        )
    # factorize first: a column has few distinct codes, so only those are compared as strings
    codes, uniques = pd.factorize(col)
    position = {c: i for i, c in enumerate(h.order)}
    unique_strings = [str(u) for u in uniques]
    lookup = np.array([position.get(u, -1) for u in unique_strings], dtype=np.int32)
    ids = lookup[codes]
    if (ids < 0).any():
        row = int(np.flatnonzero(ids < 0)[0])
        bad = sorted(u for u, i in zip(unique_strings, lookup, strict=True) if i < 0)
        raise DataError(
            f"code(s) {bad[:10]} of dimension '{dim}' (first in row {row + 1}) are not in its "
            f"hierarchy '{h.name}'",
            hint="read codes as strings (leading zeros matter) and use the hierarchy the "
            "table was made with",
        )
    return ids


def keys_frame(
    dims: Sequence[str], hierarchies: Sequence[Hierarchy], code_ids: npt.NDArray[np.int32]
) -> pd.DataFrame:
    """The dimension columns of the cells, as categoricals over each hierarchy's codes."""
    return pd.DataFrame(
        {
            dim: pd.Categorical.from_codes(code_ids[:, d], categories=pd.Index(list(h.order)))
            for d, (dim, h) in enumerate(zip(dims, hierarchies, strict=True))
        }
    )


def radix_strides(hierarchies: Sequence[Hierarchy]) -> IntArray:
    """Per dimension, the multiplier of its code id in a cell's mixed-radix key."""
    sizes = np.array([len(h.order) for h in hierarchies], dtype=np.int64)
    # stride[d] = product of sizes of the dimensions after d (the last dimension varies fastest)
    stride = np.ones(len(sizes), dtype=np.int64)
    for d in range(len(sizes) - 2, -1, -1):
        stride[d] = stride[d + 1] * sizes[d + 1]
    total = 1
    for s in sizes:
        total *= int(s)
        if total > 2**62:
            raise DataError(
                "the table's grid of codes is too large to address",
                hint="split the table into smaller tables",
            )
    return stride


def build_structure(
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    *,
    dimensions: Sequence[str] | None = None,
    check_values: bool = True,
    tolerance: float = ADDITIVITY_TOLERANCE,
) -> TableStructure:
    """Build and validate the additive relations of a full-grid cells table.

    Dimension columns are named by ``dimensions`` (default: each hierarchy's name).
    Raises DataError when a code is unknown, a cell is repeated or missing, or (with
    ``check_values`` and a ``value`` column) a subtotal is not the sum of its children.
    """
    hs = tuple(hierarchies)
    dims = tuple(dimensions) if dimensions is not None else tuple(h.name for h in hs)
    if len(dims) != len(hs) or not dims:
        raise DataError(
            f"{len(dims)} dimension name(s) for {len(hs)} hierarchy(ies)",
            hint="give one hierarchy per dimension",
        )
    if len(set(dims)) != len(dims):
        raise DataError(f"dimension names repeat: {dims}", hint="each dimension once")
    n = int(cells.shape[0])
    code_ids = np.empty((n, len(dims)), dtype=np.int32)
    for d, (dim, h) in enumerate(zip(dims, hs, strict=True)):
        code_ids[:, d] = _code_ids(cells, dim, h)
    stride = radix_strides(hs)
    sizes = np.array([len(h.order) for h in hs], dtype=np.int64)
    grid = int(np.prod(sizes))
    flat = code_ids.astype(np.int64) @ stride if n else np.zeros(0, dtype=np.int64)
    keys = keys_frame(dims, hs, code_ids)

    position = np.full(grid, -1, dtype=np.int64)
    position[flat] = np.arange(n, dtype=np.int64)
    if n > grid or np.count_nonzero(position >= 0) != n:
        seen = np.zeros(grid, dtype=np.int64)
        np.add.at(seen, flat, 1)
        dup = int(np.flatnonzero(seen[flat] > 1)[0])
        raise DataError(
            f"cell {_describe(keys, dims, dup)} appears more than once in the cells table",
            hint="each combination of codes must be one row",
        )
    if n < grid:
        missing = int(np.flatnonzero(position < 0)[0])
        codes = [hs[d].order[(missing // int(stride[d])) % int(sizes[d])] for d in range(len(dims))]
        name = ", ".join(f"{d}={c}" for d, c in zip(dims, codes, strict=True))
        raise DataError(
            f"the cells table is incomplete: cell {name} is missing ({grid - n} of {grid} "
            "cells missing)",
            hint="give every combination of codes, totals and subtotals included (an empty "
            "cell is a row with value 0)",
        )

    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []
    rel_dim: list[IntArray] = []
    rel_total: list[IntArray] = []
    offset = 0
    all_flat = np.arange(grid, dtype=np.int64)
    for d, h in enumerate(hs):
        pairs = h.relations()
        if not pairs:
            continue
        pos = {c: i for i, c in enumerate(h.order)}
        parent_ids = np.array([pos[p] for p, _ in pairs], dtype=np.int64)
        kids_per_pair = np.array([len(k) for _, k in pairs], dtype=np.int64)
        child_ids = np.array([pos[c] for _, k in pairs for c in k], dtype=np.int64)
        child_pair = np.repeat(np.arange(len(pairs), dtype=np.int64), kids_per_pair)
        # every combination of the other dimensions' codes: the keys whose digit d is 0
        base = all_flat[(all_flat // stride[d]) % sizes[d] == 0]
        n_pairs = len(pairs)
        n_rel = base.size * n_pairs
        rel_of_base = offset + np.arange(base.size, dtype=np.int64)[:, None] * n_pairs
        # the total of each relation
        total_rel = (rel_of_base + np.arange(n_pairs, dtype=np.int64)[None, :]).ravel()
        total_cell = position[(base[:, None] + parent_ids[None, :] * stride[d]).ravel()]
        # the children
        child_rel = (rel_of_base + child_pair[None, :]).ravel()
        child_cell = position[(base[:, None] + child_ids[None, :] * stride[d]).ravel()]
        rows += [total_rel, child_rel]
        cols += [total_cell, child_cell]
        vals += [np.ones(total_rel.size), -np.ones(child_rel.size)]
        rel_dim.append(np.full(n_rel, d, dtype=np.int64))
        rel_total.append(total_cell)
        offset += n_rel

    if rows:
        matrix = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(offset, n),
        )
        relation_dimension = np.concatenate(rel_dim)
        relation_total = np.concatenate(rel_total)
    else:
        matrix = sp.csr_matrix((0, n))
        relation_dimension = np.zeros(0, dtype=np.int64)
        relation_total = np.zeros(0, dtype=np.int64)
    structure = TableStructure(
        dimensions=dims,
        hierarchies=hs,
        keys=keys,
        relations=matrix,
        relation_dimension=relation_dimension,
        relation_total=relation_total,
        code_ids=code_ids,
        flat_keys=flat,
    )
    if check_values and VALUE in cells.columns:
        raw = cells[VALUE]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(np.isnan(values))
        if bad.size:
            i = int(bad[0])
            raise DataError(
                f"cell {structure.describe_cell(i)} has a missing or not numeric value "
                f"({raw.iloc[i]!r})",
                hint="every cell needs a number, hidden cells included (write no symbols)",
            )
        structure.check_additive(values, tolerance=tolerance)
    return structure


def _describe(keys: pd.DataFrame, dims: Sequence[str], row: int) -> str:
    r = keys.iloc[row]
    return ", ".join(f"{d}={r[d]}" for d in dims)
