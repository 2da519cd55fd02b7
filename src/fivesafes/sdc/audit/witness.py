"""Witnesses: attacker moves offered with a pattern, which the audit verifies, not trusts.

A protection method may hand the audit, per demand, the move that made it think the
demand is met: a change ``z`` of some hidden cells. The audit checks it against its
own relations and bounds, with nothing taken from the method but the numbers:

* every cell the move changes is hidden (a published cell cannot move);
* ``x = value + z`` stays within the attacker's bounds on every cell;
* every relation still holds: ``A z = 0`` (to the audit's tolerance).

Then ``x`` is a feasible point of the attacker's system, exactly like a point an LP
returns, and the audit uses it the same way: a cell it takes to its required end
needs no LP on that side. A witness that fails any check is counted and ignored, so a
wrong or forged witness can only cost LPs, never change the verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Witnesses = Mapping[tuple[int, int], tuple[npt.ArrayLike, npt.ArrayLike]]


@dataclass(frozen=True)
class VerifiedWitnesses:
    """The range of each cell over the verified witness points, and what each proved."""

    seen_lo: FloatArray  # smallest value of each cell over the values and witness points
    seen_hi: FloatArray
    moves: dict[tuple[int, int], tuple[IntArray, FloatArray]]  # the verified ones
    rejected: int


def verify_witnesses(
    witnesses: Witnesses | None,
    relations: sp.csr_matrix,
    values: FloatArray,
    hidden: BoolArray,
    lower: FloatArray,
    upper: FloatArray,
    tol: float,
) -> VerifiedWitnesses:
    """Check every witness; keep the feasible ones (see the module docstring)."""
    seen_lo = values.astype(np.float64).copy()
    seen_hi = values.astype(np.float64).copy()
    kept: dict[tuple[int, int], tuple[IntArray, FloatArray]] = {}
    rejected = 0
    if not witnesses:
        return VerifiedWitnesses(seen_lo, seen_hi, kept, rejected)
    csc = sp.csc_matrix(relations)
    n = values.size
    # one move may be offered for many demands (a batch LP's): the very same objects,
    # which are checked once (they cannot change during this loop)
    done: dict[tuple[int, int], tuple[IntArray, FloatArray] | None] = {}
    for key, (raw_cells, raw_move) in (witnesses or {}).items():
        same = (id(raw_cells), id(raw_move))
        if same in done:
            if (found := done[same]) is None:
                rejected += 1
            else:
                kept[key] = found
            continue
        done[same] = None
        cells = np.asarray(raw_cells, dtype=np.int64)
        move = np.asarray(raw_move, dtype=np.float64)
        if (
            cells.shape != move.shape
            or cells.size == 0
            or cells.min() < 0
            or cells.max() >= n
            or np.unique(cells).size != cells.size
            or not np.isfinite(move).all()
        ):
            rejected += 1
            continue
        x = values[cells] + move
        moved = np.abs(move) > 0
        residual = csc[:, cells] @ move
        if (
            not hidden[cells[moved]].all()
            or (x < lower[cells] - tol).any()
            or (x > upper[cells] + tol).any()
            or np.abs(residual).max(initial=0.0) > tol
        ):
            rejected += 1
            continue
        np.minimum.at(seen_lo, cells, x)
        np.maximum.at(seen_hi, cells, x)
        kept[key] = done[same] = (cells, move)
    return VerifiedWitnesses(seen_lo, seen_hi, kept, rejected)


def proves_against_insiders(
    verified: VerifiedWitnesses,
    p: int,
    insiders: BoolArray,
    values: FloatArray,
    req_lo: FloatArray,
    req_hi: FloatArray,
    tol: float,
) -> bool:
    """True when, for each required end of ``p`` and each of the ``insiders`` (cells
    whose contributors know them), some verified witness takes ``p`` to that end without
    moving that insider's cell: that insider, knowing his cell, still cannot rule the
    point out. Keys: ``(p, +1)`` upper, ``(p, -1)`` lower; further moves for the same end
    ``(p, ±(k + 2))``. Every move was checked by :func:`verify_witnesses` (feasible for
    the outsider; pinning one more cell at its value keeps it feasible for that insider).
    """
    sides = ((1, req_hi[p] - values[p]), (-1, values[p] - req_lo[p]))
    if max(need for _, need in sides) <= tol:
        return False  # nothing to reach: the check is that p is not exact, left to the LPs
    others = np.flatnonzero(insiders)
    others = others[others != p]
    by_end = moves_by_end(verified)
    for direction, need in sides:
        if need <= tol:
            continue  # the published table itself is at this end
        open_ = np.ones(others.size, dtype=bool)
        for cells, move in by_end.get((p, direction), ()):
            at_p = move[cells == p]
            if at_p.size != 1 or direction * float(at_p[0]) < need - tol:
                continue
            open_ &= np.isin(others, cells[np.abs(move) > 0])  # still moved: still open
            if not open_.any():
                break
        if open_.any():
            return False
    return True


def moves_by_end(
    verified: VerifiedWitnesses,
) -> dict[tuple[int, int], list[tuple[IntArray, FloatArray]]]:
    """The verified moves of each (primary, +1/-1), cached on the (frozen) witnesses."""
    cache = verified.__dict__.get("_by_end")
    if cache is None:
        cache = {}
        for (p, d), found in verified.moves.items():
            cache.setdefault((p, 1 if d > 0 else -1), []).append(found)
        object.__setattr__(verified, "_by_end", cache)
    return cache
