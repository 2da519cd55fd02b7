"""Disclosure by differencing: does a new output, with everything published before, undo protection?

Every cell of a source (a dataset's population and measure) is a sum of *atoms*:
the finest pieces that any of the involved hierarchies can tell apart. Per
dimension, leaves that belong to exactly the same published groupings form one
class (partition refinement); an atom is one class per dimension. A published
cell fixes the sum of its atoms. The attacker's interval for a hidden cell is the
min and max of the sum of its atoms over all non-negative atom values that agree
with everything published (HiGHS, one model, only the objective changes).

This works across releases and across different groupings of the same codes
(a region grouping that differs from a published one by one area, a figure in an
answer to a request): the hierarchies say which leaves make each cell.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from fivesafes.errors import DataError, SpecError
from fivesafes.sdc.cells import LOWER, STATUS, UPPER, VALUE, Status
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.attack import Contradiction, LinearAttack
from fivesafes.sdc.lp.feasible import feasible
from fivesafes.sdc.occupancy import Occupancy

MAX_ATOMS = 2_000_000
_TOL = 1e-7


class InconsistentOutputs(DataError):
    """The outputs give one cell different values: they cannot come from the same data."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        outputs: tuple[str, ...] = (),
        redacted: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, redacted=redacted)
        # The clashing outputs' labels, which (unlike the message) quote no value.
        self.outputs = outputs


class OutputsContradictData(DataError):
    """Outputs whose cells fit no data with the zeros of the source's data held: one of
    them is not of these data (a release whose source was only declared, from elsewhere).

    The zeros are true of the data the check was given, and a table of these data fits
    them; so an attacker's model that no values fit says nothing of these data, and every
    interval it gives would be a false certainty. The check fails closed with this reason.
    """

    def __init__(self, labels: tuple[str, ...], empty_atoms: int) -> None:
        names = ", ".join(labels)
        super().__init__(
            f"the cells of {names} cannot hold together with the data: they need units in "
            "combinations of values that no row of the data holds, so they cannot all come "
            "from these data (a release whose source was only declared may come from other "
            "data)",
            hint="the differencing check cannot decide what is disclosed; establish where "
            "each of these outputs came from and correct the source recorded for the one "
            "that is not of these data (an administrator, for a published release)",
            value_free=True,
        )
        # the outputs' labels (no value), the fewest that contradict the data together
        self.labels = labels
        self.empty_atoms = empty_atoms


@dataclass(frozen=True)
class OutputTable:
    """One output of a source: its cells (codes, value, status, protection) and hierarchies.

    Safe cells are (or will be) public; hidden cells carry their true value and the
    protection they need. A dimension the table does not have is taken at its total.
    """

    label: str
    hierarchies: tuple[Hierarchy, ...]
    cells: pd.DataFrame
    # dimensions that are filters of the population (sdc/population.py), not tabulated
    filters: tuple[str, ...] = ()

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The table's dimension names."""
        return tuple(h.name for h in self.hierarchies)


@dataclass(frozen=True)
class Disclosure:
    """A hidden cell that the outputs together determine too narrowly."""

    table: str
    codes: dict[str, str]
    value: float
    attacker_min: float
    attacker_max: float
    required_lower: float
    required_upper: float
    exact: bool
    revealed_by: tuple[tuple[str, dict[str, str], float], ...]  # (table, codes, coefficient)

    def explain(self) -> str:
        """One readable sentence: which cell, how narrowly, from which published cells."""
        where = ", ".join(f"{k}={v}" for k, v in self.codes.items())
        how = "exactly" if self.exact else f"to [{self.attacker_min:g}, {self.attacker_max:g}]"
        combo = " ".join(
            f"{'+' if c > 0 else '-'} {abs(c):g}*{t}({_fmt(cs)})"
            for t, cs, c in self.revealed_by[:8]
        )
        more = " ..." if len(self.revealed_by) > 8 else ""
        return (
            f"{self.table} cell ({where}) is determined {how}; it needed "
            f"[{self.required_lower:g}, {self.required_upper:g}] or wider; "
            f"combination: {combo.lstrip('+ ')}{more}"
        )


