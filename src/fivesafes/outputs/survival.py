"""Kaplan-Meier survival tables and plots (statsmodels), with ACRO's accumulate-then-round.

A survival table shows how many were at risk and how many had the event at each
time: small changes between rows are small counts. With suppression on, changes are
accumulated until they reach ``survival_safe_threshold``; only then is a row's
number at risk and accumulated number of events reported, and the survival function
is recomputed from the reported rows (``rounded_survival_fun``, ACRO's column).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fivesafes.outputs import verdict as V
from fivesafes.outputs.record import Output
from fivesafes.outputs.rules import OutputRules
from fivesafes.outputs.verdict import Verdict

ACCUMULATED = "Events Reported when min_threshold accumulated"


@dataclass(frozen=True)
class SurvivalOutput:
    """The output and what the researcher gets back (the table, or the plot and its file)."""

    output: Output
    result: Any


def accumulate(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The table with ``rounded_survival_fun``: changes reported once they reach ``threshold``."""
    at_risk = table["num at risk"].to_numpy(dtype=float)
    events = table["num events"].to_numpy(dtype=float)
    shown_risk = np.empty_like(at_risk)
    shown_events = np.zeros_like(events)
    pending_change = pending_events = 0.0
    for i in range(len(at_risk)):
        if i == 0:
            shown_risk[0], shown_events[0] = at_risk[0], events[0]
            continue
        pending_change += at_risk[i - 1] - at_risk[i]
        pending_events += events[i]
        if pending_change < threshold:
            shown_risk[i] = shown_risk[i - 1]
        else:
            shown_risk[i], shown_events[i] = at_risk[i], pending_events
            pending_change = pending_events = 0.0
    survival = np.empty_like(at_risk)
    for i in range(len(at_risk)):
        if i == 0:
            survival[0] = table["Surv prob"].iloc[0]
        else:
            survival[i] = survival[i - 1] * (shown_risk[i] - shown_events[i]) / shown_risk[i]
    out = table.copy()
    out["rounded_survival_fun"] = survival
    return out


def small_changes(table: pd.DataFrame, threshold: int) -> int:
    """Rows whose change from the previous row (events and censoring) is below ``threshold``."""
    at_risk = table["num at risk"].to_numpy(dtype=float)
    change = at_risk[:-1] - at_risk[1:]
    return int((change < threshold).sum())


def survival_output(
    time: Any,
    status: Any,
    output: str,
    rules: OutputRules,
    suppress: bool,
    uid: str,
    command: str,
    path: Path | None,
    **kwargs: Any,
) -> SurvivalOutput | None:
    """Fit the survival function, check it, and make the table or the plot."""
    import statsmodels.api as sm

    fitted = sm.SurvfuncRight(
        time,
        status,
        kwargs.get("entry"),
        kwargs.get("title"),
        kwargs.get("freq_weights"),
        kwargs.get("exog"),
        kwargs.get("bw_factor", 1.0),
    )
    table = fitted.summary()
    small = small_changes(table, rules.survival_safe_threshold)
    if suppress:
        table = accumulate(table, rules.survival_safe_threshold)
        verdict = Verdict.REVIEW
    else:
        verdict = Verdict.FAIL if small else Verdict.REVIEW
    summary = (
        f"{verdict.text}; {V.THRESHOLD}: {small} row(s) change by fewer than "
        f"{rules.survival_safe_threshold}; a survival table implies a table of counts: "
        "a human must check it with related outputs"
    )
    checks = {"rules": rules.name, "small_changes": small, "accumulated": suppress}
    if output == "table":
        record = Output(
            uid=uid,
            status=verdict,
            output_type="table",
            properties={"method": "surv func"},
            sdc={},
            command=command,
            summary=summary,
            outcome=pd.DataFrame(),
            output=(table,),
            checks=checks,
            exception=ACCUMULATED if suppress else "",
        )
        return SurvivalOutput(record, table)
    if output == "plot" and path is not None:
        from matplotlib.figure import Figure

        fig = Figure()
        ax = fig.subplots()
        column = "rounded_survival_fun" if suppress else "Surv prob"
        ax.step(table.index.to_numpy(), table[column].to_numpy(), where="post")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        fig.savefig(path)
        record = Output(
            uid=uid,
            status=verdict,
            output_type="survival plot",
            properties={"method": "surv_func"},
            sdc={},
            command=command,
            summary=summary,
            outcome=pd.DataFrame(),
            output=(path,),
            checks=checks,
            exception=ACCUMULATED if suppress else "",
        )
        return SurvivalOutput(record, (ax, str(path)))
    return None
