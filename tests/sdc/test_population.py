"""Tables of part of the units (issue 15 §6): the filter is one more dimension of the model.

Region x industry for every enterprise is published; the same table for the small ones
is published too; a third table for the other size bands then gives a hidden cell of
the first by addition. The differencing check must block it, and protection with the
two releases (and the population) must make it safe, checked by scipy's LP over the
leaf cells split by size band.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from fivesafes.errors import SpecError
from fivesafes.sdc import (
    DimensionSpec,
    Hierarchy,
    OutputTable,
    Population,
    RuleSet,
    SuppressionSpec,
    TableSpec,
    check_differencing,
    protect_all,
    restrict,
    tables,
)
from fivesafes.sdc.population import joined

REGIONS = ("r1", "r2", "r3")
INDUSTRIES = ("A", "B", "C")
SIZES = ("small", "medium", "large")
HIER = (
    Hierarchy.flat("region", list(REGIONS), total="T"),
    Hierarchy.flat("industry", list(INDUSTRIES), total="T"),
)


def _spec(name: str, p_percent: float | None = None) -> TableSpec:
    return TableSpec(
        name,
        (DimensionSpec("region", total_code="T"), DimensionSpec("industry", total_code="T")),
        response="turnover",
        contributor="ent",
        rules=RuleSet(threshold=3, p_percent=p_percent),
        suppression=SuppressionSpec(method="optimal", singleton=False),
    )


def _data(seed: int = 1) -> pd.DataFrame:
    """Four units per region x industry x size band, but r1 x A: three small ones of 1 and
    medium ones of 50, 1 and 1 (dominated as a whole, not a small band of 3)."""
    rng = np.random.default_rng(seed)
    rows = []
    for region, industry, size in itertools.product(REGIONS, INDUSTRIES, SIZES):
        values = [float(v) for v in rng.integers(20, 60, size=4)]
        if (region, industry) == ("r1", "A"):
            values = {"small": [1.0, 1.0, 1.0], "medium": [50.0, 1.0, 1.0], "large": []}[size]
        for k, v in enumerate(values):
            rows.append((f"{region}{industry}{size}{k}", region, industry, size, v))
    return pd.DataFrame(rows, columns=["ent", "region", "industry", "size", "turnover"])


def _pop(*kept: str) -> Population:
    return Population.of({"size": kept}, {"size": SIZES})


def _leaf_lp(outputs: list[tuple[OutputTable, tuple[str, ...]]]) -> None:
    """scipy's LP over region x industry x size leaves: every primary keeps its protection."""
    leaves = list(itertools.product(REGIONS, INDUSTRIES, SIZES))
    index = {k: i for i, k in enumerate(leaves)}

    def cover(row: pd.Series, sizes: tuple[str, ...]) -> np.ndarray:
        vec = np.zeros(len(leaves))
        regions = REGIONS if row["region"] == "T" else (row["region"],)
        industries = INDUSTRIES if row["industry"] == "T" else (row["industry"],)
        for k in itertools.product(regions, industries, sizes):
            vec[index[k]] = 1.0
        return vec

    a_eq, b_eq, targets = [], [], []
    for t, sizes in outputs:
        for _, row in t.cells.iterrows():
            if row["status"] == "safe":
                a_eq.append(cover(row, sizes))
                b_eq.append(float(row["value"]))
            elif row["status"] == "primary":
                targets.append((t.label, row, cover(row, sizes)))
    for label, row, c in targets:
        low = linprog(c, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None))
        high = linprog(-c, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None))
        lo, hi = float(low.fun), float(-high.fun) if high.status == 0 else float("inf")
        value = float(row["value"])
        where = (label, row["region"], row["industry"], lo, hi)
        assert hi - lo > 1e-6, where
        assert lo <= value - float(row["lower_protection"]) + 1e-6, where
        assert hi >= value + float(row["upper_protection"]) - 1e-6, where