def _fmt(codes: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in codes.items())


@dataclass(frozen=True)
class DifferencingResult:
    """The outcome of a differencing check."""

    safe: bool
    disclosures: tuple[Disclosure, ...]
    checked_cells: int
    published_cells: int
    hidden_cells: int
    atoms: int
    lp_count: int
    timings: dict[str, float] = field(default_factory=dict)
    empty_atoms: int = 0  # atoms held at zero: the data leave them without a unit

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary for reports."""
        return {
            "safe": self.safe,
            "checked_cells": self.checked_cells,
            "hidden_cells": self.hidden_cells,
            "published_cells": self.published_cells,
            "atoms": self.atoms,
            "empty_atoms": self.empty_atoms,
            "lp_count": self.lp_count,
            "timings": self.timings,
            "disclosures": [
                {
                    "table": d.table,
                    "codes": d.codes,
                    "attacker_min": d.attacker_min,
                    "attacker_max": d.attacker_max,
                    "required_lower": d.required_lower,
                    "required_upper": d.required_upper,
                    "exact": d.exact,
                    "explanation": d.explain(),
                }
                for d in self.disclosures
            ],
        }


def check_differencing(
    new: OutputTable,
    earlier: Sequence[OutputTable] = (),
    *,
    nonnegative: bool = True,
    occupancy: Occupancy | None = None,
) -> DifferencingResult:
    """Audit every primary cell of ``new`` and ``earlier`` against all their safe cells at once.

    ``occupancy``: which value pairs of filter columns and dimensions hold units in the
    source's data (sdc/occupancy.py); the empty ones are held at zero, as an attacker who
    knows that one column follows from another (country from region) would.
    """
    started = time.perf_counter()
    model = DifferencingModel([*earlier, new], nonnegative=nonnegative, occupancy=occupancy)
    t1 = time.perf_counter()
    disclosures = [d for i in range(model.n_targets) if (d := model.assess(i)) is not None]
    return DifferencingResult(
        safe=not disclosures,
        disclosures=tuple(disclosures),
        checked_cells=model.n_targets,
        hidden_cells=model.hidden_cells,
        published_cells=model.published_cells,
        atoms=model.n_atoms,
        empty_atoms=model.empty_atoms,
        lp_count=model.solver.lp_count,
        timings={
            "build": model.build_time,
            "solve": time.perf_counter() - t1,
            "total": time.perf_counter() - started,
        },
    )


class DifferencingModel:
    """The attacker's model of several outputs of one source: atoms, published sums, targets.

    ``keys`` name each published row and each target by its subset ids (one per
    dimension), the same for the same cell in any table; ``assess(i)`` checks target
    ``i``. Built once, it can be asked about any target (sdc/published_context.py
    asks only about the ones that were disclosed before).
    """

    def __init__(
        self,
        tables: Sequence[OutputTable],
        *,
        nonnegative: bool = True,
        occupancy: Occupancy | None = None,
    ) -> None:
        t0 = time.perf_counter()
        self.tables = list(tables)
        for t in self.tables:
            _check_columns(t)
        dims = _union_dimensions(self.tables)
        classes = _leaf_classes(dims, self.tables)
        n_atoms = math.prod(len(set(c.values())) for c in classes.values())
        if n_atoms > MAX_ATOMS:
            raise SpecError(
                f"the outputs split the source into {n_atoms:,} atoms, more than {MAX_ATOMS:,}",
                hint="check fewer dimensions at once, or coarser groupings",
            )
        self.n_atoms = n_atoms
        shape = tuple(len(set(classes[d].values())) for d in dims)
        # kept so a later figure can be placed on these atoms (sdc/differencing_figure.py)
        self.dims, self.classes, self.shape = dims, classes, shape
        subsets: dict[str, dict[tuple[int, ...], int]] = {d: {} for d in dims}
        frames = [_subset_frame(ti, t, dims, classes, subsets) for ti, t in enumerate(self.tables)]
        allcells = pd.concat(frames, ignore_index=True)
        keys = [f"_s_{d}" for d in dims]
        self.cells = allcells  # every cell of every table, with its subset ids
        self.key_columns = keys
        published = allcells[allcells["_status"] == Status.SAFE.value]
        grouped = published.groupby(keys, sort=False)
        _raise_on_clash(published, grouped, keys)
        first = grouped.head(1)
        inverse = {d: {i: sub for sub, i in m.items()} for d, m in subsets.items()}
        a_pub = _atom_matrix(first[keys].to_numpy(dtype=np.int64), dims, inverse, shape)
        b_pub = first["_value"].to_numpy(dtype=float)
        self.published_keys = [tuple(k) for k in first[keys].to_numpy(dtype=np.int64).tolist()]
        self.owners = [(int(t), int(r)) for t, r in first[["_table", "_row"]].to_numpy()]
        self.published_cells = len(published)
        # A cell hidden in several outputs is checked once, against its largest requirement.
        hidden = allcells[allcells["_status"] == Status.PRIMARY.value]
        self.hidden_cells = len(hidden)
        targets = hidden.groupby(keys, sort=False).agg(
            _value=("_value", "first"),
            _lower=("_lower", "max"),
            _upper=("_upper", "max"),
            _table=("_table", "last"),
            _row=("_row", "last"),
        )
        targets = targets.reset_index()
        lower = np.zeros(n_atoms) if nonnegative else np.full(n_atoms, -np.inf)
        upper = np.full(n_atoms, np.inf)
        self.blind_lower = lower.copy()  # the bounds without the data's zeros
        self.empty_atoms = 0
        if occupancy is not None:
            empty = occupancy.empty_atoms(dims, classes, shape)
            lower[empty] = 0.0
            upper[empty] = 0.0
            self.empty_atoms = int(empty.sum())
        self.lower, self.upper, self.inverse = lower, upper, inverse
        # Rounded published sums disagree in the last digits; a give of 1e-11 of each sum's
        # figures is far below any protection and the exactness tolerance (1e-8) used below.
        try:
            self.solver = LinearAttack(a_pub, b_pub, lower, upper, slack=1e-11)
        except Contradiction as exc:
            raise self.not_from_these_data or exc from exc
        self.codes_of = _Codes(self.tables)
        target_keys = targets[keys].to_numpy(dtype=np.int64)
        self.target_keys = [tuple(k) for k in target_keys.tolist()]
        self.target_vals = targets["_value"].to_numpy(dtype=float)
        self.target_lower = targets["_lower"].to_numpy(dtype=float)
        self.target_upper = targets["_upper"].to_numpy(dtype=float)
        self.target_where = targets[["_table", "_row"]].to_numpy(dtype=np.int64)
        self.target_atoms = _atom_matrix(target_keys, dims, inverse, shape)
        self.table_scale = max(1.0, float(np.abs(b_pub).max())) if len(b_pub) else 1.0
        self.build_time = time.perf_counter() - t0
        self.last_rows: frozenset[int] = frozenset()  # the rows behind the last disclosure

    def _pinning(self, rows: set[int]) -> set[int]:
        """The published rows that pinned the unknowns of ``rows`` the LP took as fixed.

        A binding sum's other unknowns may have been substituted before the LP (pinned by
        other sums): those sums are part of the proof too."""
        a = self.solver.a
        fixed: dict[int, float] = {}
        for r in rows:
            for j in a.indices[a.indptr[r] : a.indptr[r + 1]]:
                if not self.solver.free[int(j)]:
                    fixed[int(j)] = 1.0
        return set(self.solver.combination(fixed)) if fixed else set()

    @property
    def n_targets(self) -> int:
        """How many distinct hidden (primary) cells the model checks."""
        return len(self.target_keys)

    def assess(self, i: int) -> Disclosure | None:
        """Target ``i``'s disclosure, or None when the outputs leave it its protection.

        After a disclosure, ``last_rows`` holds the published rows (indices into
        ``published_keys``) that prove it: the sums that pinned part of it and the
        binding sums of each side found too narrow."""
        ta = self.target_atoms
        atoms = ta.indices[ta.indptr[i] : ta.indptr[i + 1]]
        value = float(self.target_vals[i])
        need_lo = value - float(self.target_lower[i])
        need_hi = value + float(self.target_upper[i])
        target = dict.fromkeys(atoms.tolist(), 1.0)
        try:
            low, high = self.solver.interval(target)
        except Contradiction as exc:
            raise self.not_from_these_data or exc from exc
        lo, hi = low.value, high.value
        # exact means: pinned to within rounding of the figures it is computed from
        tol = max(_TOL * max(1.0, abs(value)), 1e-8 * self.table_scale)
        # the true value outside what the outputs allow: they are not all true of one set
        # of data; with the zeros held, say which (else, as before)
        outside = not lo - tol <= value <= hi + tol
        if outside and self.not_from_these_data is not None:
            raise self.not_from_these_data
        exact = hi - lo <= tol
        low_bad = lo > need_lo + tol
        if not (low_bad or hi < need_hi - tol or exact):
            self.last_rows = frozenset()
            return None
        pinned = self.solver.combination(target)
        rows = _add(pinned, (low if low_bad else high).duals)
        high_bad = hi < need_hi - tol
        proof = set(pinned)
        proof |= set(low.duals) if (low_bad or exact) else set()
        proof |= set(high.duals) if (high_bad or exact) else set()
        self.last_rows = frozenset(proof | self._pinning(proof))
        ti, row = int(self.target_where[i, 0]), int(self.target_where[i, 1])
        return Disclosure(
            table=self.tables[ti].label,
            codes=self.codes_of(ti, row),
            value=value,
            attacker_min=lo,
            attacker_max=hi,
            required_lower=need_lo,
            required_upper=need_hi,
            exact=exact,
            revealed_by=_combination(rows, self.owners, self.tables, self.codes_of),
        )

    @cached_property
    def not_from_these_data(self) -> OutputsContradictData | None:
        """The error to raise when the outputs' cells, hidden ones at their true values, fit
        no data once the zeros are held but do without them (None otherwise): it names the
        fewest outputs that contradict the zeros together (each left out in turn, kept
        when needed). Asked only when the attacker's model went wrong."""
        if not self.empty_atoms:
            return None
        cells = self.cells[np.isfinite(self.cells["_value"].to_numpy(dtype=float))]
        keys = cells[self.key_columns].to_numpy(dtype=np.int64)
        a = _atom_matrix(keys, self.dims, self.inverse, self.shape)
        value = cells["_value"].to_numpy(dtype=float)
        give = 1e-6 * np.maximum(1.0, np.abs(value))  # the sums' tolerance in the LPs' engine
        owner = cells["_table"].to_numpy(dtype=np.int64)
        blind_upper = np.full(self.n_atoms, np.inf)

        def fits(tables: set[int], zeros: bool) -> bool:
            rows = np.isin(owner, sorted(tables))
            lower, upper = (self.lower, self.upper) if zeros else (self.blind_lower, blind_upper)
            return feasible(
                a[rows], value[rows] - give[rows], value[rows] + give[rows], lower, upper
            )

        every = set(range(len(self.tables)))
        if fits(every, zeros=True) or not fits(every, zeros=False):
            return None  # not the zeros: the outputs fit them, or contradict each other anyway
        kept = set(every)
        for ti in range(len(self.tables)):
            if not fits(kept - {ti}, zeros=True):
                kept.discard(ti)
        labels = tuple(dict.fromkeys(self.tables[ti].label for ti in sorted(kept)))
        return OutputsContradictData(labels, self.empty_atoms)


