"""Protection by changing values instead of hiding them: cell key, random and controlled rounding.

The same pipeline as suppression (``sdc/pipeline.py``: tabulate -> primary rules ->
protect -> report), with a different middle step, :func:`protect_by_method`; the cells
then carry ``published`` (the value as published) next to the true ``value``. Every cell
is published (status ``safe``) except the few a rounded table must still suppress.

Record keys: the cell key method and random rounding need them. ``keys`` is either
:class:`KeyMaterial` (the ``--data`` path: keys drawn here from ``[perturbation]
record_id``) or :class:`StoredKeys` (a dataset whose keys were drawn at ingest).
Without either, nothing is published (KeyProviderError). The engine must sum them per
cell (:class:`~fivesafes.sdc.tabulate.RecordKeyTabulator`); one that cannot is refused
(EngineError), never run without cell keys.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from fivesafes.errors import DataError, EngineError, KeyProviderError, SpecError
from fivesafes.sdc import secondary as suppression_methods
from fivesafes.sdc.cells import (
    CELL_KEY,
    LOWER,
    PUBLISHED,
    RECORDS,
    STATUS,
    UPPER,
    VALUE,
    Status,
    top_column,
)
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure
from fivesafes.sdc.perturbation.attach import attach_record_keys
from fivesafes.sdc.perturbation.cellkey import (
    ROUNDING_STREAM,
    derived_key,
    magnitude_noise,
    perturb_counts,
    ptables_for,
    sensitive_noise,
)
from fivesafes.sdc.perturbation.keys import (
    KEY_SCALE,
    RECORD_KEY_COLUMN,
    KeyMaterial,
    RecordKeySource,
    StoredKeys,
    cell_keys,
    load_key_material,
)
from fivesafes.sdc.perturbation.ptable import ptable_identity
from fivesafes.sdc.rounding.controlled import ControlledRounding, controlled_round
from fivesafes.sdc.rounding.protection import protect_rounded
from fivesafes.sdc.rounding.unbiased import random_round
from fivesafes.sdc.rules import protection_scale
from fivesafes.sdc.spec import TableSpec
from fivesafes.sdc.spec_methods import PROTECTION_METHODS
from fivesafes.sdc.tabulate import RecordKeyTabulator, Tabulator

KEYED_METHODS = ("cellkey", "random-rounding")
PUBLISHED_DECIMALS = 2  # perturbed magnitudes are published to this many decimal places
ATTACKER_COLUMNS = ("attacker_min", "attacker_max")


def check_method(method: str) -> str:
    """``method`` if it is a protection method, else a SpecError listing them."""
    if method not in PROTECTION_METHODS:
        raise SpecError(
            f"unknown protection method {method!r}",
            hint=f"use one of {', '.join(PROTECTION_METHODS)}",
            value_free=True,
        )
    return method


def with_protection(spec: TableSpec, method: str | None) -> TableSpec:
    """``spec`` protected by ``method`` (None: its own ``[table] protection``), checked."""
    chosen = check_method(spec.protection if method is None else method)
    if chosen == "cellkey" and spec.is_frequency and spec.weight is not None:
        raise SpecError(
            "the cell key method perturbs unweighted counts; this count table is weighted",
            hint="drop [table] weight, or protect the weighted table by rounding or suppression",
            value_free=True,
        )
    return replace(spec, protection=chosen)  # type: ignore[arg-type]


def method_top_k(spec: TableSpec) -> int:
    """The largest contributions the method itself needs per cell (0: none)."""
    if spec.protection == "cellkey" and not spec.is_frequency:
        return spec.perturbation.top_k
    return 0


def keyed_source(
    spec: TableSpec,
    data: Any,
    engine: Tabulator,
    keys: RecordKeySource | None,
    timings: dict[str, float],
) -> tuple[Tabulator, Any, dict[str, Any]]:
    """(engine, data to tabulate, what the report says of the keys) for ``spec``'s method.

    A keyed method gets the engine that sums the record keys into cell keys, and the
    data with a key per record (drawn here from key material, or stored with the data).
    """
    if spec.protection not in KEYED_METHODS:
        return engine, data, {"used": False}
    if not isinstance(engine, RecordKeyTabulator):
        raise EngineError(
            f"the {engine.name} engine cannot sum record keys into cell keys, which "
            f"{spec.protection} needs",
            hint="protect this table with the duckdb engine (--engine duckdb), or by "
            "suppression or controlled-rounding",
            value_free=True,
        )
    if keys is None:
        keys = load_key_material()  # the environment's, else KeyProviderError
    _check_keys_not_tabulated(spec, keys.column if isinstance(keys, StoredKeys) else None)
    if isinstance(keys, StoredKeys):
        info = {"used": True, "origin": f"stored column {keys.column}"}
        if keys.drawn:
            info["drawn"] = keys.drawn
        return engine.with_record_key(keys.column), data, info
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
    return engine.with_record_key(RECORD_KEY_COLUMN), table, info


def _check_keys_not_tabulated(spec: TableSpec, stored: str | None) -> None:
    # The record keys travel with the data a keyed method tabulates. A spec that names
    # their column would publish them (as codes, sums, contributors, or a filter whose
    # domain check answers whether a key exists); whoever has the keys undoes the noise.
    named = [*spec.dimension_names, *(c for c, _ in spec.where)]
    named += [c for c in (spec.response, spec.contributor, spec.holding, spec.weight) if c]
    hidden = {RECORD_KEY_COLUMN} | ({stored} if stored else set())
    used = sorted(hidden & set(named))
    if used:
        raise DataError(
            f"column {used[0]!r} holds the record keys of {spec.protection}: a table never "
            "tabulates, sums or filters on it",
            hint="remove it from the spec's dimensions, response, contributor, holding, "
            "weight and where",
            value_free=True,
        )


def protect_by_method(
    spec: TableSpec, cells: pd.DataFrame, hier: tuple[Hierarchy, ...], *, engine: str
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """Protect the primary-flagged ``cells`` by ``spec.protection`` (not suppression).

    Returns (cells with ``published``, the report's ``protection`` section, its ``audit``).
    """
    method = check_method(spec.protection)
    if method == "suppression":
        raise SpecError("suppression runs through fivesafes.sdc.tables")
    if method in KEYED_METHODS:
        _check_cell_keys(cells, method, engine)
    if method == "cellkey":
        return _cellkey(spec, cells)
    return _rounding(spec, cells, hier, method)


def _check_cell_keys(cells: pd.DataFrame, method: str, engine: str) -> None:
    # an engine that says it sums record keys but gives no (or broken) cell keys would
    # make every cell's noise the same: refuse rather than publish
    if CELL_KEY not in cells.columns:
        raise EngineError(
            f"the {engine} engine gave cells without a '{CELL_KEY}' column, which {method} needs",
            hint="use an engine that sums record keys (the duckdb engine does)",
            value_free=True,
        )
    keys = cells[CELL_KEY]
    whole = not keys.isna().any() and pd.api.types.is_integer_dtype(keys)
    if not whole or not keys.between(0, KEY_SCALE - 1).all():
        raise EngineError(
            f"the {engine} engine gave cell keys that are not whole numbers in [0, 2**53)",
            hint=f"'{CELL_KEY}' must be the records' keys times 2**53 summed mod 2**53",
            value_free=True,
        )


def _cellkey(
    spec: TableSpec, cells: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    p = spec.perturbation
    tables = ptables_for(p)
    out = cells.copy()
    sums = out[CELL_KEY].to_numpy(dtype=np.int64)
    sensitive = 0  # magnitude cells a primary rule flags: their noise is pushed out
    if spec.is_frequency:
        published = perturb_counts(out[RECORDS].to_numpy(dtype=np.int64), sums, tables.counts)
        out[PUBLISHED] = published.astype(np.float64)
        ptable_info = {
            "source": tables.counts_source,
            # what the register compares between releases of one source (release/regimes.py)
            "identity": ptable_identity(p.ptable),
            "check": tables.counts_check.to_dict(),
        }
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
        primary = (out[STATUS].astype(str) == Status.PRIMARY.value).to_numpy()
        required = np.maximum(
            out[LOWER].to_numpy(dtype=np.float64), out[UPPER].to_numpy(dtype=np.float64)
        )
        values = out[VALUE].to_numpy(dtype=np.float64)
        noise = sensitive_noise(
            noise, np.where(primary, required, 0.0), sums, values, top_k=p.top_k
        )
        # a value summed by DuckDB in parallel may differ in its last bits from one run
        # (or one table) to the next; to the published precision it does not
        perturbed = values + noise
        out[PUBLISHED] = np.round(perturbed, PUBLISHED_DECIMALS)
        ptable_info = {
            "source": tables.noise_source,
            "identity": ptable_identity(p.magnitude_ptable),
            "check": tables.noise_check.to_dict(),
        }
        notes = [
            f"Values are perturbed by the cell key method: each moves by at most "
            f"{p.magnitude_percent:g}% of its largest contributions (weighted), unbiased. The "
            "same cell has the same value in every table. A value that a confidentiality "
            "rule flags moves further, by at least the protection the rule requires. Totals "
            "are perturbed on their own, so they may not equal the sum of their parts.",
        ]
        sensitive = int(primary.sum())
    out[STATUS] = Status.SAFE.value  # every cell is published, perturbed
    section: dict[str, Any] = {
        "method": "cellkey",
        "parameters": p.as_dict(),
        "ptable": ptable_info,
        "cell_keys": {"distinct": int(np.unique(cell_keys(sums)).size)},
        **({} if spec.is_frequency else {"sensitive_cells_pushed": sensitive}),
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
        # its own stream of the cell key: the same cell perturbed by the cell key method
        # draws from the key itself, and two draws from one key are tied
        own = derived_key(cells[CELL_KEY].to_numpy(np.int64), ROUNDING_STREAM)
        fixed = random_round(values, own, base)

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
        how = spec.suppression
        if how.method == "none":
            how = replace(how, method="auto")
        done = suppression_methods.protect_secondary(
            frame, hier, how, frequency=spec.is_frequency, dimensions=spec.dimension_names
        )
        return done.cells[STATUS].astype(str).to_numpy() != Status.SAFE.value

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
