"""Primary sensitivity rules and the protection each sensitive cell requires.

Pure, vectorised functions over the cells table (see :mod:`fivesafes.sdc.cells`).
Every rule reads the *rule basis*: ``rule_total`` (the cell total on the basis the
rules use) and ``top1`` .. ``topK`` (the largest contributor totals on that basis,
descending). With ``T`` the rule total and ``x1 >= x2 >= ...`` the contributor
totals, the rules and their required protection (Hundepool et al., *Statistical
Disclosure Control*, ch. 4; the tau-Argus manual) are:

===============  ===========================================  =================================
rule             sensitive when                               required protection (lower=upper)
===============  ===========================================  =================================
threshold        1 <= contributors < threshold                 tpp/100 * |value| (>= 1 for counts)
frequency(m)     1 <= records < m                              tpp/100 * |value|, at least 1
dominance(n,k)   x1 + ... + xn > k/100 * T                     (100/k)(x1 + ... + xn) - T
p%(p)            T - x1 - x2 < p/100 * x1                      p/100 * x1 - (T - x1 - x2)
pq(p,q)          T - x1 - x2 < (p/q) * x1                      (p/q) * x1 - (T - x1 - x2)
zero             contributors == 0 (only if zeros="sensitive")  upper 1 unit, lower 0
===============  ===========================================  =================================

``tpp`` is ``threshold_protection_percent``. When several rules flag a cell its
requirement is the largest one. Requirements computed on the rule basis are scaled
to the published ``value`` (see :func:`protection_scale`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from fivesafes.errors import DataError
from fivesafes.sdc.cells import CONTRIBUTORS, LOWER, RECORDS, RULE, STATUS, UPPER, VALUE, Status
from fivesafes.sdc.spec import RuleSet

RULE_TOTAL = "rule_total"
NEGATIVES = "negatives"
ZERO_RULE = "zero"
MISSING_RULE = "missing-statistics"

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RuleOutcome:
    """One rule's verdict on every cell: which cells it flags and the protection they need."""

    name: str
    flagged: BoolArray
    protection: FloatArray  # on the published value's scale; 0 where not flagged
    lower_protection: FloatArray | None = None  # when it differs from ``protection``


def top_column(i: int) -> str:
    """The name of the i-th largest contributor column (1-based)."""
    return f"top{i}"


def required_top_k(rules: RuleSet) -> int:
    """How many of the largest contributors per cell the rules need (0 for none)."""
    need = [n for n, _ in rules.dominance]
    if rules.p_percent is not None or rules.pq is not None:
        need.append(2)
    return max(need, default=0)


def rule_names(rules: RuleSet, *, frequency: bool) -> tuple[str, ...]:
    """The names the rules in force write into the ``rule`` column, in evaluation order."""
    names: list[str] = []
    if rules.threshold is not None:
        names.append("threshold")
    if rules.frequency_threshold is not None:
        names.append(f"frequency({rules.frequency_threshold})")
    if not frequency:
        names.extend(dominance_name(n, k) for n, k in rules.dominance)
        if rules.p_percent is not None:
            names.append(f"p%({_num(rules.p_percent)})")
        if rules.pq is not None:
            names.append(f"pq({_num(rules.pq[0])},{_num(rules.pq[1])})")
    if rules.zeros == "sensitive":
        names.append(ZERO_RULE)
    return tuple(names)


def rule_explanations(rules: RuleSet, *, frequency: bool) -> tuple[str, ...]:
    """One plain-English sentence per rule in force (for the notes of a published table)."""
    out: list[str] = []
    if rules.threshold is not None:
        out.append(
            f"threshold: a cell with fewer than {rules.threshold} contributors is confidential."
        )
    if rules.frequency_threshold is not None:
        out.append(
            f"frequency({rules.frequency_threshold}): a cell with fewer than "
            f"{rules.frequency_threshold} records is confidential."
        )
    if not frequency:
        for n, k in rules.dominance:
            out.append(
                f"{dominance_name(n, k)}: a cell is confidential when its {n} largest "
                f"contributor(s) hold more than {_num(k)}% of its total."
            )
        if rules.p_percent is not None:
            out.append(
                f"p%({_num(rules.p_percent)}): a cell is confidential when the second largest "
                f"contributor could estimate the largest to within {_num(rules.p_percent)}%."
            )
        if rules.pq is not None:
            p, q = rules.pq
            out.append(
                f"pq({_num(p)},{_num(q)}): as the p% rule with p = {_num(p)}, for respondents who "
                f"already know each other's values to within {_num(q)}%."
            )
    if rules.zeros == "sensitive":
        out.append("zero: a cell without contributors is confidential.")
    return tuple(out)


def dominance_name(n: int, k: float) -> str:
    """The rule column's name for an (n, k)-dominance rule, e.g. ``dominance(1,50)``."""
    return f"dominance({n},{_num(k)})"


