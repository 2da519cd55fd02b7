"""Properties of the audit on random hierarchical tables, and a brute-force cross-check.

The brute force solves every min/max LP on the whole unreduced system with
scipy.optimize.linprog (published cells fixed through their bounds): no propagation,
no components, no warm start, no skipped LPs.
"""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
from audit_helpers import make_cells, tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.audit import batch as audit_batch
from fivesafes.sdc.audit import intervals as audit_lp
from fivesafes.sdc.audit import local as audit_local
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.lp.structure import build_structure


@st.composite
def _table(draw: st.DrawFn) -> tuple[list[Hierarchy], pd.DataFrame, np.random.Generator]:
    n_dims = draw(st.integers(2, 4))
    hs = []
    for d in range(n_dims):
        depth = draw(st.integers(1, 2 if n_dims <= 3 else 1))
        fans = draw(st.lists(st.integers(2, 3), min_size=depth, max_size=depth))
        hs.append(tree(f"d{d}", fans))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    leaf = rng.integers(0, 30, size=[len(h.leaves) for h in hs]).astype(float)
    leaf[rng.random(leaf.shape) < 0.15] = 0.0
    cells = make_cells(hs, leaf)
    if len(cells) > 150:  # keep the brute force quick
        hs = hs[:2]
        cells = make_cells(hs, leaf.sum(axis=tuple(range(2, leaf.ndim))))
    return hs, cells, rng


