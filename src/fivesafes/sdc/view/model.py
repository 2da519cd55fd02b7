"""The table as people see it: one row per cell in hierarchy order, and what hiding cost.

Pure functions over frozen dataclasses, shared by every renderer (terminal, HTML, the
coming web pages). Two views of the same protected table:

- **published**: what the public would see. A hidden cell has no value (shown ``[c]``);
  primary and secondary cells look the same, and no rule or interval is in the view.
- **checker**: what an output checker needs to judge the protection. Every true value,
  the status (primary / secondary / safe), the rules that flagged each primary cell, its
  required protection interval and the interval the attacker achieves (from the audit),
  and the information lost per level. CONFIDENTIAL, like cells.csv.

Rows follow the product of the hierarchies' orders (first dimension outermost), so every
cell's parents (in any dimension) come before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fivesafes.errors import DataError
from fivesafes.sdc.cells import PUBLISHED, RECORDS, RULE, STATUS, VALUE, Status
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.view.loss import LevelLoss, Loss, describe_level, level_loss
from fivesafes.sdc.view.rows import Interval, ViewRow

__all__ = [
    "SUGGEST_ABOVE_SHARE",
    "Interval",
    "LevelLoss",
    "Loss",
    "Suggestion",
    "TableView",
    "ViewRow",
    "build_view",
    "describe_level",
    "level_loss",
]


@dataclass(frozen=True)
class Suggestion:
    """A coarser table (one level dropped in one dimension), protected, with its figures."""

    dimension: str
    level: int  # the depth dropped
    description: str  # e.g. "industry without level 2 (21 codes)"
    cells: int
    primary: int
    secondary: int
    value_share_hidden: float | None  # hidden value at the most detailed level / total
    seconds: float
    method: str
    safe: bool
    error: str = ""  # why it could not be protected or was not tried; empty when done

    @property
    def hidden(self) -> int:
        """Cells hidden in the coarser table."""
        return self.primary + self.secondary

    @property
    def share_hidden(self) -> float:
        """Share of the coarser table's cells that are hidden."""
        return self.hidden / self.cells if self.cells else 0.0


@dataclass(frozen=True)
class TableView:
    """A protected table ready to render: rows in hierarchy order, loss, suggestions."""

    name: str
    dimensions: tuple[str, ...]
    checker: bool
    rows: tuple[ViewRow, ...]
    unit: str | None = None
    loss: Loss | None = None  # checker view only
    suggestions: tuple[Suggestion, ...] = ()
    audit: str = ""  # the audit's verdict in words (checker view)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types (``--json``, the web pages): every field, the loss in words too."""
        out = asdict(self)
        if self.loss is not None:
            out["loss"]["sentences"] = list(self.loss.sentences())
            out["loss"]["share_hidden"] = self.loss.share_hidden
            out["loss"]["leaf_share_of_total"] = self.loss.leaf_share_of_total()
        for row in out["rows"]:
            row["status"] = None if row["status"] is None else str(row["status"].value)
        return out


# Above this share of hidden cells a statistician should consider a coarser table.
SUGGEST_ABOVE_SHARE = 1 / 3