def rule_basis(rules: RuleSet, *, weighted: bool) -> str:
    """A sentence saying which values the magnitude rules were evaluated on (for the report)."""
    weights = (
        "weighted contributor totals"
        if weighted and rules.apply_weights
        else "unweighted contributor totals"
    )
    sign = (
        "absolute values of the contributions"
        if rules.negatives == "absolute"
        else "the contributions as reported (negative values are an error)"
    )
    return f"{weights}, using {sign}"


def apply_primary_rules(
    cells: pd.DataFrame, rules: RuleSet, *, frequency: bool, weighted: bool = False
) -> pd.DataFrame:
    """Flag primary cells: a copy of ``cells`` with status, rule and lower/upper protection."""
    _check_columns(cells, rules, frequency=frequency)
    if len(cells) and rules.negatives == "error" and NEGATIVES in cells:
        bad = int((cells[NEGATIVES].to_numpy() > 0).sum())
        if bad:
            raise DataError(
                f"{bad} cell(s) contain negative contributions",
                hint='set [rules] negatives = "absolute" to evaluate the rules on absolute '
                "values, or correct the data",
                redacted="some cells contain negative contributions",
            )
    outcomes = evaluate_rules(cells, rules, frequency=frequency, weighted=weighted)
    out = cells.copy()
    n = len(cells)
    flagged = np.zeros(n, dtype=bool)
    upper = np.zeros(n, dtype=np.float64)
    lower = np.zeros(n, dtype=np.float64)
    bits = np.zeros(n, dtype=np.int64)  # bit i set: outcome i flagged the cell
    for i, o in enumerate(outcomes):
        bits |= o.flagged.astype(np.int64) << i
        flagged |= o.flagged
        upper = np.maximum(upper, np.where(o.flagged, o.protection, 0.0))
        low = o.protection if o.lower_protection is None else o.lower_protection
        lower = np.maximum(lower, np.where(o.flagged, low, 0.0))
    if rules.negatives == "error" and n:
        # with non-negative contributions an attacker knows the cell is >= 0 anyway,
        # so a lower requirement beyond the value itself could never be met
        lower = np.minimum(lower, np.abs(_floats(cells, VALUE)))
    status = _decode(flagged.astype(np.int64), [Status.SAFE.value, Status.PRIMARY.value])
    out[STATUS] = status.array
    out[RULE] = rule_labels(bits, tuple(o.name for o in outcomes)).array
    out[LOWER] = lower
    out[UPPER] = upper
    return out


def rule_labels(bits: npt.NDArray[np.int64], names: tuple[str, ...]) -> pd.Series:
    """The ``rule`` column from per-cell bit masks: the names of the set bits, ``;``-joined."""
    # only a handful of distinct combinations occur, so each label is built once and
    # the column is decoded from a dictionary in Arrow (no Python string per cell)
    unique = np.flatnonzero(np.bincount(bits, minlength=1))
    position = np.zeros(int(unique[-1]) + 1 if len(unique) else 1, dtype=np.int64)
    position[unique] = np.arange(len(unique))
    texts = [";".join(name for i, name in enumerate(names) if (int(u) >> i) & 1) for u in unique]
    return _decode(position[bits], texts)


def _decode(indices: npt.NDArray[np.int64], texts: list[str]) -> pd.Series:
    codes = pa.array(indices.astype(np.int32), type=pa.int32())
    dictionary = pa.array(texts or [""], type=pa.string())
    series: pd.Series = (
        pa.DictionaryArray.from_arrays(codes, dictionary).cast(pa.string()).to_pandas()
    )
    return series


def evaluate_rules(
    cells: pd.DataFrame, rules: RuleSet, *, frequency: bool, weighted: bool = False
) -> tuple[RuleOutcome, ...]:
    """Every rule in force, evaluated on every cell (no combining)."""
    scale = protection_scale(cells, rules, frequency=frequency, weighted=weighted)
    value = np.abs(_floats(cells, VALUE))
    contributors = _floats(cells, CONTRIBUTORS)
    records = _floats(cells, RECORDS)
    tpp = rules.threshold_protection_percent / 100.0
    floor = 1.0 if frequency else 0.0
    outcomes: list[RuleOutcome] = []
    if rules.threshold is not None:
        flagged = (contributors >= 1) & (contributors < rules.threshold)
        outcomes.append(
            RuleOutcome("threshold", flagged, np.maximum(tpp * value, floor)),
        )
    if rules.frequency_threshold is not None:
        flagged = (records >= 1) & (records < rules.frequency_threshold)
        outcomes.append(
            RuleOutcome(
                f"frequency({rules.frequency_threshold})", flagged, np.maximum(tpp * value, 1.0)
            )
        )
    if not frequency:
        total = _floats(cells, RULE_TOTAL)
        for n, k in rules.dominance:
            flagged, need = dominance(total, _tops(cells, n), n=n, k=k)
            outcomes.append(RuleOutcome(dominance_name(n, k), flagged, need * scale))
        if rules.p_percent is not None:
            x = _tops(cells, 2)
            flagged, need = p_percent(total, x[:, 0], x[:, 1], p=rules.p_percent)
            outcomes.append(RuleOutcome(f"p%({_num(rules.p_percent)})", flagged, need * scale))
        if rules.pq is not None:
            p, q = rules.pq
            x = _tops(cells, 2)
            flagged, need = pq_rule(total, x[:, 0], x[:, 1], p=p, q=q)
            outcomes.append(RuleOutcome(f"pq({_num(p)},{_num(q)})", flagged, need * scale))
    if rules.zeros == "sensitive":
        flagged = contributors == 0
        # a zero cell is disclosive because it tells that nobody is in it; hiding it
        # needs an interval that admits at least one unit above zero
        ones = np.ones(len(cells), dtype=np.float64)
        outcomes.append(
            RuleOutcome(ZERO_RULE, flagged, ones, lower_protection=np.zeros(len(cells)))
        )
    outcomes.append(_missing_statistics(cells, rules, frequency=frequency))
    return tuple(outcomes)


