"""Regressions (statsmodels): the residual degrees of freedom decide, as statsmodels reports them.

The DoF is never re-derived here: it is ``df_resid`` of the statsmodels model that
produced the coefficients, so a model with a rank-deficient design or dropped rows is
judged on what statsmodels actually used. Fewer than ``safe_dof_threshold`` residual
degrees of freedom fail.

Residual DoF alone is ACRO's check, and it misses the classic leak of a model on
categories: a dummy variable of a category with one record makes intercept plus
coefficient that record's value (many residual DoF left), and a category of a few
records gives their mean. So the design matrix statsmodels used is checked too
(``small_groups``): every 0/1 column must have at least ``safe_threshold`` records on
each side, and no record may be fitted exactly (leverage 1: its value follows from
the coefficients, e.g. the reference level of a category of one record). A record
whose leverage exceeds 1 / ``safe_threshold`` (a group of fewer records than the
threshold gives each of its records at least that) and three times the average
(rank / records: in a model of a few dozen records every record weighs that much)
asks for a human review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
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


@dataclass(frozen=True)
class Groups:
    """What the design matrix says about small groups of records behind the coefficients."""

    dummies: tuple[tuple[str, int], ...]  # 0/1 columns with fewer records on a side
    exact: int  # records fitted exactly (leverage 1)
    max_leverage: float
    typical: float  # 3 * rank / records: leverage any record of a small model may reach

    def high(self, threshold: int) -> bool:
        """A record weighs more than a group below the threshold would, and more than
        records of a model this size usually do (an outlier or a small category)."""
        return self.max_leverage > max(1.0 / threshold, self.typical)

    def verdict(self, threshold: int) -> Verdict:
        """FAIL for a small dummy or an exactly fitted record; REVIEW for high leverage."""
        if self.dummies or self.exact:
            return Verdict.FAIL
        return Verdict.REVIEW if self.high(threshold) else Verdict.PASS

    def explain(self, threshold: int) -> list[str]:
        """One phrase per finding, for the summary."""
        out = [f"{name}: {n} record(s) < {threshold}" for name, n in self.dummies]
        if self.exact:
            out.append(f"{self.exact} record(s) fitted exactly (their values follow)")
        if not out and self.high(threshold):
            out.append(
                f"a record has leverage {self.max_leverage:.3g} > 1/{threshold}: a coefficient "
                "may rest on a few records (a small category or an outlier)"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """For ``checks``."""
        return {
            "small_dummies": [{"column": c, "records": n} for c, n in self.dummies],
            "records_fitted_exactly": self.exact,
            "max_leverage": self.max_leverage,
            "typical_leverage": self.typical,
        }


def small_groups(fitted: Fitted, threshold: int) -> Groups:
    """The design matrix's 0/1 columns with fewer than ``threshold`` records on a side,
    the records it fits exactly and the largest leverage (hat-matrix diagonal)."""
    x = np.asarray(fitted.model.exog, dtype=float)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    names = list(getattr(fitted.model, "exog_names", None) or range(x.shape[1]))
    n = x.shape[0]
    dummies = []
    for j in range(x.shape[1]):
        col = x[:, j]
        ones = int((col == 1).sum())
        if ones + int((col == 0).sum()) == n and 0 < ones < n:
            small = min(ones, n - ones)
            if small < threshold:
                dummies.append((str(names[j]), small))
    # leverage h_ii = squared row norms of the left singular vectors of the used rank
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    rank = int((s > s.max(initial=0.0) * max(x.shape) * np.finfo(float).eps).sum())
    leverage = (u[:, :rank] ** 2).sum(axis=1)
    exact = int((leverage > 1 - 1e-8).sum())
    typical = 3.0 * rank / n if n else 1.0
    return Groups(tuple(dummies), exact, float(leverage.max(initial=0.0)), typical)


def record(fitted: Fitted, rules: OutputRules, uid: str, command: str) -> Output:
    """The output of a regression: its summary tables, the DoF and small-group verdicts."""
    dof = residual_dof(fitted)
    ok = dof >= rules.safe_dof_threshold
    groups = small_groups(fitted, rules.safe_threshold)
    status = max(Verdict.PASS if ok else Verdict.FAIL, groups.verdict(rules.safe_threshold))
    comparator = ">=" if ok else "<"
    summary = f"{status.text}; {V.DOF}: dof={dof:g} {comparator} {rules.safe_dof_threshold}"
    found = groups.explain(rules.safe_threshold)
    if found:
        summary += f"; {V.SMALL_GROUP}: " + "; ".join(found)
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
                "verdict": (Verdict.PASS if ok else Verdict.FAIL).text,
            },
            V.SMALL_GROUP: {
                **groups.to_dict(),
                "threshold": rules.safe_threshold,
                "verdict": groups.verdict(rules.safe_threshold).text,
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
