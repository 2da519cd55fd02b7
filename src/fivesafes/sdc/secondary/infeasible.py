"""The error for a demand no pattern can meet: which cells make it so, and what to do.

A capacity cut (see :mod:`model`) holds for every pattern, so when even hiding every
cell it counts cannot reach the requirement, the primary cannot be protected in this
table, under these bounds, against this attacker. The statistician needs the cells
that make it so (the primary, the insider whose knowledge pins it, the structural
zeros that leave that insider's cell alone in its relations) and the ways out, the one
that keeps the most information first: a coarser table, then handling that single
contributor at a higher level, then the attacker's a-priori bounds; turning the
insider guarantee off for the whole table is the last resort, never the only advice.
"""

from __future__ import annotations

import math

import numpy as np

from fivesafes.errors import InfeasibleProtectionError
from fivesafes.sdc.secondary.model import UP, Cut, Problem, met

MAX_NAMED = 4  # structural zeros named in the message (the rest are counted)


def _zeros_around(problem: Problem, cell: int) -> list[int]:
    """Structural zeros sharing a relation with ``cell``."""
    csc, a = problem.csc, problem.relations
    out: set[int] = set()
    for r in csc.indices[csc.indptr[cell] : csc.indptr[cell + 1]].tolist():
        members = a.indices[a.indptr[r] : a.indptr[r + 1]]
        out.update(int(q) for q in members[problem.fixed[members]].tolist())
    return sorted(out)


def check_feasible_alone(problem: Problem) -> None:
    """Raise when a primary's own a-priori room is smaller than its requirement."""
    for p, direction, req in problem.targets():
        room = problem.up[p] if direction == UP else problem.down[p]
        if not met(room, req):
            word = "upper" if direction == UP else "lower"
            raise InfeasibleProtectionError(
                f"{problem.describe(p)} cannot be protected: it needs {word} protection "
                f"{req:.6g} but the attacker's bounds already confine it to within "
                f"{room:.6g} {'above' if direction == UP else 'below'} its value "
                f"{problem.value[p]:.6g}",
                hint=_options(problem, p, needed=_percent_needed(problem, p, direction, req)),
            )


def cannot_protect(problem: Problem, cut: Cut, reach: float) -> InfeasibleProtectionError:
    """The error for ``cut``: even hiding every cell it counts leaves ``reach`` < its rhs."""
    p = cut.primary
    word = "upper" if cut.direction == UP else "lower"
    who = "an outside attacker (published cells, additivity, a-priori bounds)"
    because: list[str] = []
    if cut.pin >= 0:
        q = cut.pin
        who = (
            f"the single contributor of {problem.describe(q)} (who knows that cell's value "
            f"{problem.value[q]:.6g} and is not, as far as the table shows, a contributor of "
            f"{problem.describe(p)})"
        )
        zeros = _zeros_around(problem, q)
        if zeros:
            named = "; ".join(problem.describe(z) for z in zeros[:MAX_NAMED])
            more = f" and {len(zeros) - MAX_NAMED} more" if len(zeros) > MAX_NAMED else ""
            because.append(
                f"structural zeros next to that cell leave it alone in its relations: {named}{more}"
            )
    zeros_p = [z for z in _zeros_around(problem, p) if cut.pin < 0]
    if zeros_p:
        named = "; ".join(problem.describe(z) for z in zeros_p[:MAX_NAMED])
        because.append(f"structural zeros around it cannot be hidden: {named}")
    message = (
        f"{problem.describe(p)} cannot be protected: even hiding every cell that could help, "
        f"{who} still pins its {word} side to within {reach:.6g} of its value "
        f"{problem.value[p]:.6g}, less than the required {cut.rhs:.6g}"
        + ("".join(f"; {b}" for b in because))
    )
    return InfeasibleProtectionError(message, hint=_options(problem, cut.primary, cut.pin))


def _percent_needed(problem: Problem, p: int, direction: int, req: float) -> float | None:
    """The a-priori percentage whose bounds would leave ``p`` room for ``req``, if any.

    None when no percentage would: a zero value, or a lower requirement beyond the value
    of a cell that cannot go below zero.
    """
    value = abs(float(problem.value[p]))
    if value == 0 or (direction != UP and req > value and problem.down[p] <= value):
        return None
    return 100.0 * req / value


def _options(problem: Problem, p: int, q: int = -1, *, needed: float | None = None) -> str:
    """The ways out for primary ``p`` (pinned by insider ``q``, if any), most kept first.

    ``needed``: the a_priori_percent at which ``p``'s own bounds would leave it room enough.
    """
    merges = list(problem.coarser(p))
    if q >= 0:
        merges += [m for m in problem.coarser(q) if m not in merges]
    coarser = (
        "publish a coarser table, e.g. " + " or ".join(merges[:3])
        if merges
        else "publish a coarser table (a level dropped in a dimension)"
    )
    options = [coarser]
    if q >= 0:
        options.append(
            f"handle this single contributor at a higher level: merge the codes of "
            f"{problem.describe(q)} so that it is published only where it has more than one "
            "contributor (or hide it with its parent cells in every release)"
        )
    if bool(np.isfinite(problem.up).all()):
        # only a-priori bounds confine a cell; without them there is nothing to widen, and
        # asking the rules for less protection is never offered (issue 15 §1)
        at_least = f" to at least {math.ceil(needed * 10) / 10:g}" if needed is not None else ""
        options.append(
            f"widen [suppression] a_priori_percent{at_least} (the attacker's bounds on hidden "
            "cells), if what an attacker may know beforehand is that vague"
        )
    if q >= 0:
        options.append(
            "as a last resort, singleton = false protects every cell against outsiders only"
        )
    return "; ".join(f"({i}) {o}" for i, o in enumerate(options, start=1))