def dominance(
    total: FloatArray, tops: FloatArray, *, n: int, k: float
) -> tuple[BoolArray, FloatArray]:
    """(n,k)-dominance: flagged when x1+..+xn > k/100*T; needs (100/k)(x1+..+xn) - T."""
    top_sum = tops[:, :n].sum(axis=1)
    flagged = top_sum > (k / 100.0) * total
    need = (100.0 / k) * top_sum - total
    return flagged, np.where(flagged, np.maximum(need, 0.0), 0.0)


def p_percent(
    total: FloatArray, x1: FloatArray, x2: FloatArray, *, p: float
) -> tuple[BoolArray, FloatArray]:
    """p% rule: flagged when T - x1 - x2 < p/100*x1; needs p/100*x1 - (T - x1 - x2)."""
    return _prior_rule(total, x1, x2, ratio=p / 100.0)


def pq_rule(
    total: FloatArray, x1: FloatArray, x2: FloatArray, *, p: float, q: float
) -> tuple[BoolArray, FloatArray]:
    """pq rule: flagged when T - x1 - x2 < (p/q)*x1; needs (p/q)*x1 - (T - x1 - x2)."""
    return _prior_rule(total, x1, x2, ratio=p / q)


def protection_scale(
    cells: pd.DataFrame, rules: RuleSet, *, frequency: bool, weighted: bool
) -> FloatArray:
    """Factor from the rule basis to the published value: |value| / rule_total for weighted
    tables whose rules run unweighted, else 1."""
    n = len(cells)
    if frequency or not weighted or rules.apply_weights:
        return np.ones(n, dtype=np.float64)
    value = np.abs(_floats(cells, VALUE))
    total = _floats(cells, RULE_TOTAL)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > 0, value / np.where(total > 0, total, 1.0), 1.0)
    return np.asarray(ratio, dtype=np.float64)


def _prior_rule(
    total: FloatArray, x1: FloatArray, x2: FloatArray, *, ratio: float
) -> tuple[BoolArray, FloatArray]:
    # the second largest contributor knows its own value, so what hides x1 from it
    # is the remainder T - x1 - x2; it must exceed ratio * x1
    remainder = total - x1 - x2
    need = ratio * x1 - remainder
    flagged = (need > 0) & (x1 > 0)
    return flagged, np.where(flagged, need, 0.0)


def _missing_statistics(cells: pd.DataFrame, rules: RuleSet, *, frequency: bool) -> RuleOutcome:
    # fail closed: a cell whose statistics are unknown is never called safe
    cols = [RECORDS, CONTRIBUTORS, VALUE]
    if not frequency:
        cols.append(RULE_TOTAL)
        cols.extend(top_column(i) for i in range(1, required_top_k(rules) + 1))
    missing = cells[cols].isna().any(axis=1).to_numpy(dtype=bool)
    return RuleOutcome(MISSING_RULE, missing, np.zeros(len(cells), dtype=np.float64))


def _check_columns(cells: pd.DataFrame, rules: RuleSet, *, frequency: bool) -> None:
    need = [RECORDS, CONTRIBUTORS, VALUE]
    if not frequency:
        need.append(RULE_TOTAL)
        need.extend(top_column(i) for i in range(1, required_top_k(rules) + 1))
    missing = [c for c in need if c not in cells.columns]
    if missing:
        raise DataError(
            f"the cells table lacks column(s) {missing} that the rules need",
            hint=f"tabulate with top_k >= {required_top_k(rules)} (see required_top_k)",
        )


def _tops(cells: pd.DataFrame, n: int) -> FloatArray:
    cols = [top_column(i) for i in range(1, n + 1)]
    arr: FloatArray = np.nan_to_num(cells[cols].to_numpy(dtype=np.float64), nan=0.0)
    return arr


def _floats(cells: pd.DataFrame, column: str) -> FloatArray:
    arr: FloatArray = np.nan_to_num(cells[column].to_numpy(dtype=np.float64), nan=0.0)
    return arr


def _num(x: float) -> str:
    return f"{x:g}"
