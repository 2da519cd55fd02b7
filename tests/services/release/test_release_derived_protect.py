"""`table protect --dataset` of a family member protects with the family's releases (issue 15 §6).

The family of tests/services/derived_world.py: ``firms`` (everyone), ``firms-small`` and
``firms-rest`` derived from it. Pay by area x industry of everyone is published with a1 x k
hidden (p%: one person's pay), then the same table of the small band (a1 x k published).
Protected with the family's releases, the same table of the other bands hides its
a1 x k (with the whole's and the small band's it would give the hidden cell) and what
protects it, and passes release submit's differencing check. An independent LP over
every published cell, the units split by their membership (small or rest), finds no
primary of any release pinned or under its protection level. Without the family's
releases (the mutation) the same table is blocked at submission. The parent's table is
protected with its derived datasets' releases the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from derived_world import AREAS, INDUSTRIES, build_family, publish, published, spec, verdicts
from release_world import AREA
from scipy.optimize import linprog
from sqlalchemy import Engine
from stored_world import Stored

from fivesafes.sdc import LOWER, STATUS, UPPER, VALUE, Status
from fivesafes.services.vault import tables as vault_tables
from fivesafes.services.vault.tables import stored_table

# the membership patterns that hold units: every person is in exactly one band dataset
PATTERNS = ("firms-small", "firms-rest")
KEPT = {"firms": PATTERNS, "firms-small": ("firms-small",), "firms-rest": ("firms-rest",)}
TOTAL = "Total"


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    return build_family(engine, tmp_path)


@dataclass(frozen=True)
class Primary:
    dataset: str
    area: str
    industry: str
    value: float
    lower: float
    upper: float


def _primaries(stored: Stored, outputs: Mapping[str, str]) -> list[Primary]:
    """The primary cells of the stored outputs (output -> dataset), with their levels."""
    out = []
    with stored.tx() as s:
        for output, dataset in outputs.items():
            table, _ = stored_table(s, stored.vault, AREA, output)
            cells = table.cells
            for _, c in cells[cells[STATUS] == Status.PRIMARY.value].iterrows():
                p = Primary(dataset, c["area"], c["industry"], c[VALUE], c[LOWER], c[UPPER])
                out.append(p)
    return out


def _attack(
    stored: Stored,
    datasets: list[str],
    primaries: list[Primary],
    extra: Mapping[tuple[str, str, str], float] | None = None,
) -> list[str]:
    """An independent attacker: one non-negative unknown per area, industry and membership
    pattern; each published cell of each dataset's source an equation over the patterns
    its dataset holds (and ``extra``: (dataset, area, industry) -> value, as if published).
    Returns the primaries pinned or not protected to their level."""
    keys = [(a, i, p) for a in AREAS for i in INDUSTRIES for p in PATTERNS]

    def row(dataset: str, area: str, industry: str) -> np.ndarray:
        return np.array(
            [
                1.0 if area in (TOTAL, a) and industry in (TOTAL, i) and p in KEPT[dataset] else 0.0
                for a, i, p in keys
            ]
        )

    a_eq, b_eq = [], []
    for dataset in datasets:
        for (area, industry), value in published(stored, f"{dataset}:pay").items():
            a_eq.append(row(dataset, area, industry))
            b_eq.append(value)
    for (dataset, area, industry), value in (extra or {}).items():
        a_eq.append(row(dataset, area, industry))
        b_eq.append(value)
    bounds = [(0.0, None)] * len(keys)
    failures = []
    for p in primaries:
        target = row(p.dataset, p.area, p.industry)
        low = linprog(target, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds)
        high = linprog(-target, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds)
        assert low.status == 0 and high.status == 0
        lo, hi = float(low.fun), float(-high.fun)
        tol = 1e-6 * max(1.0, abs(p.value))
        if hi - lo < tol or lo > p.value - p.lower + tol or hi < p.value + p.upper - tol:
            failures.append(f"{p.dataset} {p.area} x {p.industry}: [{lo:g}, {hi:g}] of {p.value:g}")
    return failures


def _whole_and_small(stored: Stored) -> None:
    """The whole's table (a1 x k hidden by p%) and the small band's, published."""
    (whole,) = stored.protect(spec(stored, "all", p_percent=True), dataset="firms", name="all")
    assert whole.by_rule.get("p%(10)", 0) >= 1
    publish(stored, "all")
    stored.protect(spec(stored, "small"), dataset="firms-small", name="small")
    publish(stored, "small")
    assert ("a1", "k") not in published(stored, "firms:pay")
    assert published(stored, "firms-small:pay")[("a1", "k")] == 7.0


def test_the_other_bands_protected_with_the_family_are_publishable_and_safe(
    stored: Stored,
) -> None:
    _whole_and_small(stored)
    (rest,) = stored.protect(spec(stored, "rest"), dataset="firms-rest", name="rest")
    assert rest.by_status.get("primary", 0) == 0  # its own rules flag nothing
    assert rest.hidden_for_releases >= 1  # a1 x k, and what protects it, for the releases
    assert len(rest.published_releases) == 2
    assert rest.membership == {"membership of firms": ["firms-rest"]}
    publish(stored, "rest")  # differencing passes by construction
    assert ("a1", "k") not in published(stored, "firms-rest:pay")

    outputs = {"all": "firms", "small": "firms-small", "rest": "firms-rest"}
    primaries = _primaries(stored, outputs)
    # the whole's a1 x k: p% 10 of 1000 less the remainder 12, each side
    assert any(
        (p.dataset, p.area, p.industry) == ("firms", "a1", "k") and p.upper >= 88 - 1e-9
        for p in primaries
    )
    assert _attack(stored, list(outputs.values()), primaries) == []
    # the attacker sees it: had the other bands' a1 x k (1000 + six of 1) been published
    extra = {("firms-rest", "a1", "k"): 1006.0}
    found = _attack(stored, list(outputs.values()), primaries, extra)
    assert [f.split(":")[0] for f in found] == ["firms a1 x k"]


def test_without_the_family_releases_the_same_table_is_blocked(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    _whole_and_small(stored)
    # the mutation: protect as if the dataset were in no family (its own source's releases)
    monkeypatch.setattr(vault_tables, "area_families", lambda session, area_id: [])
    (rest,) = stored.protect(spec(stored, "rest"), dataset="firms-rest", name="rest")
    assert rest.published_releases == () and rest.membership == {}
    view = stored.submit(f"{AREA}/rest")
    assert verdicts(view)["differencing"] == "fail"
    assert "a1" in next(c.summary for c in view.versions[-1].checks if c.name == "differencing")


def test_the_parent_is_protected_with_its_derived_datasets_releases(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The small band's a1 x k hidden (threshold 8: seven people), the other bands' a1 x k
    published: the whole's a1 x k, published, would give it by subtraction."""
    (small,) = stored.protect(
        spec(stored, "small", threshold=8), dataset="firms-small", name="small"
    )
    assert small.by_status["primary"] >= 1
    publish(stored, "small")
    stored.protect(spec(stored, "rest"), dataset="firms-rest", name="rest")
    publish(stored, "rest")
    assert ("a1", "k") in published(stored, "firms-rest:pay")

    # the mutation first: the parent's table protected as if in no family is blocked
    with monkeypatch.context() as m:
        m.setattr(vault_tables, "area_families", lambda session, area_id: [])
        stored.protect(spec(stored, "alone"), dataset="firms", name="alone")
    view = stored.submit(f"{AREA}/alone")
    assert verdicts(view)["differencing"] == "fail"

    (whole,) = stored.protect(spec(stored, "all"), dataset="firms", name="all")
    assert whole.by_status.get("primary", 0) == 0 and whole.hidden_for_releases >= 1
    assert whole.membership == {"membership of firms": sorted(PATTERNS)}
    publish(stored, "all")
    assert ("a1", "k") not in published(stored, "firms:pay")
    outputs = {"small": "firms-small", "rest": "firms-rest", "all": "firms"}
    primaries = _primaries(stored, outputs)
    assert any(
        p.dataset == "firms-small" and (p.area, p.industry) == ("a1", "k") for p in primaries
    )
    assert _attack(stored, list(outputs.values()), primaries) == []
