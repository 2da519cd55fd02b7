"""Protection that knows what is already published: new tables protected with earlier releases.

The attacker of a new table also holds every release published from the same source:
its published cells are fixed, public sums, and the cells hidden there must stay
protected. Two steps make the new tables safe together with them, so that the
differencing check of ``release submit`` (:mod:`fivesafes.sdc.differencing`) passes by
construction:

1. :func:`carry_hidden`, before secondary suppression: a new cell that *is* a cell hidden
   in a release (the same leaves in every dimension, whatever the grouping) is hidden
   again, a primary there becoming a primary here with the larger requirement; the
   table's own secondary suppression then protects it inside the new table too.
2. :func:`protect_with_published`, after it: the differencing model of the new tables and
   the releases together finds every primary that their combined sums still pin (a new
   grouping that differs from a published one by one code, say). Each proof names the
   published sums it uses; of those the new tables publish, the cheapest is hidden
   (published cells of a release cannot be taken back), and only the cells found
   disclosed are checked again: hiding more never narrows an interval. This repeats
   until nothing is disclosed; a cell the releases pin on their own cannot be helped by
   the new tables and is refused with its proof.

The final pattern is checked once more by :func:`check_differencing` over everything
(the independent attacker LPs over the union), and that verdict goes in the report.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.errors import InfeasibleProtectionError
from fivesafes.sdc.cells import LOWER, RULE, STATUS, UPPER, Status
from fivesafes.sdc.differencing import (
    DifferencingModel,
    DifferencingResult,
    InconsistentOutputs,
    OutputTable,
    check_differencing,
)
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.occupancy import Occupancy
from fivesafes.sdc.population import Population, restrict

FloatArray = npt.NDArray[np.float64]

PUBLISHED_RULE = "published"  # the rule label of a cell hidden because a release hid it
_ALL = "*"  # a dimension at its total (or absent from a table): every leaf
_NEW = "new:"  # label prefix of the new tables in the joint model (release ids never have it)


@dataclass(frozen=True)
class NewTable:
    """A new table to publish: its cells (with statuses) and what hiding each one costs."""

    name: str
    cells: pd.DataFrame
    hierarchies: tuple[Hierarchy, ...]
    cost: FloatArray
    population: Population | None = None  # the part of the units it covers (None: all)


@dataclass(frozen=True)
class PublishedContext:
    """The new tables' cells after protection with the releases, and what it took."""

    cells: tuple[pd.DataFrame, ...]
    releases: tuple[str, ...]
    hidden_more: tuple[int, ...]  # per new table: cells hidden for the releases' sake
    rounds: int
    check: DifferencingResult
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The report's ``published`` section (no cell value)."""
        return {
            "releases": list(self.releases),
            "hidden_for_releases": sum(self.hidden_more),
            "rounds": self.rounds,
            "union_check": {
                "safe": self.check.safe,
                "checked_cells": self.check.checked_cells,
                "published_cells": self.check.published_cells,
                "atoms": self.check.atoms,
                # atoms the data leave empty, held at zero (sdc/occupancy.py)
                "empty_atoms": self.check.empty_atoms,
                "lp_count": self.check.lp_count,
            },
            "seconds": round(self.seconds, 6),
        }


def _leaf_key(hierarchies: Sequence[Hierarchy]) -> dict[str, dict[str, Any]]:
    """Per dimension: code -> its leaves (frozenset), or _ALL for the root."""
    out: dict[str, dict[str, Any]] = {}
    for h in hierarchies:
        out[h.name] = {
            code: _ALL if code == h.root else frozenset(h.leaves_under(code)) for code in h.order
        }
    return out


