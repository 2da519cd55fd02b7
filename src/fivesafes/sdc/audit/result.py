"""The result of an audit: per hidden cell intervals, the failures, and a JSON-ready summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from fivesafes.errors import UnsafeTableError

FAIL_INTERVAL = "interval"  # the attacker's interval does not reach the required protection
FAIL_EXACT = "exact"  # the attacker recovers the primary cell exactly
FAIL_PUBLISHED = "published"  # a primary cell is published (by another linked table)
FAIL_SINGLETON = "singleton"  # another single contributor narrows the interval too much

IntervalMode = Literal["exact", "primary", "check"]
INTERVAL_MODES: tuple[str, ...] = ("exact", "primary", "check")

INTERVAL_COLUMNS = (
    "value",
    "status",
    "attacker_min",
    "attacker_max",
    "required_lower",
    "required_upper",
    "protected",
    "exact",
    "failure",
    "interval",
)


@dataclass(frozen=True, eq=False)
class AuditResult:
    """Intervals of every hidden cell, the under-protected ones, and the work it took."""

    intervals: pd.DataFrame
    failures: pd.DataFrame
    safe: bool
    lp_count: int
    timings: Mapping[str, float]
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self, *, max_failures: int = 100) -> dict[str, Any]:
        """A JSON-ready summary for report.json (infinite bounds become null)."""
        kinds: dict[str, int] = {}
        for text in self.failures["failure"]:
            for kind in str(text).split(";"):
                kinds[kind] = kinds.get(kind, 0) + 1
        records: list[dict[str, Any]] = []
        if len(self.failures):  # a safe table's summary skips the frame work (most audits)
            listed = self.failures.head(max_failures).astype(object)
            listed = listed.where(pd.notna(listed), None)
            records = [
                {str(k): _json_value(v) for k, v in row.items()}
                for row in listed.to_dict("records")
            ]
        return {
            "safe": self.safe,
            "hidden_cells": len(self.intervals),
            "failures": len(self.failures),
            "failures_by_kind": kinds,
            "failed_cells": records,
            "failed_cells_listed": len(records),
            "lp_count": self.lp_count,
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
            **{k: _json_value(v) for k, v in self.details.items()},
        }

    def summary(self) -> str:
        """A few human-readable lines: verdict, counts, work done."""
        d = self.details
        verdict = "SAFE" if self.safe else f"UNSAFE: {len(self.failures)} under-protected cell(s)"
        exact_secondary = d.get("exact_secondary")
        exact_text = "not computed" if exact_secondary is None else str(exact_secondary)
        return (
            f"audit: {verdict}\n"
            f"  hidden cells: {len(self.intervals)} ({d.get('primary_cells', 0)} primary, "
            f"{d.get('secondary_cells', 0)} secondary; secondary exactly determined: "
            f"{exact_text})\n"
            f"  intervals: {d.get('intervals')}\n"
            f"  attacker bounds: {d.get('bounds')}\n"
            f"  LPs solved: {self.lp_count} in {d.get('components', 0)} component(s); "
            f"{d.get('determined_without_lp', 0)} cell(s) determined without an LP; "
            f"{d.get('skipped_at_bound', 0)} LP(s) skipped at a bound; "
            f"{self.timings.get('total', 0.0):.3f}s"
        )

    def raise_if_unsafe(self) -> None:
        """Raise UnsafeTableError naming the first under-protected cells."""
        if self.safe:
            return
        columns = list(self.failures.columns)
        dims = columns[: columns.index("value")]  # the codes come first
        names = []
        for _, row in self.failures.head(5).iterrows():
            codes = ", ".join(f"{d}={row[d]}" for d in dims)
            names.append(f"{codes} ({row['failure']})")
        raise UnsafeTableError(
            f"{len(self.failures)} hidden cell(s) are under-protected: " + "; ".join(names),
            hint="hide more cells (secondary suppression) and audit again; see audit.csv",
        )


def _json_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v
