"""Histograms and pie charts: checked as the frequency tables they draw.

A histogram's bins and a pie's slices are counts: each must reach the threshold
(empty ones count when zeros are disclosive). With suppression on, a disclosive chart
is not drawn at all. Figures are drawn with matplotlib's object API (no pyplot, no
global state), saved as PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fivesafes.errors import DataError
from fivesafes.outputs import verdict as V
from fivesafes.outputs.record import Output
from fivesafes.outputs.rules import OutputRules
from fivesafes.outputs.verdict import Verdict

EDGES_NOTE = (
    "Please check the extreme bin edges are not disclosive (they show the minimum and maximum)."
)


def bin_counts(values: pd.Series, bins: Any) -> tuple[np.ndarray, np.ndarray]:
    """Counts and edges of the histogram numpy draws (every value counted, the maximum too)."""
    counts, edges = np.histogram(values.to_numpy(dtype=float), bins=bins)
    return counts, edges


def flagged_counts(counts: np.ndarray, rules: OutputRules) -> np.ndarray:
    """Which counts fail the threshold (empty ones only when zeros are disclosive)."""
    low = counts < rules.safe_threshold
    if not rules.zeros_are_disclosive:
        low &= counts > 0
    return np.asarray(low)


def histogram(
    data: pd.DataFrame,
    column: str,
    bins: Any,
    rules: OutputRules,
    suppress: bool,
    uid: str,
    command: str,
    path: Path,
    **kwargs: Any,
) -> Output:
    """Check a histogram's bins; draw it unless it is disclosive and suppression is on."""
    if column not in data.columns:
        raise DataError(f"column {column!r} is not in the data")
    values = data[column].dropna()
    if values.empty:
        return Output(
            uid=uid,
            status=Verdict.FAIL,
            output_type="histogram",
            properties={"method": "histogram"},
            sdc={},
            command=command,
            summary="fail; empty column after dropping missing values",
            outcome=pd.DataFrame(),
            output=(),
        )
    counts, edges = bin_counts(values, bins)
    low = flagged_counts(counts, rules)
    status = Verdict.FAIL if low.any() else Verdict.PASS
    drawn = not (suppress and low.any())
    data_edges = np.ndim(bins) == 0  # a number of bins (or numpy's rule): edges from the data
    if drawn and data_edges:
        # the outer edges are the smallest and largest values: one unit's each (ACRO only
        # notes it and passes); edges the researcher gives show no one's value
        status = max(status, Verdict.REVIEW)
    if drawn:
        _draw(path, lambda ax: ax.hist(values.to_numpy(dtype=float), bins=edges, **kwargs), column)
    summary = (
        f"{status.text}; {V.THRESHOLD}: {int(low.sum())} bin(s) below {rules.safe_threshold}; "
        + (
            (EDGES_NOTE if data_edges else "bin edges as given")
            if drawn
            else "disclosive histogram withheld"
        )
    )
    return Output(
        uid=uid,
        status=status,
        output_type="histogram",
        properties={"method": "histogram"},
        sdc=_sdc(low),
        command=command,
        summary=summary,
        outcome=pd.DataFrame(),
        output=(path,) if drawn else (),
        checks={
            "rules": rules.name,
            "bins": len(counts),
            "flagged_bins": [int(i) for i in np.flatnonzero(low)],
        },
    )


def pie_chart(
    data: pd.DataFrame,
    column: str,
    rules: OutputRules,
    suppress: bool,
    uid: str,
    command: str,
    path: Path,
    **kwargs: Any,
) -> Output:
    """Check a pie chart's slices; draw it unless it is disclosive and suppression is on."""
    if column not in data.columns:
        raise DataError(f"column {column!r} is not in the data")
    counts = data[column].value_counts(sort=False)
    low = flagged_counts(counts.to_numpy(), rules)
    status = Verdict.FAIL if low.any() else Verdict.PASS
    drawn = not (suppress and low.any())
    if drawn:
        _draw(
            path,
            lambda ax: ax.pie(counts.to_numpy(), labels=[str(c) for c in counts.index], **kwargs),
            column,
        )
    summary = (
        f"{status.text}; {V.THRESHOLD}: {int(low.sum())} slice(s) below {rules.safe_threshold}; "
        + (
            "Please also check for missing categories."
            if drawn
            else "disclosive pie chart withheld"
        )
    )
    return Output(
        uid=uid,
        status=status,
        output_type="pie chart",
        properties={"method": "pie"},
        sdc=_sdc(low),
        command=command,
        summary=summary,
        outcome=pd.DataFrame(),
        output=(path,) if drawn else (),
        checks={"rules": rules.name, "flagged_slices": [str(c) for c in counts.index[low]]},
    )


def _sdc(low: np.ndarray) -> dict[str, Any]:
    return {
        "summary": {V.THRESHOLD: int(low.sum())},
        "cells": {V.THRESHOLD: [[int(i), 0] for i in np.flatnonzero(low)]},
    }


def _draw(path: Path, plot: Any, title: str) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    plot(ax)
    ax.set_title(title)
    fig.savefig(path)
