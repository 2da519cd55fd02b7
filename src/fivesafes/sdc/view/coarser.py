"""Coarser tables: the same table with one level dropped in one dimension, protected again.

When a table hides many of its cells, a statistician asks what a little less detail
would buy. Dropping a level of one dimension's hierarchy (its codes go; their children,
if any, hang from the level above) gives a table whose cells are a subset of this
one's, with the same contributors: every cell's primary status is unchanged (the rules
look at a cell's own contributors only), so the coarser table needs no microdata. Its
secondary suppression is chosen afresh and audited, within a time budget, and the
figures say how much each option would hide.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from fivesafes.errors import FivesafesError
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.cells import STATUS, Status
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.progress import Progress
from fivesafes.sdc.progress import stage as progress_stage
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.spec import SuppressionSpec
from fivesafes.sdc.view.model import Suggestion, build_view

DEFAULT_BUDGET_SECONDS = 60.0
MIN_SECONDS_EACH = 1.0  # the least time limit a candidate's optimisation is given


@dataclass(frozen=True)
class Candidate:
    """One coarser table: which dimension, which level, and its hierarchies."""

    dimension: str
    level: int
    dropped: int  # codes removed
    hierarchies: tuple[Hierarchy, ...]

    deepest: bool  # the most detailed level (a coarser table), else a level of subtotals

    @property
    def description(self) -> str:
        """The change in words."""
        if self.deepest and all(
            h.max_depth == 0 for h in self.hierarchies if h.name == self.dimension
        ):
            return f"without {self.dimension} (its total only)"
        if self.deepest:
            return f"{self.dimension} without its most detailed level ({_codes(self.dropped)})"
        return f"{self.dimension} without the level {self.level} subtotals ({_codes(self.dropped)})"


def dropped_codes(h: Hierarchy, level: int) -> tuple[str, ...]:
    """The codes that go when ``level`` is dropped.

    The deepest level goes whole (its parents become the leaves: a coarser table); at a
    level above, only its subtotals go (a code with children; their children hang from
    the level above), since a leaf there is data that no other code adds up.
    """
    if not 1 <= level <= h.max_depth:
        raise ValueError(f"level {level} is not a level of {h.name!r} (1..{h.max_depth})")
    deepest = level == h.max_depth
    return tuple(c for c in h.order if h.depth[c] == level and (deepest or not h.is_leaf(c)))


def drop_level(h: Hierarchy, level: int) -> Hierarchy:
    """``h`` without the codes of :func:`dropped_codes`; their children hang from their parent."""
    gone = set(dropped_codes(h, level))
    pairs: list[tuple[str, str | None]] = []
    for code in h.order:
        if code in gone:
            continue
        parent = h.parent[code]
        if parent in gone:
            parent = h.parent[parent]
        pairs.append((code, parent))
    return Hierarchy.from_pairs(h.name, pairs, labels=h.labels)


def candidates(hierarchies: Sequence[Hierarchy]) -> tuple[Candidate, ...]:
    """Every table with one level dropped in one dimension, deepest levels first."""
    out = []
    for i, h in enumerate(hierarchies):
        for level in range(h.max_depth, 0, -1):
            coarse = drop_level(h, level)
            hs = (*hierarchies[:i], coarse, *hierarchies[i + 1 :])
            dropped = len(dropped_codes(h, level))
            out.append(Candidate(h.name, level, dropped, hs, level == h.max_depth))
    return tuple(out)


def restrict(cells: pd.DataFrame, hierarchies: Sequence[Hierarchy]) -> pd.DataFrame:
    """The cells of a coarser table: those whose codes all remain; secondary made safe again."""
    keep = np.ones(len(cells), dtype=bool)
    for h in hierarchies:
        keep &= cells[h.name].astype(str).isin(set(h.codes)).to_numpy()
    out = cells.loc[keep].reset_index(drop=True)
    status = out[STATUS].astype(str)
    out[STATUS] = status.where(status != Status.SECONDARY.value, Status.SAFE.value)
    return out


def suggest_coarser(
    name: str,
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    suppression: SuppressionSpec,
    *,
    frequency: bool = False,
    budget_seconds: float = DEFAULT_BUDGET_SECONDS,
    progress: Progress | None = None,
) -> tuple[Suggestion, ...]:
    """Protect each coarser table within ``budget_seconds``; those hiding least come first.

    Candidates not started when the budget runs out are listed as not tried. A candidate
    that cannot be protected, or whose pattern fails the audit, says so in ``error``.
    """
    todo = candidates(hierarchies)
    method = suppression.method if suppression.method != "none" else "auto"
    start = time.monotonic()
    done: list[Suggestion] = []
    with progress_stage(progress, "coarser tables", total=len(todo)) as tell:
        for i, cand in enumerate(todo):
            left = budget_seconds - (time.monotonic() - start)
            if left <= 0:
                done.append(_not_tried(cand, budget_seconds))
                tell.advance(1, f"{cand.description}: not tried")
                continue
            each = max(MIN_SECONDS_EACH, min(suppression.time_limit, left / (len(todo) - i)))
            spec = replace(suppression, method=method, time_limit=each)
            done.append(_protect(name, cells, cand, spec, frequency, progress))
            tell.advance(1, cand.description)
        tell.outcome = f"{sum(not s.error for s in done)} of {len(todo)} protected"
    return tuple(sorted(done, key=_rank))


def _protect(
    name: str,
    cells: pd.DataFrame,
    cand: Candidate,
    suppression: SuppressionSpec,
    frequency: bool,
    progress: Progress | None,
) -> Suggestion:
    t = time.monotonic()
    sub = restrict(cells, cand.hierarchies)
    dims = [h.name for h in cand.hierarchies]
    try:
        # the methods' and the audit's own stages show a long candidate's progress too
        result = protect_secondary(
            sub,
            cand.hierarchies,
            suppression,
            frequency=frequency,
            dimensions=dims,
            progress=progress,
        )
        audit = audit_table(
            result.cells,
            cand.hierarchies,
            a_priori_percent=suppression.a_priori_percent,
            frequency=frequency,
            singleton=suppression.singleton,
            dimensions=dims,
            intervals="check",
            progress=progress,
        )
    except FivesafesError as exc:
        return _failed(cand, len(sub), time.monotonic() - t, suppression.method, exc.message)
    view = build_view(name, result.cells, cand.hierarchies, checker=True)
    assert view.loss is not None
    return Suggestion(
        dimension=cand.dimension,
        level=cand.level,
        description=cand.description,
        cells=view.loss.cells,
        primary=view.loss.primary,
        secondary=view.loss.secondary,
        value_share_hidden=view.loss.leaf_share_of_total(),
        seconds=time.monotonic() - t,
        method=result.method,
        safe=audit.safe,
        error="" if audit.safe else "the pattern failed the audit",
    )


def _failed(cand: Candidate, n: int, seconds: float, method: str, why: str) -> Suggestion:
    return Suggestion(cand.dimension, cand.level, cand.description, n, 0, 0, None, seconds,
                      method, False, why)  # fmt: skip


def _not_tried(cand: Candidate, budget: float) -> Suggestion:
    return _failed(cand, 0, 0.0, "", f"not tried: the time budget of {budget:g} s was used")


def _rank(s: Suggestion) -> tuple[bool, float, int]:
    return (bool(s.error), s.share_hidden, s.hidden)


def _codes(n: int) -> str:
    return f"{n:,} code" if n == 1 else f"{n:,} codes"
