"""Real protection of a table output: the project's secondary suppression and independent audit.

ACRO hides a disclosive cell by deleting its records and re-running the table, so the
margins stop being true totals and a hidden cell can be recovered from the margins
of another output. Here the cube of the output (every cell and every margin, true
totals) becomes an ``sdc`` cells table; the primary cells carry the protection their
rules require; ``sdc.secondary`` hides complementary cells and ``sdc.audit`` proves,
by the attacker's linear programs, that no primary cell can be narrowed below its
requirement. Margins not shown (``margins=False``) are treated as known to the
attacker: another output may publish them.

Only additive statistics (counts, sums, and means, whose sums follow once counts are
known) are protected this way; a median, extreme, mode or standard deviation cannot
be added up, so its primary cells alone are hidden.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.errors import FivesafesError
from fivesafes.outputs.tabulate import Cube
from fivesafes.sdc import (
    CONTRIBUTORS,
    LOWER,
    RECORDS,
    STATUS,
    UPPER,
    VALUE,
    Hierarchy,
    Status,
    SuppressionSpec,
)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

RESERVED = frozenset(
    {RECORDS, CONTRIBUTORS, VALUE, STATUS, "rule", LOWER, UPPER, "rule_total", "negatives"}
)
DEFAULT_SUPPRESSION = SuppressionSpec(method="fast")


@dataclass(frozen=True)
class Measure:
    """An additive table of the output: the count of records or the sum of the values."""

    name: str  # "count" or the values' name
    frequency: bool
    value: FloatArray  # over the cube
    records: FloatArray
    need: FloatArray  # protection a primary cell needs, in the measure's units


@dataclass(frozen=True)
class Protection:
    """What protection hid (over the cube), and the evidence: secondary and audit summaries."""

    hidden: BoolArray
    secondary: BoolArray
    ok: bool
    reason: str
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    cells: dict[str, pd.DataFrame] = field(default_factory=dict)  # per measure, sdc cells
    seconds: float = 0.0


def total_code(codes: Sequence[str]) -> str:
    """The code of a dimension's total: ``Total`` unless the data use it."""
    code = "Total"
    while code in codes:
        code = f"{code}*"
    return code


def hierarchies(cube: Cube) -> tuple[Hierarchy, ...]:
    """A flat hierarchy (codes under one total) per axis of the cube."""
    return tuple(Hierarchy.flat(a.name, a.labels, total=total_code(a.labels)) for a in cube.axes)


def cells_frame(
    cube: Cube,
    hier: Sequence[Hierarchy],
    measure: Measure,
    primary: BoolArray,
    unknown: BoolArray | None = None,
) -> pd.DataFrame:
    """The cube as an ``sdc`` cells table: codes, counts, value, status and protection.

    ``unknown`` cells (not shown, and failing the rules themselves, so no safe output
    publishes them) are hidden from the attacker without needing protection.
    """
    grids = np.meshgrid(*(np.arange(a.size + 1) for a in cube.axes), indexing="ij")
    out: dict[str, Any] = {}
    for axis, h, grid in zip(cube.axes, hier, grids, strict=True):
        labels = np.array([*axis.labels, h.root], dtype=object)
        out[axis.name] = labels[grid.ravel()]
    value = measure.value.ravel()
    records = measure.records.ravel()
    prim = primary.ravel()
    need = np.where(prim, measure.need.ravel(), 0.0)
    out[RECORDS] = records.astype(np.int64)
    out[CONTRIBUTORS] = records.astype(np.int64)
    out[VALUE] = value
    hid = np.zeros_like(prim) if unknown is None else unknown.ravel() & ~prim
    out[STATUS] = np.where(
        prim, Status.PRIMARY.value, np.where(hid, Status.SECONDARY.value, Status.SAFE.value)
    )
    # an attacker knows a count or a sum of non-negative values is >= 0, so a cell
    # cannot be protected below zero: the lower requirement stops at the value
    out[LOWER] = np.minimum(need, np.abs(value)) if measure.frequency else need
    out[UPPER] = need
    return pd.DataFrame(out)