def _raise_on_clash(published: pd.DataFrame, grouped: Any, keys: list[str]) -> None:
    spread = grouped["_value"].max() - grouped["_value"].min()
    scale = np.maximum(1.0, grouped["_value"].max().abs())
    clash = spread[spread > _TOL * scale]
    if len(clash):
        bad = published.set_index(keys).loc[clash.index[0]]
        raise InconsistentOutputs(
            "the same cell was published with different values: "
            + ", ".join(
                f"{lbl}: {v:g}" for lbl, v in zip(bad["_label"], bad["_value"], strict=True)
            ),
            hint="outputs of one source must come from the same data; check the source",
            outputs=tuple(dict.fromkeys(map(str, bad["_label"]))),
            redacted="the same cell was published with different values by: "
            + ", ".join(dict.fromkeys(map(str, bad["_label"]))),
        )


def outputs_agree(tables: Sequence[OutputTable]) -> bool:
    """Whether the outputs publish every shared cell with one value (could be one source's)."""
    for t in tables:
        _check_columns(t)
    dims = _union_dimensions(tables)
    classes = _leaf_classes(dims, tables)
    subsets: dict[str, dict[tuple[int, ...], int]] = {d: {} for d in dims}
    frames = [_subset_frame(ti, t, dims, classes, subsets) for ti, t in enumerate(tables)]
    allcells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if allcells.empty:
        return True
    keys = [f"_s_{d}" for d in dims]
    published = allcells[allcells["_status"] == Status.SAFE.value]
    try:
        _raise_on_clash(published, published.groupby(keys, sort=False), keys)
    except InconsistentOutputs:
        return False
    return True


