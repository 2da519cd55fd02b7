"""Every method returns a pattern that an independent audit finds safe (hypothesis)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import independent_audit, random_table
from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.secondary import protect as protect_module
from fivesafes.sdc.secondary import protect_secondary
from fivesafes.sdc.spec import SuppressionSpec

SHAPES = {
    2: [[[2, 2], [3]], [[3], [2, 2]], [[2, 3], [2]]],
    3: [[[2], [2, 2], [1]], [[2, 2], [2], [1]]],
    4: [[[2], [2], [1], [1]]],
}
FAST_SETTINGS = settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check(df, hs, res, singleton: bool) -> None:  # type: ignore[no-untyped-def]
    cells = res.cells
    assert (cells["status"] == "primary").sum() == (df["status"] == "primary").sum()
    assert (cells.loc[df["status"] == "primary", "status"] == "primary").all()
    # never a structural zero as a complement
    assert not ((cells["records"] == 0) & (cells["status"] == "secondary")).any()
    assert independent_audit(cells, hs) == []
    assert audit_table(cells, hs, singleton=singleton).safe


@pytest.mark.parametrize("dims", [2, 3, 4])
@pytest.mark.parametrize("method", ["fast", "modular", "optimal"])
@FAST_SETTINGS
@given(seed=st.integers(0, 10_000), shape=st.integers(0, 2), k=st.integers(1, 5))
def test_every_method_is_safe(dims: int, method: str, seed: int, shape: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    fans = SHAPES[dims][shape % len(SHAPES[dims])]
    df, hs = random_table(rng, fans, n_primary=k, zero_share=0.15)
    res = protect_secondary(df, hs, SuppressionSpec(method=method, singleton=False))
    _check(df, hs, res, singleton=False)
    # modular publishes the fast pattern when that is cheaper, and says so
    assert res.method == method or (
        method == "modular" and res.method == "fast" and any("fast pattern" in n for n in res.notes)
    )


def test_the_method_reported_is_the_one_whose_pattern_is_published(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """modular keeps the fast pattern when it is cheaper: the result (and report.json's
    secondary.method) names fast then, not modular."""
    import fivesafes.sdc.secondary.protect as protect_module

    def dear(problem, structure, spec):  # type: ignore[no-untyped-def]
        return ~problem.fixed | problem.forced, {}  # safe (everything hidden), and dearest

    monkeypatch.setattr(protect_module, "protect_modular", dear)
    df, hs = random_table(np.random.default_rng(7), [[2, 2], [3]], n_primary=2)
    res = protect_secondary(df, hs, SuppressionSpec(method="modular", singleton=False))
    assert res.method == "fast"
    assert any("fast pattern was cheaper" in n for n in res.notes)
    _check(df, hs, res, singleton=False)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 4))
def test_optimal_never_loses_more_than_heuristics(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2, 2], [3]], n_primary=k)
    results = {
        m: protect_secondary(df, hs, SuppressionSpec(method=m, singleton=False, time_limit=30))
        for m in ("optimal", "modular", "fast")
    }
    opt = results["optimal"]
    assert opt.solver_status == "optimal" and opt.gap is not None and opt.gap <= 1e-6
    for m in ("modular", "fast"):
        assert opt.objective <= results[m].objective * (1 + 1e-9) + 1e-9, m


def test_input_is_not_modified_and_report_is_json() -> None:
    import json

    rng = np.random.default_rng(3)
    df, hs = random_table(rng, [[2, 2], [2]], n_primary=3)
    before = df.copy()
    res = protect_secondary(df, hs, SuppressionSpec(method="optimal"))
    assert df.equals(before)
    report = json.loads(json.dumps(res.to_dict()))
    assert report["method"] == "optimal"
    loss = report["information_loss"]
    assert loss["secondary"]["cells"] == int((res.cells["status"] == "secondary").sum())
    assert loss["primary"]["cells"] == 3


def test_auto_says_what_it_chose() -> None:
    rng = np.random.default_rng(4)
    df, hs = random_table(rng, [[2], [3]], n_primary=2)
    res = protect_secondary(df, hs, SuppressionSpec(method="auto"))
    assert res.method in ("optimal", "modular", "fast")
    assert any("auto chose" in n and res.method in n for n in res.notes)


def test_a_run_stopped_by_its_limit_says_how_far_it_may_be_and_what_narrows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `optimal` on a time limit keeps its best safe pattern; the statistician is told the
    # proven gap and that more time (not less protection) narrows it
    real = protect_module.protect_optimal

    def stopped(problem, start, *, time_limit, gap=0.0):  # type: ignore[no-untyped-def]
        return replace(
            real(problem, start, time_limit=time_limit, gap=gap), status="time_limit", gap=0.125
        )

    monkeypatch.setattr(protect_module, "protect_optimal", stopped)
    rng = np.random.default_rng(4)
    df, hs = random_table(rng, [[2], [3]], n_primary=2)
    res = protect_secondary(df, hs, SuppressionSpec(method="optimal", time_limit=30))
    (note,) = [n for n in res.notes if n.startswith("time limit")]
    assert "time limit 30s reached" in note and "proven gap 12.50%" in note
    assert "[suppression] time_limit" in note and "e.g. 300" in note
    assert "singleton" not in note  # never a weaker protection as the way out
    assert protect_module.time_limit_note(120, 0.2).count("e.g. 600") == 1
    assert "time_limit" not in protect_module.time_limit_note(60, 0.004).partition("gap")[2]


def test_no_primary_means_nothing_hidden() -> None:
    rng = np.random.default_rng(5)
    df, hs = random_table(rng, [[2], [2]], n_primary=0)
    res = protect_secondary(df, hs, SuppressionSpec())
    assert (res.cells["status"] == "safe").all()
    assert res.solver_status == "nothing_to_protect"


@pytest.mark.parametrize("method", ["fast", "optimal"])
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 5))
def test_singleton_patterns_pass_the_singleton_audit(method: str, seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    df, hs = random_table(rng, [[2, 2], [3]], n_primary=k)  # 1-5 contributors per leaf
    res = protect_secondary(df, hs, SuppressionSpec(method=method, singleton=True))
    _check(df, hs, res, singleton=True)