def _cell_keys(
    cells: pd.DataFrame, hierarchies: Sequence[Hierarchy], dims: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Each cell's leaves per dimension of ``dims`` (a dimension it lacks: every leaf)."""
    keys = _leaf_key(hierarchies)
    columns = []
    for d in dims:
        if d in keys:
            columns.append([keys[d].get(str(c), str(c)) for c in cells[d].astype(str)])
        else:
            columns.append([_ALL] * len(cells))
    return list(zip(*columns, strict=True)) if columns else [()] * len(cells)


def carry_hidden(
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    releases: Sequence[OutputTable],
    population: Population | None = None,
) -> tuple[pd.DataFrame, int]:
    """Hide again every cell of a new table that a release hid; returns (cells, how many).

    A release's primary stays a primary (the larger of the two requirements, the rule
    ``published`` added); its secondary becomes a secondary here. Only cells that are
    the same sum of leaves count: other overlaps are the job of protect_with_published.
    """
    if not releases:
        return cells, 0
    # a table of part of the units: its cells are other sums than the whole's
    seen = restrict(OutputTable("new", tuple(hierarchies), cells), population)
    dims = list(seen.dimensions)
    need: dict[tuple[Any, ...], tuple[str, float, float]] = {}
    for rel in releases:
        rc = rel.cells
        if any(d not in dims for d in rel.dimensions):
            # a release with a dimension this table lacks at its total only: compare its
            # cells at that dimension's total
            extra = [h for h in rel.hierarchies if h.name not in dims]
            at_total = np.ones(len(rc), dtype=bool)
            for h in extra:
                at_total &= (rc[h.name].astype(str) == h.root).to_numpy()
            rc = rc[at_total]
        hidden = rc[rc[STATUS].astype(str) != Status.SAFE.value]
        if hidden.empty:
            continue
        keys = _cell_keys(hidden, [h for h in rel.hierarchies if h.name in dims], dims)
        lower = _req(hidden, LOWER)
        upper = _req(hidden, UPPER)
        status = hidden[STATUS].astype(str).to_numpy()
        for k, s, lo, up in zip(keys, status, lower, upper, strict=True):
            old = need.get(k)
            if old is None or old[0] != Status.PRIMARY.value:
                need[k] = (s, lo, up) if s == Status.PRIMARY.value else (s, 0.0, 0.0)
            elif s == Status.PRIMARY.value:
                need[k] = (s, max(old[1], lo), max(old[2], up))
    if not need:
        return cells, 0
    out = cells.copy()
    if LOWER not in out:
        out[LOWER] = 0.0
    if UPPER not in out:
        out[UPPER] = 0.0
    if RULE not in out:
        out[RULE] = ""
    keys = _cell_keys(seen.cells, seen.hierarchies, dims)
    status = out[STATUS].astype(str).to_numpy(dtype=object, copy=True)
    lower = pd.to_numeric(out[LOWER], errors="coerce").fillna(0.0).to_numpy(dtype=float, copy=True)
    upper = pd.to_numeric(out[UPPER], errors="coerce").fillna(0.0).to_numpy(dtype=float, copy=True)
    rule = out[RULE].fillna("").astype(str).to_numpy(dtype=object, copy=True)
    changed = 0
    for i, k in enumerate(keys):
        found = need.get(k)
        if found is None:
            continue
        s, lo, up = found
        if s == Status.PRIMARY.value:
            if status[i] != Status.PRIMARY.value:  # flagged by the release, not the rules
                changed += 1
                rule[i] = PUBLISHED_RULE
            status[i] = Status.PRIMARY.value
            lower[i], upper[i] = max(lower[i], lo), max(upper[i], up)
        elif status[i] == Status.SAFE.value:
            status[i] = Status.SECONDARY.value
            changed += 1
    out[STATUS] = status
    out[LOWER] = lower
    out[UPPER] = upper
    out[RULE] = rule
    return out, changed


def _req(cells: pd.DataFrame, col: str) -> FloatArray:
    if col not in cells:
        return np.zeros(len(cells))
    values = pd.to_numeric(cells[col], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    return np.asarray(np.abs(values), dtype=np.float64)


def protect_with_published(
    new: Sequence[NewTable],
    releases: Sequence[OutputTable],
    occupancy: Occupancy | None = None,
) -> PublishedContext:
    """Hide more cells of the new tables until, with ``releases``, no primary is disclosed.

    Raises InfeasibleProtectionError when a primary is pinned by the releases' own
    published cells (nothing the new tables hide can help), naming the cell and its proof.
    ``occupancy``: the value pairs of the filter columns and the dimensions that hold
    units (sdc/occupancy.py); the attacker knows the others are empty.
    """
    started = time.perf_counter()
    statuses = [t.cells[STATUS].astype(str).to_numpy(dtype=object).copy() for t in new]
    before = [s.copy() for s in statuses]
    n_rel = len(releases)
    pending: set[tuple[int, ...]] | None = None  # None: every target
    rounds = 0
    while True:
        rounds += 1
        try:
            model = DifferencingModel([*releases, *_outputs(new, statuses)], occupancy=occupancy)
        except InconsistentOutputs as exc:
            raise InconsistentOutputs(
                f"the new table(s) and the published releases disagree: {exc.message}",
                hint="the data differ from what was published from this source (revised or "
                "re-ingested?): the differencing check at submission refuses such a table "
                "too; publish it as a new source, or ask the output checkers",
                outputs=exc.outputs,
                redacted="the new table(s) and the published releases disagree on a cell's "
                f"value ({', '.join(exc.outputs)})",
            ) from exc
        chosen = _round(model, new, statuses, n_rel, pending)
        if chosen is None:
            break
        pending = chosen
    outs = _outputs(new, statuses)
    check = check_differencing(outs[-1], [*releases, *outs[:-1]], occupancy=occupancy)
    if not check.safe:  # pragma: no cover - the loop above ends only when this holds
        raise InfeasibleProtectionError(
            "the new tables still disclose a hidden cell of a release: "
            + check.disclosures[0].explain(),
            hint="report this: protection with the published releases should not leave it",
        )
    cells = []
    for t, s in zip(new, statuses, strict=True):
        c = t.cells.copy()
        c[STATUS] = s
        cells.append(c)
    return PublishedContext(
        cells=tuple(cells),
        releases=tuple(r.label for r in releases),
        hidden_more=tuple(
            int(((b == Status.SAFE.value) & (a != Status.SAFE.value)).sum())
            for a, b in zip(statuses, before, strict=True)
        ),
        rounds=rounds,
        check=check,
        seconds=time.perf_counter() - started,
    )


def _outputs(new: Sequence[NewTable], statuses: Sequence[np.ndarray]) -> list[OutputTable]:
    out = []
    for t, s in zip(new, statuses, strict=True):
        c = t.cells.copy()
        c[STATUS] = s
        out.append(restrict(OutputTable(f"{_NEW}{t.name}", t.hierarchies, c), t.population))
    return out


def _round(
    model: DifferencingModel,
    new: Sequence[NewTable],
    statuses: list[np.ndarray],
    n_rel: int,
    pending: set[tuple[int, ...]] | None,
) -> set[tuple[int, ...]] | None:
    """Check the targets (all, or those disclosed last round); hide one published cell of
    the new tables per disclosure not already covered. Returns the disclosed targets'
    keys, or None when nothing is disclosed."""
    cells = model.cells
    keys = model.key_columns
    key_of = [tuple(k) for k in cells[keys].to_numpy(dtype=np.int64).tolist()]
    table_of = cells["_table"].to_numpy(dtype=np.int64)
    row_of = cells["_row"].to_numpy(dtype=np.int64)
    safe = cells["_status"].to_numpy() == Status.SAFE.value
    fixed = {key_of[i] for i in np.flatnonzero(safe & (table_of < n_rel))}
    places: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for j in np.flatnonzero(safe & (table_of >= n_rel)):
        places.setdefault(key_of[j], []).append((int(table_of[j]) - n_rel, int(row_of[j])))
    disclosed: set[tuple[int, ...]] = set()
    hide: set[tuple[int, ...]] = set()
    for i, key in enumerate(model.target_keys):
        if pending is not None and key not in pending:
            continue
        found = model.assess(i)
        if found is None:
            continue
        disclosed.add(key)
        proof = [model.published_keys[r] for r in model.last_rows]
        if any(k in hide for k in proof):
            continue  # a cell chosen this round already breaks this proof
        candidates = [k for k in proof if k in places and k not in fixed]
        if not candidates:
            # the LP's certificate can miss a sum (degenerate duals, multipliers under
            # tolerance): then any sum of the new tables that shares an atom with the
            # proof's sums or the cell, else any of theirs; none at all means the releases
            # alone determine the cell
            candidates = _near(model, i, model.last_rows, places, fixed)
        if not candidates:
            raise InfeasibleProtectionError(
                "a hidden cell is disclosed by the published releases' own cells, whatever "
                f"the new tables hide: {found.explain()}",
                hint="the releases named already determine it; ask the output checkers to "
                "review those releases (nothing in the new tables can protect it)",
            )
        hide.add(min(candidates, key=lambda k: _cost(new, places[k])))
    if not disclosed:
        return None
    for k in hide:
        for t, r in places[k]:
            statuses[t][r] = Status.SECONDARY.value
    return disclosed


def _near(
    model: DifferencingModel,
    target: int,
    rows: frozenset[int],
    places: Mapping[tuple[int, ...], Sequence[tuple[int, int]]],
    fixed: set[tuple[int, ...]],
) -> list[tuple[int, ...]]:
    """Published sums of the new tables (not also published by a release) that share an atom
    with the target or the proof's sums; all of them when none does."""
    a = model.solver.a
    ta = model.target_atoms
    atoms = set(ta.indices[ta.indptr[target] : ta.indptr[target + 1]].tolist())
    for r in rows:
        atoms.update(a.indices[a.indptr[r] : a.indptr[r + 1]].tolist())
    open_rows = [r for r, k in enumerate(model.published_keys) if k in places and k not in fixed]
    near = [
        model.published_keys[r]
        for r in open_rows
        if atoms.intersection(a.indices[a.indptr[r] : a.indptr[r + 1]].tolist())
    ]
    return near or [model.published_keys[r] for r in open_rows]


def _cost(new: Sequence[NewTable], where: Sequence[tuple[int, int]]) -> float:
    return float(sum(new[t].cost[r] for t, r in where))


def releases_of_measure(
    published: Mapping[str, Sequence[OutputTable]] | None, measure: str
) -> tuple[OutputTable, ...]:
    """The releases to protect a table of ``measure`` with (none when not given)."""
    if not published:
        return ()
    return tuple(published.get(measure, ()))
