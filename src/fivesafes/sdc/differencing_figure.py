"""One more published cell against a register already modelled: the differencing check, incremental.

A request's figure is one cell. Checking it the way a release is checked rebuilds the
atoms of the whole register and re-solves every hidden cell, which on a register of a
million cells costs seconds for a figure that touches a few atoms. ``PreparedRegister``
builds the attacker's model of the register once, with every hidden cell's verdict;
``check_figure`` then decides what the figure changes, exactly:

1. The figure is placed on the register's atoms. When it cuts an atom (a grouping finer
   than anything published), names a dimension or leaf the register does not have, or
   is larger than every published cell (the exactness tolerance scales with the largest
   figure), the answer is ``None``: the caller runs the full check.
2. Adding ``f . x = v`` to the published sums ``A x = b`` leaves the attacker's set of
   possible atom values unchanged when ``f`` is a combination of published sums. Atoms
   that the sums pin are substituted; for each linked component of free atoms the figure
   touches, a combination ``y`` with ``A_C^T y = f_C`` is found numerically and *verified
   exactly* over the rationals (no proof: the component is treated as changed, which is
   only slower). A figure whose value disagrees with the value the register already fixes
   goes to the full check (it will say why).
3. Otherwise the constraint ties only the components that are not proven unchanged:
   components are independent (no published sum links them), so only hidden cells with a
   free atom there can move. They are re-solved on the register's system plus the figure's
   row; every other hidden cell keeps the verdict the register gave it.

The result is what ``check_differencing(figure, register)`` would say (same disclosures);
tests/sdc/test_differencing_figure.py compares the two on random registers.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from fivesafes.sdc.cells import STATUS, VALUE, Status
from fivesafes.sdc.differencing import (
    DifferencingModel,
    DifferencingResult,
    Disclosure,
    OutputTable,
    _Codes,
)
from fivesafes.sdc.lp.attack import LinearAttack

# Above this many free atoms (or rows x atoms) in a component the exact certificate is
# not attempted: the component is re-solved instead, which is exact too, only slower.
_CERTIFY_ATOMS = 3_000
_CERTIFY_ENTRIES = 20_000_000
_DENOMINATOR = 10_000  # the certificate's multipliers are rationals of at most this
# A figure that repeats a published combination must agree with it this closely for the
# fast path; anything looser is the full check's to judge (it refuses clashes at 1e-7).
_AGREE = 1e-9


class PreparedRegister:
    """The attacker's model of a register (outputs of one source) and its hidden cells' verdicts."""

    def __init__(self, tables: Sequence[OutputTable]) -> None:
        started = time.perf_counter()
        self.model = DifferencingModel(tables)
        self.base: tuple[Disclosure | None, ...] = tuple(
            self.model.assess(i) for i in range(self.model.n_targets)
        )
        solver = self.model.solver
        ta = self.model.target_atoms
        # per hidden cell, the components of its free atoms (none: it is pinned already)
        self.target_components: list[frozenset[int]] = []
        for i in range(self.model.n_targets):
            atoms = ta.indices[ta.indptr[i] : ta.indptr[i + 1]]
            free = atoms[solver.free[atoms]]
            self.target_components.append(frozenset(solver.component_of(int(j)) for j in free))
        self.build_time = time.perf_counter() - started

    @property
    def disclosures(self) -> tuple[Disclosure, ...]:
        """What the register discloses by itself."""
        return tuple(d for d in self.base if d is not None)

    def protected(self) -> list[dict[str, str]]:
        """The codes of the hidden cells the register leaves their protection."""
        m = self.model
        return [
            m.codes_of(int(m.target_where[i, 0]), int(m.target_where[i, 1]))
            for i, d in enumerate(self.base)
            if d is None
        ]

    def figure_atoms(self, figure: OutputTable) -> np.ndarray | None:
        """The register atoms the one-cell ``figure`` sums, or None when it cuts an atom or
        names what the register does not have."""
        m = self.model
        if len(figure.cells) != 1 or set(figure.dimensions) - set(m.dims):
            return None
        hierarchy = {h.name: h for h in figure.hierarchies}
        per_dim: list[list[int]] = []
        for d in m.dims:
            classes = m.classes[d]
            if d not in hierarchy:
                per_dim.append(sorted(set(classes.values())))
                continue
            code = str(figure.cells[d].iloc[0])
            h = hierarchy[d]
            if code not in h.order:
                return None
            leaves = set(h.leaves_under(code))
            if leaves - set(classes):
                return None  # a leaf no published hierarchy has
            covered = {classes[leaf] for leaf in leaves}
            # every leaf of a covered class must be in the figure, else it cuts the atom
            if any(classes[leaf] in covered and leaf not in leaves for leaf in classes):
                return None
            per_dim.append(sorted(covered))
        grids = np.meshgrid(*[np.asarray(c, dtype=np.int64) for c in per_dim], indexing="ij")
        flat = np.ravel_multi_index(tuple(g.ravel() for g in grids), m.shape)
        return np.unique(flat.astype(np.int64))

    def check_figure(self, figure: OutputTable) -> DifferencingResult | None:
        """The differencing check of the register plus the published one-cell ``figure``,
        or None when the figure is one the fast path does not decide (run the full check)."""
        started = time.perf_counter()
        m, solver = self.model, self.model.solver
        cells = figure.cells
        if str(cells[STATUS].iloc[0]) != Status.SAFE.value:
            return None
        value = float(cells[VALUE].iloc[0])
        if abs(value) > m.table_scale:
            return None
        atoms = self.figure_atoms(figure)
        if atoms is None:
            return None
        pinned = atoms[~solver.free[atoms]]
        known = float(solver.fixed[pinned].sum())
        touched: dict[int, list[int]] = {}
        for j in atoms[solver.free[atoms]].tolist():
            touched.setdefault(solver.component_of(j), []).append(j)
        changed: set[int] = set()
        for comp, free_atoms in touched.items():
            fixed_by = _fixed_sum(solver, comp, free_atoms)
            if fixed_by is None:
                changed.add(comp)
            else:
                known += fixed_by
        if not changed and abs(value - known) > _AGREE * max(1.0, abs(value), m.table_scale):
            return None  # disagrees with the register: the full check says how
        disclosures = list(self.base)
        lp_count = 0
        if changed:
            extended = self._with_figure(figure, atoms, value)
            for i, comps in enumerate(self.target_components):
                if comps & changed:
                    disclosures[i] = extended.assess(i)
            lp_count = extended.solver.lp_count
        found = tuple(d for d in disclosures if d is not None)
        total = time.perf_counter() - started
        return DifferencingResult(
            safe=not found,
            disclosures=found,
            checked_cells=m.n_targets,
            hidden_cells=m.hidden_cells,
            published_cells=m.published_cells + 1,
            atoms=m.n_atoms,
            lp_count=lp_count,
            timings={"build": 0.0, "solve": total, "total": total},
        )

    def _with_figure(
        self, figure: OutputTable, atoms: np.ndarray, value: float
    ) -> DifferencingModel:
        """The register's model with the figure's sum added (only the solver is rebuilt)."""
        m, solver = self.model, self.model.solver
        row = sp.csr_matrix(
            (np.ones(atoms.size), atoms, [0, atoms.size]), shape=(1, solver.a.shape[1])
        )
        attack = LinearAttack(
            sp.vstack([solver.a, row], format="csr"),
            np.append(solver.b, value),
            solver.lower,
            solver.upper,
            slack=solver.slack,
        )
        extended = copy.copy(m)
        extended.solver = attack
        extended.tables = [*m.tables, figure]  # the figure is the last output, as in the full check
        extended.owners = [*m.owners, (len(m.tables), 0)]
        extended.published_keys = [*m.published_keys, ()]
        extended.codes_of = _Codes(extended.tables)
        return extended


def _fixed_sum(solver: LinearAttack, comp: int, free_atoms: list[int]) -> float | None:
    """The value the published sums fix for the figure's part in component ``comp``
    (a combination of them, verified exactly), or None when none is found."""
    rows, sub = solver.component_rows(comp)
    cols = solver.cells(comp)
    k, n = cols.size, rows.size
    if n == 0 or k > _CERTIFY_ATOMS or n * k > _CERTIFY_ENTRIES:
        return None
    if not np.array_equal(sub.data, np.round(sub.data)):
        return None  # weighted sums: not the 0/1 cells this certificate is for
    target = np.zeros(k)
    target[np.searchsorted(cols, free_atoms)] = 1.0
    dense = sub.toarray()
    # independent rows first (QR with pivoting of A_C^T), then the unique combination
    _, r, order = scipy.linalg.qr(dense.T, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int((diag > 1e-9 * max(1.0, float(diag.max(initial=0.0)))).sum())
    basis = order[:rank]
    if rank == 0:
        return None
    y, *_ = np.linalg.lstsq(dense[basis].T, target, rcond=None)
    weights = {
        int(b): Fraction(float(c)).limit_denominator(_DENOMINATOR)
        for b, c in zip(basis, y, strict=True)
        if abs(c) > 1e-12
    }
    # the proof: sum of weight * row equals the figure exactly, column by column
    combined: dict[int, Fraction] = {}
    for b, w in weights.items():
        start, end = sub.indptr[b], sub.indptr[b + 1]
        for col, coef in zip(sub.indices[start:end], sub.data[start:end], strict=True):
            combined[int(col)] = combined.get(int(col), Fraction(0)) + w * int(coef)
    wanted = {int(c): Fraction(1) for c in np.flatnonzero(target)}
    if {c: v for c, v in combined.items() if v != 0} != wanted:
        return None
    return float(sum(float(w) * float(solver.residual[rows[b]]) for b, w in weights.items()))