def test_the_other_bands_are_blocked_alone_and_safe_when_protected_with_both() -> None:
    data = _data()
    # the whole under p% 10 (r1 x A dominated: hidden); the bands under the threshold only
    whole = tables(_spec("all", p_percent=10), data, hierarchies=HIER)
    assert whole.cells.set_index(["region", "industry"]).loc[("r1", "A"), "status"] == "primary"
    small_only = data[data["size"] == "small"]
    small = tables(_spec("small"), small_only, hierarchies=HIER, population=_pop("small"))
    releases = [
        OutputTable("all", whole.hierarchies, whole.cells),
        restrict(OutputTable("small", small.hierarchies, small.cells), _pop("small")),
    ]
    assert check_differencing(releases[1], releases[:1]).safe  # publishable second
    others = data[data["size"] != "small"]
    pop = _pop("medium", "large")
    alone = tables(_spec("others"), others, hierarchies=HIER, population=pop)
    alone_out = restrict(OutputTable("others", alone.hierarchies, alone.cells), pop)
    blocked = check_differencing(alone_out, releases)
    assert not blocked.safe  # all = small + others: r1 x A of the whole, exactly
    assert any(d.table == "all" and d.codes == {"region": "r1", "industry": "A"} and d.exact
               for d in blocked.disclosures)  # fmt: skip

    protected = tables(
        _spec("others"), others, hierarchies=HIER, population=pop, published=releases
    )
    out = restrict(OutputTable("others", protected.hierarchies, protected.cells), pop)
    assert check_differencing(out, releases).safe
    assert protected.report["population"]["where"] == {"size": ["large", "medium"]}
    assert protected.report["published"]["hidden_for_releases"] >= 1
    _leaf_lp(
        [
            (releases[0], SIZES),
            (OutputTable("small", small.hierarchies, small.cells), ("small",)),
            (OutputTable("others", protected.hierarchies, protected.cells), ("medium", "large")),
        ]
    )


def test_the_whole_minus_a_part_is_seen_by_the_check() -> None:
    # whole r1 x A hidden; small and the others publish it: the whole is their sum
    cells_whole = pd.DataFrame(
        {"region": ["T", "r1", "r2"], "value": [30.0, 10.0, 20.0],
         "status": ["safe", "primary", "secondary"],
         "lower_protection": [0.0, 2.0, 0.0], "upper_protection": [0.0, 2.0, 0.0]}
    )  # fmt: skip
    h = Hierarchy.flat("region", ["r1", "r2"], total="T")
    part = pd.DataFrame({"region": ["T", "r1", "r2"], "value": [12.0, 4.0, 8.0], "status": "safe"})
    rest = pd.DataFrame({"region": ["T", "r1", "r2"], "value": [18.0, 6.0, 12.0], "status": "safe"})
    whole = OutputTable("whole", (h,), cells_whole)
    small = restrict(OutputTable("small", (h,), part), _pop("small"))
    others = restrict(OutputTable("others", (h,), rest), _pop("medium", "large"))
    assert check_differencing(small, [whole]).safe  # one part alone reveals nothing
    result = check_differencing(others, [whole, small])
    assert not result.safe and result.disclosures[0].exact
    # unfiltered, the same figures would be taken for one population and disagree
    with pytest.raises(Exception, match="different values"):
        check_differencing(OutputTable("others", (h,), rest), [whole, OutputTable("s", (h,), part)])


def test_a_population_must_name_values_of_its_domain() -> None:
    with pytest.raises(SpecError, match="not among its values"):
        Population.of({"size": ["tiny"]}, {"size": SIZES})
    with pytest.raises(SpecError, match="keeps no value"):
        Population.of({"size": []}, {"size": SIZES})
    pop = _pop("medium", "large")
    assert pop.code("size") == "size:large|medium"
    h = pop.hierarchy("size")
    assert set(h.leaves_under("size:large|medium")) == {"medium", "large"}
    assert set(h.leaves_under("*")) == set(SIZES)
    assert _pop("small").code("size") == "small"