def protect(
    cube: Cube,
    measures: Sequence[Measure],
    primary: BoolArray,
    spec: SuppressionSpec = DEFAULT_SUPPRESSION,
    unknown: BoolArray | None = None,
) -> Protection:
    """Hide ``primary`` cells and enough others that the audit proves every primary protected.

    Cells not shown are taken as known to the attacker (another output may show them),
    except ``unknown`` ones: those fail the rules themselves, so no safe output shows them.
    """
    start = time.perf_counter()
    hidden = primary.copy()
    if not primary.any() or not measures:
        return Protection(hidden, np.zeros_like(primary), True, "", seconds=0.0)
    hier = hierarchies(cube)
    reports: dict[str, dict[str, Any]] = {}
    frames: dict[str, pd.DataFrame] = {}
    from fivesafes.sdc import audit_table

    dims = tuple(a.name for a in cube.axes)
    for m in measures:
        # tau-Argus's insider (singleton) model is for magnitudes: one contributor of a sum
        # knows it exactly; a respondent in a count does not know how many others are in it
        m_spec = replace(spec, singleton=False) if m.frequency else spec
        # a magnitude cell without values has nothing to protect (its mean is empty anyway)
        prim = primary if m.frequency else primary & (m.records > 0)
        cells = scaled(cells_frame(cube, hier, m, prim, unknown), m.frequency)
        try:
            result = _secondary(cells, hier, m_spec, m.frequency, dims)
            # "check" proves each requirement without every exact interval: same verdict
            audit = audit_table(
                result.cells,
                hier,
                frequency=m.frequency,
                singleton=m_spec.singleton,
                a_priori_percent=m_spec.a_priori_percent,
                dimensions=dims,
                witnesses=result.witnesses,
                intervals="check",
            )
        except FivesafesError as exc:
            reason = f"{m.name}: protection could not be completed: {exc.message}"
            return Protection(hidden, np.zeros_like(primary), False, reason, reports, frames)
        reports[m.name] = {"secondary": result.to_dict(), "audit": _audit_summary(audit)}
        frames[m.name] = result.cells
        if not audit.safe:
            reason = f"{m.name}: the audit found {len(audit.failures)} under-protected cell(s)"
            return Protection(hidden, np.zeros_like(primary), False, reason, reports, frames)
        status = result.cells[STATUS].to_numpy().reshape(primary.shape)
        hidden |= status != Status.SAFE.value
    secondary = hidden & ~primary
    seconds = time.perf_counter() - start
    return Protection(hidden, secondary, True, "", reports, frames, seconds)


# HiGHS works to an absolute tolerance of 1e-7: sums of billions carry rounding errors of
# that size in their last digits, which it reads as figures that contradict each other.
# Dividing a magnitude table by a power of ten first changes no verdict (requirements scale
# with the values) and keeps every figure below this.
SCALE_TO = 1e6


def scaled(cells: pd.DataFrame, frequency: bool) -> pd.DataFrame:
    """A magnitude table divided by a power of ten so that its largest |value| is <= 1e6."""
    top = float(np.abs(cells[VALUE]).max()) if len(cells) else 0.0
    if frequency or top <= SCALE_TO:
        return cells
    factor = 10.0 ** np.ceil(np.log10(top / SCALE_TO))
    out = cells.copy()
    for col in (VALUE, LOWER, UPPER):
        out[col] = out[col] / factor
    return out


def _secondary(
    cells: pd.DataFrame,
    hier: Sequence[Hierarchy],
    spec: SuppressionSpec,
    frequency: bool,
    dims: tuple[str, ...],
) -> Any:
    """``sdc.secondary`` with the session's method; the exact method when a heuristic gives up.

    The ``fast`` method's repair can declare a primary unprotectable when insiders
    (single-contributor cells) are modelled although a pattern exists (seen on a zero
    column of an unobserved category); the exact model then finds it.
    """
    from fivesafes.errors import InfeasibleProtectionError
    from fivesafes.sdc import protect_secondary

    try:
        return protect_secondary(cells, hier, spec, frequency=frequency, dimensions=dims)
    except InfeasibleProtectionError:
        if spec.method in ("optimal", "none"):
            raise
        exact = replace(spec, method="optimal")
        return protect_secondary(cells, hier, exact, frequency=frequency, dimensions=dims)


def _audit_summary(audit: Any) -> dict[str, Any]:
    full: dict[str, Any] = audit.to_dict(max_failures=20)
    # the summary travels with the output: cells are named, their values and bounds are not
    secret = {
        "value",
        "attacker_min",
        "attacker_max",
        "required_lower",
        "required_upper",
        "interval",
    }
    full["failed_cells"] = [
        {k: v for k, v in r.items() if k not in secret} for r in full.get("failed_cells", [])
    ]
    return full