def build_view(
    name: str,
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    *,
    checker: bool = False,
    intervals: pd.DataFrame | None = None,
    unit: str | None = None,
    audit: str = "",
    suggestions: Sequence[Suggestion] = (),
    notes: Sequence[str] = (),
) -> TableView:
    """The view of a protected table's cells (``intervals``: the audit's, checker view only)."""
    dims = tuple(h.name for h in hierarchies)
    missing = [c for c in (*dims, STATUS) if c not in cells.columns]
    if missing:
        raise DataError(
            f"the cells of table {name!r} have no column(s) {missing}",
            hint="give the cells of `table protect` (cells.csv): one column per dimension "
            "and a status",
        )
    keyed = _keyed(cells, dims)
    order = _order(hierarchies)
    present = keyed.reindex(order)
    found = present[STATUS].notna().to_numpy()
    status = present[STATUS].astype(object).to_numpy()
    # fail closed: any status other than "safe" (unknown ones included) is hidden
    safe = np.array([str(s) == Status.SAFE.value for s in status], dtype=bool)
    hidden = ~(found & safe)
    values = _column(present, VALUE)
    shown_values = _column(present, PUBLISHED) if PUBLISHED in present else values
    rules = (
        present[RULE].astype(object).to_numpy() if RULE in present else np.full(len(order), None)
    )
    audit_rows = _keyed(intervals, dims).reindex(order) if intervals is not None else None
    depth = [h.depth for h in hierarchies]
    audit_of = _AuditColumns.of(audit_rows)
    has_published = PUBLISHED in present
    rows: list[ViewRow] = []
    # each code's label, depth and leafness once per dimension (the loop runs once per cell)
    facts = [
        {c: (h.label(c), d[c], h.is_leaf(c)) for c in h.codes}
        for h, d in zip(hierarchies, depth, strict=True)
    ]
    single = len(hierarchies) == 1
    codes: tuple[str, ...]
    labels: tuple[str, ...]
    levels: tuple[int, ...]
    for i, key in enumerate(order):
        if single and not isinstance(key, tuple):
            code = str(key)
            label, level, leaf = facts[0][code]
            codes, labels, levels = (code,), (label,), (level,)
        else:
            codes = tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
            known = [f[c] for f, c in zip(facts, codes, strict=True)]
            labels = tuple(k[0] for k in known)
            levels = tuple(k[1] for k in known)
            leaf = all(k[2] for k in known)
        is_hidden, is_missing = bool(hidden[i]), not bool(found[i])
        if not checker:
            shown = None if is_hidden else _number(shown_values[i])
            rows.append(ViewRow(codes, labels, levels, shown, is_hidden, is_missing, leaf=leaf))
            continue
        achieved, required, protected = audit_of.at(i)
        rows.append(
            ViewRow(
                codes,
                labels,
                levels,
                _number(values[i]),
                is_hidden,
                is_missing,
                status=None if is_missing else _status(status[i]),
                rules=_rules(rules[i]),
                required=required,
                achieved=achieved,
                protected=protected,
                published_value=(
                    _number(shown_values[i]) if has_published and not is_hidden else None
                ),
                leaf=leaf,
            )
        )
    loss = level_loss(tuple(rows), dims) if checker else None
    return TableView(
        name=name,
        dimensions=dims,
        checker=checker,
        rows=tuple(rows),
        unit=unit,
        loss=loss,
        suggestions=tuple(suggestions) if checker else (),
        audit=audit if checker else "",
        notes=tuple(notes),
    )


def _keyed(cells: pd.DataFrame, dims: Sequence[str]) -> pd.DataFrame:
    frame = cells.copy()
    if VALUE not in frame.columns and RECORDS in frame.columns:
        frame[VALUE] = frame[RECORDS].astype(float)  # an unweighted count table's value
    frame = frame.assign(**{d: frame[d].astype(str) for d in dims}).set_index(list(dims))
    return frame[~frame.index.duplicated(keep="first")]


def _order(hierarchies: Sequence[Hierarchy]) -> pd.Index:
    names = [h.name for h in hierarchies]
    order = pd.MultiIndex.from_product([list(h.codes) for h in hierarchies], names=names)
    # one dimension: a flat index matches the flat index of the keyed cells
    return order if len(hierarchies) > 1 else order.get_level_values(0)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)


def _number(v: float) -> float | None:
    return None if np.isnan(v) else float(v)


def _status(raw: object) -> Status | None:
    try:
        return Status(str(raw))
    except ValueError:
        return None  # an unknown status: hidden (fail closed) and shown as unknown


def _rules(raw: object) -> tuple[str, ...]:
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return ()
    return tuple(r for r in str(raw).split(";") if r)


@dataclass(frozen=True)
class _AuditColumns:
    """The audit's intervals as arrays aligned with the view's rows (fast per-row access)."""

    attacker_min: np.ndarray
    attacker_max: np.ndarray
    required_lower: np.ndarray
    required_upper: np.ndarray
    primary: np.ndarray
    protected: np.ndarray

    @classmethod
    def of(cls, rows: pd.DataFrame | None) -> _AuditColumns | _NoAudit:
        if rows is None:
            return _NoAudit()
        return cls(
            _column(rows, "attacker_min"),
            _column(rows, "attacker_max"),
            _column(rows, "required_lower"),
            _column(rows, "required_upper"),
            (rows["status"].astype(str) == Status.PRIMARY.value).to_numpy(),
            rows["protected"].fillna(False).astype(bool).to_numpy(),
        )

    def at(self, i: int) -> tuple[Interval | None, Interval | None, bool | None]:
        """(achieved, required, protected) of row ``i``; None where the audit has nothing."""
        low, high = self.attacker_min[i], self.attacker_max[i]
        if np.isnan(low) and np.isnan(high):
            return None, None, None
        achieved = Interval(_end(low), _end(high))
        if not self.primary[i]:
            return achieved, None, None
        required = Interval(_end(self.required_lower[i]), _end(self.required_upper[i]))
        return achieved, required, bool(self.protected[i])


class _NoAudit:
    def at(self, i: int) -> tuple[None, None, None]:
        return None, None, None


def _end(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None
