"""Protection by changing values instead of hiding them: cell key, random and controlled rounding.

The same pipeline as suppression (tabulate -> primary rules -> protect -> report),
with a different middle step; the result is a :class:`TableResult` whose cells carry
``published`` (the value as published) next to the true ``value``. Every cell is
published (status ``safe``) except the few a rounded table must still suppress.

Record keys: the cell key method and random rounding need them. ``keys`` is either
:class:`KeyMaterial` (the ``--data`` path: keys drawn here from ``[perturbation]
record_id``) or :class:`StoredKeys` (a dataset whose keys were drawn at ingest).
Without either, nothing is published (KeyProviderError).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from fivesafes.errors import KeyProviderError, SpecError
from fivesafes.sdc.cells import CELL_KEY, PUBLISHED, RECORDS, STATUS, VALUE, Status, top_column
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.loss import loss_measures
from fivesafes.sdc.perturbation.attach import attach_record_keys
from fivesafes.sdc.perturbation.cellkey import magnitude_noise, perturb_counts, ptables_for
from fivesafes.sdc.perturbation.keys import (
    RECORD_KEY_COLUMN,
    KeyMaterial,
    RecordKeySource,
    StoredKeys,
    cell_keys,
    load_key_material,
)
from fivesafes.sdc.protect import TableResult, check_source, describe_source
from fivesafes.sdc.report import build_report
from fivesafes.sdc.rounding.controlled import ControlledRounding, controlled_round
from fivesafes.sdc.rounding.protection import protect_rounded
from fivesafes.sdc.rounding.unbiased import random_round
from fivesafes.sdc.rules import apply_primary_rules, protection_scale, required_top_k
from fivesafes.sdc.spec import TableSpec
from fivesafes.sdc.spec_methods import PROTECTION_METHODS
from fivesafes.sdc.structure import build_structure
from fivesafes.sdc.tabulate import tabulate

KEYED_METHODS = ("cellkey", "random-rounding")
PUBLISHED_DECIMALS = 2  # perturbed magnitudes are published to this many decimal places
ATTACKER_COLUMNS = ("attacker_min", "attacker_max")


def check_method(method: str) -> str:
    """``method`` if it is a protection method, else a SpecError listing them."""
    if method not in PROTECTION_METHODS:
        raise SpecError(
            f"unknown protection method {method!r}",
            hint=f"use one of {', '.join(PROTECTION_METHODS)}",
        )
    return method


def protect_by_method(
    spec: TableSpec,
    data: Any,
    method: str,
    *,
    keys: RecordKeySource | None = None,
    hierarchies: Sequence[Hierarchy] | None = None,
    connection: Any = None,
) -> TableResult:
    """Tabulate ``data``, flag primaries, and protect by ``method`` (not suppression)."""
    check_method(method)
    if method == "suppression":
        raise SpecError("suppression runs through fivesafes.sdc.tables")
    if method == "cellkey" and spec.is_frequency and spec.weight is not None:
        raise SpecError(
            "the cell key method perturbs unweighted counts; this count table is weighted",
            hint="drop [table] weight, or protect the weighted table by rounding or suppression",
        )
    timings: dict[str, float] = {}
    start = time.perf_counter()
    check_source(data)
    source = describe_source(data)
    timings["source"] = time.perf_counter() - start
    key_column, tab_data, key_info = _keyed_data(spec, data, method, keys, timings)
    top_k = required_top_k(spec.rules)
    if method == "cellkey" and not spec.is_frequency:
        top_k = max(top_k, spec.perturbation.top_k)
    t = time.perf_counter()
    tab = tabulate(
        spec,
        tab_data,
        hierarchies,
        connection=connection,
        top_k=top_k or None,
        record_key=key_column,
    )
    timings["tabulate"] = time.perf_counter() - t
    for stage, seconds in tab.timings.items():
        timings[f"tabulate.{stage}"] = float(seconds)
    hier = tuple(tab.hierarchies)
    t = time.perf_counter()
    cells = apply_primary_rules(
        tab.cells, spec.rules, frequency=spec.is_frequency, weighted=spec.weight is not None
    )
    timings["primary_rules"] = time.perf_counter() - t
    t = time.perf_counter()
    if method == "cellkey":
        cells, section, audit = _cellkey(spec, cells)
    else:
        cells, section, audit = _rounding(spec, cells, hier, method)
    timings["protect"] = time.perf_counter() - t
    section["keys"] = key_info
    timings["total"] = time.perf_counter() - start
    report = build_report(
        spec, cells, hier, source=source, timings=timings, notes=(*tab.notes, *section["notes"])
    )
    report["protection"] = section
    report["audit"] = audit
    report["loss"] = loss_measures(cells, hier, spec.dimension_names, frequency=spec.is_frequency)
    return TableResult(spec=spec, cells=cells, hierarchies=hier, report=report)


def _keyed_data(
    spec: TableSpec,
    data: Any,
    method: str,
    keys: RecordKeySource | None,
    timings: dict[str, float],
) -> tuple[str | None, Any, dict[str, Any]]:
    """(record-key column, data to tabulate, what the report says of the keys)."""
    if method not in KEYED_METHODS:
        return None, data, {"used": False}
    if keys is None:
        keys = load_key_material()  # the environment's, else KeyProviderError
    if isinstance(keys, StoredKeys):
        return keys.column, data, {"used": True, "origin": f"stored column {keys.column}"}
    if not isinstance(keys, KeyMaterial):
        raise KeyProviderError("record keys need key material or a stored key column")
    t = time.perf_counter()
    table = attach_record_keys(spec, data, keys)
    timings["record_keys"] = time.perf_counter() - t
    info = {
        "used": True,
        "origin": keys.origin,
        "fingerprint": keys.fingerprint,
        "record_id": spec.perturbation.record_id,
    }
    return RECORD_KEY_COLUMN, table, info


def _cellkey(
    spec: TableSpec, cells: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    p = spec.perturbation
    tables = ptables_for(p)
    out = cells.copy()
    sums = out[CELL_KEY].to_numpy(dtype=np.int64)
    if spec.is_frequency:
        published = perturb_counts(out[RECORDS].to_numpy(dtype=np.int64), sums, tables.counts)
        out[PUBLISHED] = published.astype(np.float64)
        ptable_info = {"source": tables.counts_source, "check": tables.counts_check.to_dict()}
        notes = [
            f"Counts are perturbed by the cell key method: each differs from the true count by "
            f"at most {p.max_deviation}, unbiased, with variance {p.variance:g}"
            + (f"; no count between 1 and {p.js - 1} is published" if p.js > 1 else "")
            + ". The same cell has the same value in every table. Totals are perturbed on "
            "their own, so they may not equal the sum of their parts.",
        ]
    else:
        tops = np.column_stack(
            [out[top_column(k)].to_numpy(dtype=np.float64) for k in range(1, p.top_k + 1)]
        )
        scale = protection_scale(out, spec.rules, frequency=False, weighted=spec.weight is not None)
        noise = magnitude_noise(
            tops,
            sums,
            tables.noise,
            epsilon=p.epsilon,
            percent=p.magnitude_percent,
            scale=scale,
        )
        # a value summed by DuckDB in parallel may differ in its last bits from one run
        # (or one table) to the next; to the published precision it does not
        perturbed = out[VALUE].to_numpy(dtype=np.float64) + noise
        out[PUBLISHED] = np.round(perturbed, PUBLISHED_DECIMALS)
        ptable_info = {"source": tables.noise_source, "check": tables.noise_check.to_dict()}
        notes = [
            f"Values are perturbed by the cell key method: each moves by at most "
            f"{p.magnitude_percent:g}% of its largest contributions (weighted), unbiased. The "
            "same cell has the same value in every table. Totals are perturbed on their own, "
            "so they may not equal the sum of their parts.",
        ]
    out[STATUS] = Status.SAFE.value  # every cell is published, perturbed
    section: dict[str, Any] = {
        "method": "cellkey",
        "parameters": p.as_dict(),
        "ptable": ptable_info,
        "cell_keys": {"distinct": int(np.unique(cell_keys(sums)).size)},
        "notes": notes,
    }
    audit = {
        "run": False,
        "method": "cellkey",
        "safe": tables.counts_check.passed and tables.noise_check.passed,
        "safe_to_release": True,
        "reason": "every cell is published with noise from a checked ptable; there are no "
        "hidden cells for the attacker's linear programs to bound",
    }
    return out, section, audit


def _rounding(
    spec: TableSpec, cells: pd.DataFrame, hier: tuple[Hierarchy, ...], method: str
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    r = spec.rounding
    base = r.base
    values = cells[VALUE].to_numpy(dtype=np.float64)
    structure = build_structure(cells, hier, dimensions=spec.dimension_names)
    evidence: dict[str, Any] = {"base": base}
    last: list[ControlledRounding] = []
    if method == "random-rounding":
        fixed = random_round(values, cell_keys(cells[CELL_KEY].to_numpy(np.int64)), base)

        def rounder(hidden: Any, direction: Any) -> Any:
            return fixed  # random rounding: each cell on its own, whatever else is hidden

    else:

        def rounder(hidden: Any, direction: Any) -> Any:
            done = controlled_round(
                structure,
                values,
                base,
                time_limit=r.time_limit,
                gap=r.gap,
                direction=direction,
                unpublished=hidden,
            )
            last.append(done)
            return done.rounded

    def complement(frame: pd.DataFrame) -> Any:
        from fivesafes.sdc.protect import protect_secondary

        how = spec.suppression
        if how.method == "none":
            how = replace(how, method="auto")
        done, _, _ = protect_secondary(
            frame, hier, how, frequency=spec.is_frequency, dimensions=spec.dimension_names
        )
        return done[STATUS].astype(str).to_numpy() != Status.SAFE.value

    protection = protect_rounded(
        structure,
        cells,
        base,
        rounder,
        frequency=spec.is_frequency,
        steer=method == "controlled-rounding",
        complement=complement,
    )
    if method == "random-rounding":
        notes = [
            f"Values are rounded to a multiple of {base:g}, up or down at random (unbiased); "
            "the same cell rounds the same way in every table. Totals are rounded on their "
            "own, so they may not equal the sum of their parts."
        ]
    else:
        done = last[-1]
        evidence["controlled"] = {**done.to_dict(), "solves": len(last)}
        notes = [
            f"Values are rounded to one of the two nearest multiples of {base:g} (controlled "
            "rounding): "
            + (
                "totals equal the sum of their parts"
                + (" (suppressed cells included)." if protection.hidden.any() else ".")
                if done.exact
                else f"totals may differ from the sum of their parts by up to {done.tolerance:g} "
                f"({done.broken_relations} relation(s)): no rounding that keeps every total "
                "exact was found."
            ),
            *done.notes,
        ]
    out = cells.copy()
    primary = protection.primary
    out[PUBLISHED] = np.where(protection.hidden, np.nan, protection.rounded)
    out[STATUS] = np.where(
        protection.hidden,
        np.where(primary, Status.PRIMARY.value, Status.SECONDARY.value),
        Status.SAFE.value,
    )
    out[ATTACKER_COLUMNS[0]] = protection.attacker_min
    out[ATTACKER_COLUMNS[1]] = protection.attacker_max
    if protection.hidden.any():
        notes.append(
            f"{int(protection.hidden.sum())} cell(s) are suppressed ([c]): rounding alone "
            "left a confidential value too narrowly bounded."
        )
    section = {
        "method": method,
        "parameters": r.as_dict(),
        "rounding": evidence,
        "protection_check": protection.to_dict(),
        "notes": notes,
    }
    audit = {
        "run": True,
        "method": method,
        **protection.audit.to_dict(),
        "safe_to_release": protection.audit.safe,
    }
    return out, section, audit
