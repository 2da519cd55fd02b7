"""The content of report.json: what was protected, how, with which parameters, and what came out.

Everything a reviewer needs to reproduce or challenge the result: the spec as
parsed (defaults included) and its hash, the data source and its hash, every rule
parameter in force, counts per status and rule, timings and notes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from fivesafes import __version__
from fivesafes.sdc.cells import RECORDS, RULE, STATUS, Status
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.rules import rule_basis, rule_names
from fivesafes.sdc.spec import TableSpec

NO_SECONDARY_WARNING = (
    "no secondary suppression was applied: a hidden cell may be recoverable from the "
    "published totals; do not release this table until secondary suppression and its audit pass"
)


def spec_as_dict(spec: TableSpec) -> dict[str, Any]:
    """The spec as parsed: every parameter in force, defaults included."""
    return {
        "name": spec.name,
        "kind": "frequency" if spec.is_frequency else "magnitude",
        "response": spec.response,
        "contributor": spec.contributor,
        "holding": spec.holding,
        "weight": spec.weight,
        "unit": spec.unit,
        "dimensions": [
            {
                "name": d.name,
                "hierarchy": str(d.hierarchy) if d.hierarchy else None,
                "total_code": d.total_code,
            }
            for d in spec.dimensions
        ],
        "rules": spec.rules.as_dict(),
        "suppression": spec.suppression.as_dict(),
        "protection": spec.protection,
        "perturbation": spec.perturbation.as_dict(),
        "rounding": spec.rounding.as_dict(),
    }


def count_by_status(cells: pd.DataFrame) -> dict[str, int]:
    """Cells per status, every known status listed (unknown ones too, so none is hidden)."""
    counts = {s.value: 0 for s in Status}
    for status, n in cells[STATUS].value_counts().items():
        counts[str(status)] = int(n)
    return counts


# report.json's cells.<this>: the digest of cells.csv's statuses, written with it
STATUS_DIGEST = "status_sha256"


def status_digest(cells: pd.DataFrame, dimensions: Sequence[str]) -> str:
    """SHA-256 of every cell's codes and status, in any row order (cells.csv's statuses)."""

    def text(column: str) -> pd.Series:
        values = cells[column].astype(object)
        return values.where(values.notna(), "").astype(str)  # empty when missing

    keys = pd.Series("", index=cells.index, dtype=object)
    for d in dimensions:
        keys = keys + text(d) + "\x1f"
    keys = keys + text(STATUS)
    return hashlib.sha256("\n".join(sorted(keys.tolist())).encode("utf-8")).hexdigest()


def count_by_rule(cells: pd.DataFrame, names: Sequence[str] = ()) -> dict[str, int]:
    """Cells flagged per rule; a cell flagged by several rules counts under each."""
    counts = dict.fromkeys(names, 0)
    labels = cells[RULE].astype(str)
    for label, n in labels[labels != ""].value_counts().items():
        for name in str(label).split(";"):
            counts[name] = counts.get(name, 0) + int(n)
    return counts


def build_report(
    spec: TableSpec,
    cells: pd.DataFrame,
    hierarchies: Sequence[Hierarchy],
    *,
    source: Mapping[str, Any],
    timings: Mapping[str, float],
    notes: Sequence[str] = (),
    created_at: dt.datetime | None = None,
    secondary: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble report.json's content (plain JSON types only)."""
    created = created_at or dt.datetime.now(dt.UTC)
    names = rule_names(spec.rules, frequency=spec.is_frequency)
    all_notes = list(notes)
    all_notes.extend(str(n) for n in (secondary or {}).get("notes", ()))
    if spec.suppression.method == "none" and spec.protection == "suppression":
        all_notes.append(NO_SECONDARY_WARNING)
    rows = _grand_total_records(cells, spec, hierarchies)
    return {
        "fivesafes_version": __version__,
        "created_at": created.isoformat(timespec="seconds"),
        "table": spec.name,
        "spec": {
            "path": str(spec.source_path.resolve()) if spec.source_path else None,
            "sha256": spec.spec_hash,
            "parsed": spec_as_dict(spec),
        },
        "source": {**dict(source), "rows": rows},
        "rules": {
            **spec.rules.as_dict(),
            "in_force": list(names),
            "basis": rule_basis(spec.rules, weighted=spec.weight is not None),
        },
        "suppression": spec.suppression.as_dict(),
        "secondary": _plain_json(dict(secondary or {})),
        "dimensions": [
            {
                "name": h.name,
                "root": h.root,
                "codes": len(h.codes),
                "leaves": len(h.leaves),
                "depth": h.max_depth,
            }
            for h in hierarchies
        ],
        "cells": {
            "total": len(cells),
            "by_status": count_by_status(cells),
            "by_rule": count_by_rule(cells, names),
        },
        "timings": {k: round(float(v), 6) for k, v in timings.items()},
        "notes": all_notes,
    }


def _grand_total_records(
    cells: pd.DataFrame, spec: TableSpec, hierarchies: Sequence[Hierarchy]
) -> int | None:
    # every row falls in the grand total, so its record count is the number of rows read
    if len(hierarchies) != len(spec.dimensions) or not len(cells):
        return None
    mask = pd.Series(True, index=cells.index)
    for dim, h in zip(spec.dimension_names, hierarchies, strict=True):
        mask &= cells[dim].astype(str) == h.root
    hits = cells.loc[mask, RECORDS]
    return int(hits.iloc[0]) if len(hits) == 1 else None


def _plain_json(value: Any) -> Any:
    # numpy scalars and tuples from other modules must not break json.dumps
    if isinstance(value, dict):
        return {str(k): _plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value