def _hide(cells: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    out = cells.copy()
    out["status"] = np.where(mask, "secondary", "safe")
    return out


def _brute_force(
    cells: pd.DataFrame, hs: list[Hierarchy], lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    s = build_structure(cells, hs)
    v = cells["value"].to_numpy(dtype=float)
    hidden = (cells["status"] != "safe").to_numpy()
    lb = np.where(hidden, lower, v)
    ub = np.where(hidden, upper, v)
    bounds = list(
        zip(np.where(np.isfinite(lb), lb, None), np.where(np.isfinite(ub), ub, None), strict=True)
    )
    a = s.relations.toarray()
    lo = np.full(v.size, np.nan)
    hi = np.full(v.size, np.nan)
    for j in np.flatnonzero(hidden)[:25]:  # a sample is enough for a cross-check
        c = np.zeros(v.size)
        c[j] = 1.0
        for sign, out in ((1.0, lo), (-1.0, hi)):
            res = linprog(
                sign * c, A_eq=a, b_eq=np.zeros(a.shape[0]), bounds=bounds, method="highs"
            )
            if res.status == 3:
                out[j] = -sign * np.inf
            else:
                assert res.status == 0, res.message
                out[j] = sign * res.fun
    return lo, hi


def _with_primaries(
    cells: pd.DataFrame, rng: np.random.Generator, share: float, protection: float
) -> tuple[pd.DataFrame, np.ndarray]:
    """Hide a random share of cells; about half of them primary, with random protection."""
    hidden = rng.random(len(cells)) < share
    cells = _hide(cells, hidden)
    primary = hidden & (rng.random(len(cells)) < 0.5)
    cells.loc[primary, "status"] = "primary"
    prot = cells["value"] * protection * rng.random(len(cells))
    cells["lower_protection"] = np.where(primary, prot, 0.0)
    cells["upper_protection"] = np.where(primary, prot[::-1], 0.0)
    return cells, primary


def _audit_arrays(
    result_intervals: pd.DataFrame, cells: pd.DataFrame, dims: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    merged = cells[dims].merge(result_intervals, on=dims, how="left")
    return merged["attacker_min"].to_numpy(dtype=float), merged["attacker_max"].to_numpy(
        dtype=float
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_table(), st.floats(0.1, 0.6), st.sampled_from(["default", "apriori", "free"]))
def test_audit_matches_brute_force_and_contains_the_true_value(table, share, mode) -> None:
    hs, cells, rng = table
    hidden = rng.random(len(cells)) < share
    cells = _hide(cells, hidden)
    v = cells["value"].to_numpy(dtype=float)
    if mode == "apriori":
        lower, upper = v * 0.8, v * 1.2
        result = audit_table(cells, hs, a_priori_percent=20.0)
    elif mode == "free":
        lower, upper = np.full(v.size, -np.inf), np.full(v.size, np.inf)
        result = audit_table(cells, hs, bounds=(lower, upper))
    else:
        lower, upper = np.zeros(v.size), np.full(v.size, np.inf)
        result = audit_table(cells, hs)
    dims = [h.name for h in hs]
    lo, hi = _audit_arrays(result.intervals, cells, dims)
    tol = 1e-6 * max(1.0, float(np.abs(v).max()))
    assert np.all(lo[hidden] <= v[hidden] + tol)
    assert np.all(hi[hidden] >= v[hidden] - tol)
    assert np.all(np.isnan(lo[~hidden]))
    blo, bhi = _brute_force(cells, hs, lower, upper)
    checked = ~np.isnan(blo)
    for ours, theirs in ((lo[checked], blo[checked]), (hi[checked], bhi[checked])):
        assert np.array_equal(np.isinf(ours), np.isinf(theirs))
        finite = ~np.isinf(ours)
        assert np.allclose(ours[finite], theirs[finite], atol=tol, rtol=1e-7)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_table(), st.floats(0.05, 0.4), st.floats(0.05, 0.4), st.booleans())
def test_hiding_more_cells_never_shrinks_an_interval(table, share, extra, apriori) -> None:
    hs, cells, rng = table
    hidden = rng.random(len(cells)) < share
    more = hidden | (rng.random(len(cells)) < extra)
    pct = 15.0 if apriori else None
    dims = [h.name for h in hs]
    first = audit_table(_hide(cells, hidden), hs, a_priori_percent=pct)
    second = audit_table(_hide(cells, more), hs, a_priori_percent=pct)
    lo1, hi1 = _audit_arrays(first.intervals, cells, dims)
    lo2, hi2 = _audit_arrays(second.intervals, cells, dims)
    tol = 1e-6 * max(1.0, float(cells["value"].abs().max()))
    assert np.all(lo2[hidden] <= lo1[hidden] + tol)
    assert np.all(hi2[hidden] >= hi1[hidden] - tol)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_table(), st.floats(0.1, 0.5), st.floats(0.0, 0.6), st.booleans())
def test_quicker_interval_modes_give_the_exact_audits_verdict(
    table, share, protection, freq
) -> None:
    hs, cells, rng = table
    cells, primary = _with_primaries(cells, rng, share, protection)
    exact = audit_table(cells, hs, frequency=freq)
    dims = [h.name for h in hs]
    key = [*dims, "failure"]
    for mode in ("primary", "check"):
        other = audit_table(cells, hs, frequency=freq, intervals=mode)
        assert exact.failures[key].equals(other.failures[key]), mode
        assert other.lp_count <= exact.lp_count + 2 * int(primary.sum())
    primary_mode = audit_table(cells, hs, frequency=freq, intervals="primary")
    # the exact flag of secondary cells is right even without their exact intervals
    assert exact.intervals["exact"].equals(primary_mode.intervals["exact"])
    is_primary = (exact.intervals["status"] == "primary").to_numpy()
    for col in ("attacker_min", "attacker_max"):
        assert np.allclose(
            exact.intervals[col][is_primary], primary_mode.intervals[col][is_primary]
        )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_table(), st.floats(0.1, 0.5), st.floats(0.0, 0.6), st.booleans())
def test_batch_points_and_local_proofs_keep_the_check_modes_verdict(
    table, share, protection, freq
) -> None:
    hs, cells, rng = table
    cells, _ = _with_primaries(cells, rng, share, protection)
    exact = audit_table(cells, hs, frequency=freq)
    key = [*[h.name for h in hs], "failure"]
    with patch.object(audit_batch, "MIN_CELLS", 0), patch.object(audit_batch, "IPM_ABOVE", 10):
        batched = audit_table(cells, hs, frequency=freq, intervals="check")
    assert exact.failures[key].equals(batched.failures[key])
    with patch.object(audit_lp, "LOCAL_ABOVE", 0), patch.object(audit_local, "NEIGHBOURHOOD", 3):
        local = audit_table(cells, hs, frequency=freq, intervals="check")
    assert exact.failures[key].equals(local.failures[key])