def _add(a: Mapping[int, float], b: Mapping[int, float]) -> dict[int, float]:
    """Two combinations of published rows added together (the pinned part and the LP part)."""
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + v
    return {k: v for k, v in out.items() if abs(v) > 1e-12}


def _check_columns(t: OutputTable) -> None:
    missing = [c for c in (*t.dimensions, VALUE, STATUS) if c not in t.cells.columns]
    if missing:
        raise DataError(f"{t.label}: cells lack column(s) {missing}")
    bad = sorted(set(map(str, t.cells[STATUS].astype(str).unique())) - {s.value for s in Status})
    if bad:
        raise DataError(f"{t.label}: unknown status value(s) {bad}", hint="safe|primary|secondary")


class _Codes:
    """Codes of output cells, read once per table (reading one from Arrow costs a millisecond)."""

    def __init__(self, tables: Sequence[OutputTable]):
        self.tables = tables
        self.arrays: dict[int, dict[str, np.ndarray]] = {}

    def __call__(self, ti: int, row: int) -> dict[str, str]:
        arrays = self.arrays.get(ti)
        if arrays is None:
            t = self.tables[ti]
            arrays = {d: t.cells[d].astype(str).to_numpy(dtype=object) for d in t.dimensions}
            self.arrays[ti] = arrays
        return {d: str(col[row]) for d, col in arrays.items()}


