"""Read and validate what the audit needs from a cells table: values, statuses, protection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from fivesafes.errors import DataError
from fivesafes.sdc.cells import CONTRIBUTORS, LOWER, RECORDS, STATUS, UPPER, VALUE, Status

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class AuditCells:
    """Per cell (aligned with the structure's cells): what the audit reads from the table."""

    values: FloatArray
    hidden: BoolArray  # not published
    primary: BoolArray  # needs protection (may be published by mistake in a linked table)
    status: npt.NDArray[np.object_]  # the status label reported
    lower_protection: FloatArray
    upper_protection: FloatArray
    contributors: FloatArray  # NaN when unknown
    # records (NaN when unknown): who shares records with whom (sdc/contributors.py)
    records: FloatArray | None = None


def _numeric(cells: pd.DataFrame, column: str, where: str) -> FloatArray:
    raw = cells[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & raw.notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"column '{column}' of {where} is not numeric: {raw.iloc[row]!r} in row {row + 1}",
            hint="write numbers without symbols or thousands separators",
        )
    return values


def read_audit_cells(
    cells: pd.DataFrame,
    *,
    protection_percent: float | None = None,
    where: str = "the cells table",
) -> AuditCells:
    """Validate the value/status/protection columns; fill protection from a percentage if asked."""
    missing = [c for c in (VALUE, STATUS) if c not in cells.columns]
    if missing:
        raise DataError(
            f"{where} has no column(s) {missing}",
            hint=f"an audited table needs the dimension columns, '{VALUE}' and '{STATUS}'",
        )
    values = _numeric(cells, VALUE, where)
    if np.isnan(values).any():
        row = int(np.flatnonzero(np.isnan(values))[0])
        raise DataError(
            f"row {row + 1} of {where} has no value",
            hint="every cell needs its value, hidden ones too (the audit knows them)",
        )
    no_status = cells[STATUS].isna().to_numpy()
    if no_status.any():
        # (astype(str) keeps a float NaN as NaN, which then cannot be sorted with labels)
        row = int(np.flatnonzero(no_status)[0])
        raise DataError(
            f"row {row + 1} of {where} has no status",
            hint="every cell's status is safe, primary or secondary",
        )
    labels = cells[STATUS].astype(str).str.strip().str.lower().to_numpy(dtype=object)
    known = {s.value for s in Status}
    unknown = sorted(set(labels) - known)
    if unknown:
        raise DataError(
            f"unknown status value(s) {unknown[:5]} in {where}",
            hint=f"status must be one of {sorted(known)}",
        )
    primary = labels == Status.PRIMARY.value
    hidden = labels != Status.SAFE.value
    lower = _protection(cells, LOWER, primary, values, protection_percent, where)
    upper = _protection(cells, UPPER, primary, values, protection_percent, where)
    contributors = (
        _numeric(cells, CONTRIBUTORS, where)
        if CONTRIBUTORS in cells.columns
        else np.full(values.size, np.nan)
    )
    return AuditCells(
        values=values,
        hidden=hidden,
        primary=primary,
        status=labels,
        lower_protection=lower,
        upper_protection=upper,
        contributors=contributors,
        records=_numeric(cells, RECORDS, where) if RECORDS in cells.columns else None,
    )


def _protection(
    cells: pd.DataFrame,
    column: str,
    primary: BoolArray,
    values: FloatArray,
    percent: float | None,
    where: str,
) -> FloatArray:
    if percent is not None and percent < 0:
        raise DataError(f"the protection percentage must be >= 0, got {percent}")
    from_percent = np.abs(values) * (percent / 100.0) if percent is not None else None
    if column in cells.columns:
        prot = _numeric(cells, column, where)
    else:
        prot = np.full(values.size, np.nan)
    gap = primary & np.isnan(prot)
    if gap.any():
        if from_percent is None:
            row = int(np.flatnonzero(gap)[0])
            raise DataError(
                f"primary cell in row {row + 1} of {where} has no '{column}'",
                hint="give the protection columns, or a symmetric percentage "
                "(--protection-percent / protection_percent=)",
            )
        prot = np.where(gap, from_percent, prot)
    prot = np.where(primary, prot, 0.0)
    if (prot < 0).any():
        row = int(np.flatnonzero(prot < 0)[0])
        raise DataError(f"row {row + 1} of {where}: '{column}' must be >= 0, got {prot[row]}")
    return prot


def attacker_bounds(
    values: FloatArray,
    hidden: BoolArray,
    *,
    a_priori_percent: float | None,
    bounds: tuple[FloatArray, FloatArray] | None,
    describe: Callable[[int], str] | None = None,
) -> tuple[FloatArray, FloatArray, str]:
    """The attacker's bounds on each cell and a short description of where they came from."""
    n = values.size
    if bounds is not None:
        lower = np.asarray(bounds[0], dtype=np.float64)
        upper = np.asarray(bounds[1], dtype=np.float64)
        if lower.shape != (n,) or upper.shape != (n,):
            raise DataError(
                f"bounds must be two arrays of {n} values (one per cell), "
                f"got shapes {lower.shape} and {upper.shape}"
            )
        mode = "explicit"
    elif a_priori_percent is not None:
        if a_priori_percent <= 0:
            raise DataError(f"a_priori_percent must be > 0, got {a_priori_percent}")
        spread = np.abs(values) * (a_priori_percent / 100.0)
        lower, upper = values - spread, values + spread
        mode = f"a priori: value +/- {a_priori_percent:g}%"
    elif (values >= 0).all():
        lower, upper = np.zeros(n), np.full(n, np.inf)
        mode = "non-negative: [0, inf)"
    else:
        lower, upper = np.full(n, -np.inf), np.full(n, np.inf)
        mode = "free: the table has negative values, so no sign is assumed"
    outside = hidden & ((values < lower) | (values > upper) | (lower > upper))
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        name = describe(i) if describe is not None else f"row {i + 1}"
        raise DataError(
            f"the attacker's bounds [{lower[i]:.10g}, {upper[i]:.10g}] for cell {name} do not "
            f"contain its value {values[i]:.10g}",
            hint="bounds describe what an attacker may know; they must hold for the true table",
        )
    return lower, upper, mode