def test_protect_all_protects_the_parts_with_the_whole_in_one_run(tmp_path: Path) -> None:
    # three tables of one measure, two of them of part of the units: not linked (no
    # shared cell), so each is protected with the ones before it, as if published
    data = _data()
    whole = _spec("all", p_percent=10)
    small = replace(_spec("small"), where=(("size", ("small",)),))
    others = replace(_spec("others"), where=(("size", ("large", "medium")),))
    results = protect_all([whole, small, others], data)
    outs = [
        OutputTable("all", results[0].hierarchies, results[0].cells),
        restrict(OutputTable("small", results[1].hierarchies, results[1].cells), _pop("small")),
        restrict(
            OutputTable("others", results[2].hierarchies, results[2].cells),
            _pop("medium", "large"),
        ),
    ]
    assert check_differencing(outs[2], outs[:2]).safe
    assert results[2].report["published"]["releases"] == ["this run: all", "this run: small"]
    assert results[2].report["population"]["where"] == {"size": ["large", "medium"]}


def test_a_family_membership_and_a_where_filter_are_two_filters_of_one_table() -> None:
    """A derived dataset (the medium and large units) with its own ``[table] where``: the
    membership (release/families.py's model, given as ``membership``) and the filter are
    both dimensions of the table the releases are protected with, as the check sees it."""
    data = _data()
    member = Population.of({"membership of all": ["rest"]}, {"membership of all": ["rest", "s"]})
    whole = tables(_spec("all", p_percent=10), data, hierarchies=HIER)
    small = tables(_spec("small"), data[data["size"] == "small"], hierarchies=HIER)
    small_member = Population.of({"membership of all": ["s"]}, member.domains)
    parent = Population.of({"membership of all": ["rest", "s"]}, member.domains)
    releases = [
        restrict(OutputTable("all", whole.hierarchies, whole.cells), parent),
        restrict(OutputTable("small", small.hierarchies, small.cells), small_member),
    ]
    rest = data[data["size"] != "small"]
    medium = replace(_spec("medium"), where=(("size", ("medium",)),))
    (done,) = protect_all([medium], rest, published={"turnover": releases}, membership=member)
    assert done.report["population"]["where"] == {"size": ["medium"]}
    assert done.report["membership"]["where"] == {"membership of all": ["rest"]}
    where = Population.of(done.report["population"]["where"], done.report["population"]["domains"])
    # as release submit sees it: the report's filter, then the family's membership
    seen = restrict(restrict(OutputTable("medium", done.hierarchies, done.cells), where), member)
    assert check_differencing(seen, releases).safe
    assert joined(where, member) == Population(
        {"size": ("medium",), "membership of all": ("rest",)},
        {"size": ("large", "medium"), "membership of all": ("rest", "s")},
    )
    with pytest.raises(SpecError, match="filtered twice"):
        joined(member, small_member)
    assert joined(None, None) is None


def test_linked_tables_of_a_family_member_are_protected_with_its_releases() -> None:
    """Two tables of the other bands' dataset protected together (linked), each seen with
    its membership: both pass the check against the whole's and the small band's."""
    data = _data()
    domain = {"membership of all": ["rest", "s"]}
    member = Population.of({"membership of all": ["rest"]}, domain)
    whole = tables(_spec("all", p_percent=10), data, hierarchies=HIER)
    small = tables(_spec("small"), data[data["size"] == "small"], hierarchies=HIER)
    releases = [
        restrict(OutputTable("all", whole.hierarchies, whole.cells), Population.of(domain, domain)),
        restrict(
            OutputTable("small", small.hierarchies, small.cells),
            Population.of({"membership of all": ["s"]}, domain),
        ),
    ]
    rest = data[data["size"] != "small"]
    specs = [_spec("rest-a"), _spec("rest-b")]  # nothing primary of their own
    done = protect_all(specs, rest, published={"turnover": releases}, membership=member)
    outs = [restrict(OutputTable(r.name, r.hierarchies, r.cells), member) for r in done]
    assert all(r.report["suppression"].get("linked_with") for r in done)
    assert all(r.report["published"]["hidden_for_releases"] >= 2 for r in done)
    for r in done:  # r1 x A of the other bands: with the small band's, the whole's
        assert r.cells.set_index(["region", "industry"]).loc[("r1", "A"), "status"] != "safe"
        # the report counts the pattern returned (it counted the primaries alone)
        counted = {k: v for k, v in r.report["cells"]["by_status"].items() if v}
        assert counted == r.cells["status"].value_counts().to_dict()
    assert check_differencing(outs[0], [*releases, outs[1]]).safe
    assert check_differencing(outs[1], [*releases, outs[0]]).safe