def _union_dimensions(tables: Sequence[OutputTable]) -> tuple[str, ...]:
    dims: list[str] = []
    for t in tables:
        dims.extend(d for d in t.dimensions if d not in dims)
    return tuple(dims)


def _leaf_classes(dims: Sequence[str], tables: Sequence[OutputTable]) -> dict[str, dict[str, int]]:
    """Per dimension: leaf code -> class id, leaves in a class being in exactly the same cells."""
    out: dict[str, dict[str, int]] = {}
    for d in dims:
        hs = [h for t in tables for h in t.hierarchies if h.name == d]
        leaves = sorted({leaf for h in hs for leaf in h.leaves})
        signature: dict[str, list[int]] = {leaf: [] for leaf in leaves}
        group = 0
        for h in hs:
            for code in h.order:
                for leaf in h.leaves_under(code):
                    signature[leaf].append(group)
                group += 1
        by_sig: dict[tuple[int, ...], int] = {}
        out[d] = {leaf: by_sig.setdefault(tuple(signature[leaf]), len(by_sig)) for leaf in leaves}
    return out


def _subset_frame(
    ti: int,
    t: OutputTable,
    dims: Sequence[str],
    classes: Mapping[str, Mapping[str, int]],
    subsets: dict[str, dict[tuple[int, ...], int]],
) -> pd.DataFrame:
    """The table's cells as subset ids per dimension (a subset = the classes a code covers)."""
    cells = t.cells
    out = pd.DataFrame(index=range(len(cells)))
    hierarchy = {h.name: h for h in t.hierarchies}
    for d in dims:
        ids = subsets[d]
        if d not in hierarchy:
            every = tuple(sorted(set(classes[d].values())))
            out[f"_s_{d}"] = ids.setdefault(every, len(ids))
            continue
        h = hierarchy[d]
        code_to_id = {
            code: ids.setdefault(
                tuple(sorted({classes[d][leaf] for leaf in h.leaves_under(code)})), len(ids)
            )
            for code in h.order
        }
        positions, uniques = pd.factorize(cells[d].astype(str))
        unknown = sorted(str(u) for u in uniques if str(u) not in code_to_id)
        if unknown:
            raise DataError(
                f"{t.label}: code(s) {unknown[:10]} of dimension '{d}' are not in its hierarchy",
                hint="cells must use the codes of the hierarchy they were tabulated with",
                redacted=f"{t.label}: some codes of dimension '{d}' are not in its hierarchy",
            )
        lookup = np.array([code_to_id[str(u)] for u in uniques], dtype=np.int64)
        out[f"_s_{d}"] = lookup[positions]
    out["_value"] = cells[VALUE].to_numpy(dtype=float)
    out["_status"] = cells[STATUS].astype(str).to_numpy()
    out["_lower"] = cells[LOWER].to_numpy(dtype=float) if LOWER in cells else 0.0
    out["_upper"] = cells[UPPER].to_numpy(dtype=float) if UPPER in cells else 0.0
    out["_table"] = ti
    out["_row"] = np.arange(len(cells))
    out["_label"] = t.label
    return out


