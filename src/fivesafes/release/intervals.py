"""The audit's protection intervals of a submitted table: what the output checker is shown.

At submission the independent audit (fivesafes.sdc.audit, as ``table protect`` runs it)
computes, for every hidden cell, the interval an attacker can deduce. Up to
EXACT_AUDIT_MAX_CELLS cells that interval is exact; beyond, the audit runs in check mode,
which proves each primary cell's requirement is met without solving its exact interval
(the verdict is the same): for those cells the record says "at least the required".

The intervals pin hidden values down, so they are confidential: :func:`seal_intervals`
seals them under the area key as the submission is sealed (``release.sealing``), bound
to their own object id; nothing here is ever stored or shown in plain text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fivesafes.errors import IntegrityError
from fivesafes.release.sealing import seal, unseal
from fivesafes.sdc import AuditResult, Interval, interval_text
from fivesafes.vault.keys import KeyProvider

FORMAT = 1
# What is kept per hidden cell: its codes, then these (never the true value: it is in
# the sealed submission already, and the interval needs no copy of it).
KEPT = (
    "status",
    "attacker_min",
    "attacker_max",
    "required_lower",
    "required_upper",
    "protected",
    "failure",
    "interval",
)
AT_LEAST = "at least the required"


def intervals_object_id(request_id: int, version: int) -> str:
    """The id that binds a version's sealed intervals to it (not its content's id)."""
    return f"release-request/{request_id}/v{version}/intervals"


@dataclass(frozen=True, eq=False)
class AuditIntervals:
    """One version's audit intervals: the mode, the verdict, and one row per hidden cell.

    ``cells``: the dimension columns (codes as text), then :data:`KEPT`; ``interval`` is
    "exact" where attacker_min/max are the exact interval, else "inner" (check mode: the
    audit proved the requirement, the numbers are only a point it reached) or "unsolved".
    """

    mode: str  # "exact" | "check" (the audit's intervals argument)
    safe: bool
    dimensions: tuple[str, ...]
    cells: pd.DataFrame

    def to_payload(self) -> bytes:
        """The JSON bytes to seal (non-finite bounds as null)."""
        frame = self.cells.astype(object)
        frame = frame.where(pd.notna(frame), None)
        rows = [[_plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
        return json.dumps(
            {
                "format": FORMAT,
                "mode": self.mode,
                "safe": self.safe,
                "dimensions": list(self.dimensions),
                "columns": list(self.cells.columns),
                "rows": rows,
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_payload(cls, payload: bytes) -> AuditIntervals:
        """What :meth:`to_payload` wrote; IntegrityError for anything else."""
        try:
            data = json.loads(payload)
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}")
            dims = tuple(str(d) for d in data["dimensions"])
            cells = pd.DataFrame(data["rows"], columns=list(data["columns"]))
            for d in dims:
                cells[d] = cells[d].astype(str)
            for col in ("attacker_min", "attacker_max", "required_lower", "required_upper"):
                cells[col] = pd.to_numeric(cells[col], errors="coerce").astype(float)
            return cls(str(data["mode"]), bool(data["safe"]), dims, cells)
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(
                "the sealed audit intervals cannot be read",
                hint="submit the table again: its audit is recomputed",
            ) from exc

    def achieved_text(self) -> dict[tuple[str, ...], str]:
        """Per cell (its codes): the achieved interval where exact, else what is proven."""
        out: dict[tuple[str, ...], str] = {}
        kinds = self.cells["interval"].astype(str).to_numpy()
        lows = self.cells["attacker_min"].to_numpy(dtype=float)
        highs = self.cells["attacker_max"].to_numpy(dtype=float)
        protected = self.cells["protected"].fillna(False).astype(bool).to_numpy()
        codes = zip(*(self.cells[d].to_numpy() for d in self.dimensions), strict=True)
        for i, key in enumerate(codes):
            if kinds[i] == "exact":
                text = interval_text(Interval(_end(lows[i]), _end(highs[i])))
            elif kinds[i] == "inner" and protected[i]:
                text = AT_LEAST
            elif kinds[i] == "inner":
                text = "short of the required"
            else:
                text = "not computed (check mode)"
            out[tuple(str(c) for c in key)] = text
        return out

    def rows(self) -> list[dict[str, Any]]:
        """JSON-ready, one per hidden cell: codes, status, required interval (a primary
        cell's; None otherwise or unbounded ends), achieved (:meth:`achieved_text`)."""
        achieved = self.achieved_text()
        out: list[dict[str, Any]] = []
        for rec in self.cells.to_dict("records"):
            codes = {d: str(rec[d]) for d in self.dimensions}
            primary = str(rec.get("status")) == "primary"
            lo, hi = _end(float(rec["required_lower"])), _end(float(rec["required_upper"]))
            out.append(
                {
                    "codes": codes,
                    "status": str(rec.get("status")),
                    "required": [lo, hi] if primary else None,
                    "required_text": interval_text(Interval(lo, hi)) if primary else "",
                    "achieved": achieved[tuple(codes.values())],
                    "protected": bool(rec.get("protected")),
                }
            )
        return out


def audit_intervals(result: AuditResult, dimensions: tuple[str, ...]) -> AuditIntervals:
    """The rows of ``result`` to keep (codes and :data:`KEPT`), with its mode and verdict."""
    frame = result.intervals
    cols = [*dimensions, *(c for c in KEPT if c in frame.columns)]
    cells = frame[cols].copy()
    for d in dimensions:
        cells[d] = cells[d].astype(str)
    mode = str(result.details.get("intervals", "exact"))
    return AuditIntervals(mode, bool(result.safe), tuple(dimensions), cells.reset_index(drop=True))


def seal_intervals(
    provider: KeyProvider, area: str, request_id: int, version: int, intervals: AuditIntervals
) -> tuple[bytes, str]:
    """Seal the intervals under ``area``'s key: (ciphertext, wrapped data key as JSON)."""
    return seal(provider, area, intervals_object_id(request_id, version), intervals.to_payload())


def unseal_intervals(
    provider: KeyProvider,
    area: str,
    request_id: int,
    version: int,
    sealed: bytes,
    wrapped_json: str,
) -> AuditIntervals:
    """Open what :func:`seal_intervals` sealed for this version (IntegrityError if changed)."""
    plain = unseal(provider, area, intervals_object_id(request_id, version), sealed, wrapped_json)
    return AuditIntervals.from_payload(plain)


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _end(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None
