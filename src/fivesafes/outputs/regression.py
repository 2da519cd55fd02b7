"""Regressions (statsmodels): the residual degrees of freedom decide, as statsmodels reports them.

The DoF is never re-derived here: it is ``df_resid`` of the statsmodels model that
produced the coefficients, so a model with a rank-deficient design or dropped rows is
judged on what statsmodels actually used. Fewer than ``safe_dof_threshold`` residual
degrees of freedom fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from fivesafes.outputs import verdict as V
from fivesafes.outputs.record import Output
from fivesafes.outputs.rules import OutputRules
from fivesafes.outputs.verdict import Verdict


@dataclass(frozen=True)
class Fitted:
    """A fitted model and the method that made it."""

    method: str
    model: Any
    results: Any


def fit_array(method: str, endog: Any, exog: Any, **kwargs: Any) -> Fitted:
    """Fit ``ols``, ``logit`` or ``probit`` from arrays."""
    import statsmodels.api as sm

    cls = {"ols": sm.OLS, "logit": sm.Logit, "probit": sm.Probit}[method]
    model = cls(endog, exog, **kwargs)
    results = model.fit() if method == "ols" else model.fit(disp=False)
    return Fitted(method, model, results)


def fit_formula(
    method: str, formula: str, data: Any, subset: Any, drop_cols: Any, *args: Any, **kwargs: Any
) -> Fitted:
    """Fit ``olsr``, ``logitr`` or ``probitr`` from an R-style formula."""
    import statsmodels.formula.api as smf

    make = {"olsr": smf.ols, "logitr": smf.logit, "probitr": smf.probit}[method]
    model = make(formula=formula, data=data, subset=subset, drop_cols=drop_cols, *args, **kwargs)  # noqa: B026
    results = model.fit() if method == "olsr" else model.fit(disp=False)
    return Fitted(method, model, results)


def residual_dof(fitted: Fitted) -> float:
    """The model's residual degrees of freedom, as statsmodels computed them."""
    return float(fitted.model.df_resid)


def record(fitted: Fitted, rules: OutputRules, uid: str, command: str) -> Output:
    """The output of a regression: its summary tables and the DoF verdict."""
    dof = residual_dof(fitted)
    ok = dof >= rules.safe_dof_threshold
    status = Verdict.PASS if ok else Verdict.FAIL
    comparator = ">=" if ok else "<"
    summary = f"{status.text}; {V.DOF}: dof={dof:g} {comparator} {rules.safe_dof_threshold}"
    return Output(
        uid=uid,
        status=status,
        output_type="regression",
        properties={"method": fitted.method, "dof": dof},
        sdc={},
        command=command,
        summary=summary,
        outcome=pd.DataFrame(),
        output=tuple(summary_frames(fitted.results)),
        checks={
            "rules": rules.name,
            V.DOF: {
                "residual_dof": dof,
                "threshold": rules.safe_dof_threshold,
                "verdict": status.text,
            },
            "nobs": float(fitted.results.nobs),
        },
    )


def summary_frames(results: Any) -> list[pd.DataFrame]:
    """statsmodels' summary tables as DataFrames (first row headers, first column index)."""
    out = []
    for table in results.summary().tables:
        rows = [[str(c).strip() for c in row] for row in table.data]
        if not rows:
            continue
        header, body = rows[0], rows[1:]
        frame = pd.DataFrame(body, columns=header if len(header) == len(rows[-1]) else None)
        out.append(frame.set_index(frame.columns[0]) if len(frame.columns) > 1 else frame)
    return out