def _singleton_brute_force(cells: pd.DataFrame, hs: list[Hierarchy]) -> set[int]:
    """Primary rows that some single outside one-contributor hidden cell, known, unprotects.

    Outside: the cell of the units it shares with the primary (per dimension the lower of
    the two codes, when one is the other's ancestor) has no records (issue 15 §1).
    """
    s = build_structure(cells, hs)
    v = cells["value"].to_numpy(dtype=float)
    hidden = (cells["status"] != "safe").to_numpy()
    single = hidden & (cells["contributors"].to_numpy() == 1)
    records = cells["records"].to_numpy(dtype=float)
    a = s.relations.toarray()
    dims = [h.name for h in hs]
    row_of = {tuple(r): i for i, r in enumerate(cells[dims].astype(str).itertuples(index=False))}

    def shares(p: int, q: int) -> bool:
        meet = []
        for d, h in enumerate(hs):
            cp, cq = str(cells[dims[d]].iloc[p]), str(cells[dims[d]].iloc[q])
            if cp in h.ancestors(cq):  # ancestors include the code itself
                meet.append(cq)
            elif cq in h.ancestors(cp):
                meet.append(cp)
            else:
                return False
        return bool(records[row_of[tuple(meet)]] > 0)

    bad = set()
    for p in np.flatnonzero((cells["status"] == "primary").to_numpy()):
        for q in np.flatnonzero(single):
            if q == p or shares(int(p), int(q)):
                continue
            bounds = [
                (v[i], v[i]) if (not hidden[i] or i == q) else (0.0, None) for i in range(v.size)
            ]
            c = np.zeros(v.size)
            c[p] = 1.0
            ends = []
            for sign in (1.0, -1.0):
                res = linprog(
                    sign * c, A_eq=a, b_eq=np.zeros(len(a)), bounds=bounds, method="highs"
                )
                ends.append(np.inf * -sign if res.status == 3 else sign * res.fun)
            lo, hi = ends
            tol = 1e-6 * max(1.0, float(np.abs(v).max()))
            if (
                hi - lo <= tol  # a hidden primary must never be exactly determined
                or lo > v[p] - cells["lower_protection"].iloc[p] + tol
                or hi < v[p] + cells["upper_protection"].iloc[p] - tol
            ):
                bad.add(int(p))
                break
    return bad


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_table(), st.floats(0.2, 0.6), st.sampled_from([2, 4, 1_500]), st.booleans())
def test_singleton_check_matches_brute_force_at_any_neighbourhood(
    table, share, reach, coalition
) -> None:
    """``coalition``: the batch points with every single-contributor cell known (used on
    components of 2,000 cells and more) run on every component, however small."""
    hs, cells, rng = table
    hidden = rng.random(len(cells)) < share
    cells = _hide(cells, hidden)
    primary = hidden & (rng.random(len(cells)) < 0.5)
    cells.loc[primary, "status"] = "primary"
    prot = 0.2 * cells["value"]
    cells["lower_protection"] = np.where(primary, prot, 0.0)
    cells["upper_protection"] = np.where(primary, prot, 0.0)
    ones = hidden & (rng.random(len(cells)) < 0.4)
    cells.loc[ones, ["contributors", "records"]] = 1
    plain = audit_table(cells, hs)
    with (
        patch.object(audit_local, "NEIGHBOURHOOD", reach),
        patch.object(audit_batch, "MIN_CELLS", 0 if coalition else audit_batch.MIN_CELLS),
        patch.object(audit_batch, "IPM_ABOVE", 10),
    ):
        result = audit_table(cells, hs, singleton=True)
    dims = [h.name for h in hs]
    fails = result.failures[result.failures["failure"].str.contains("singleton")]
    ours = set(cells.reset_index().merge(fails[dims], on=dims)["index"].tolist())
    plain_bad = set(cells.reset_index().merge(plain.failures[dims], on=dims)["index"].tolist())
    expected = _singleton_brute_force(cells, hs) - plain_bad
    assert ours - plain_bad == expected