def _atom_matrix(
    subset_ids: np.ndarray,
    dims: Sequence[str],
    inverse: Mapping[str, Mapping[int, tuple[int, ...]]],
    shape: tuple[int, ...],
) -> sp.csr_matrix:
    """Rows = cells, columns = atoms: the row-wise Kronecker product of per-dimension sets."""
    result: sp.csr_matrix | None = None
    for k, d in enumerate(dims):
        sets = inverse[d]
        n_sub = max(sets) + 1
        indicator = sp.lil_matrix((n_sub, shape[k]))
        for sid, classes in sets.items():
            indicator[sid, list(classes)] = 1.0
        rows = indicator.tocsr()[subset_ids[:, k]]
        result = rows if result is None else _rowwise_kron(result, rows)
    assert result is not None
    return result


def _rowwise_kron(left: sp.csr_matrix, right: sp.csr_matrix) -> sp.csr_matrix:
    """Row r of the result is kron(left[r], right[r]) (the face-splitting product)."""
    left, right = left.tocsr(), right.tocsr()
    a = np.diff(left.indptr)
    b = np.diff(right.indptr)
    per_row = a * b
    indptr = np.zeros(len(per_row) + 1, dtype=np.int64)
    np.cumsum(per_row, out=indptr[1:])
    total = int(indptr[-1])
    row_of = np.repeat(np.arange(len(per_row)), per_row)
    local = np.arange(total) - indptr[row_of]
    b_of = b[row_of]
    i = local // b_of
    j = local % b_of
    li = left.indices[left.indptr[row_of] + i]
    ri = right.indices[right.indptr[row_of] + j]
    indices = li * right.shape[1] + ri
    return sp.csr_matrix(
        (np.ones(total), indices, indptr), shape=(left.shape[0], left.shape[1] * right.shape[1])
    )


def _combination(
    rows: Mapping[int, float],
    owners: Sequence[tuple[int, int]],
    tables: Sequence[OutputTable],
    codes_of: _Codes,
) -> tuple[tuple[str, dict[str, str], float], ...]:
    """The published cells whose weighted sum pins (or bounds) the hidden one."""
    out: list[tuple[str, dict[str, str], float]] = []
    for k, coef in sorted(rows.items(), key=lambda kv: -abs(kv[1])):
        ti, ri = owners[k]
        t = tables[ti]
        out.append((t.label, codes_of(ti, ri), round(coef, 6)))
    return tuple(out)
