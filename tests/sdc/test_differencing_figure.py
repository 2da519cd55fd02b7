"""The incremental check of one figure against a prepared register gives the full check's verdict.

The property test draws small registers (two dimensions, two groupings of each, random
suppression and protection) and a figure over any leaves, and compares the disclosures of
``PreparedRegister.check_figure`` with ``check_differencing(figure, register)``. Mutations it
catches (each tried when it was written): re-solving only the hidden cells whose atoms meet
the figure's (instead of every hidden cell of its linked components); re-solving without
the figure's row; trusting the numerical combination without its exact check and without
the value's agreement.
"""

import itertools

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.sdc.differencing import OutputTable, check_differencing
from fivesafes.sdc.differencing_figure import PreparedRegister
from fivesafes.sdc.hierarchy import Hierarchy

ROWS = [f"r{i}" for i in range(5)]
COLS = [f"c{i}" for i in range(4)]
HIERARCHIES = {
    "row": [
        Hierarchy.flat("row", ROWS, total="T"),
        Hierarchy.from_pairs(
            "row",
            [("T", None), ("A", "T"), ("B", "T")]
            + [(r, "A" if i < 2 else "B") for i, r in enumerate(ROWS)],
        ),
    ],
    "col": [
        Hierarchy.flat("col", COLS, total="T"),
        Hierarchy.from_pairs(
            "col",
            [("T", None), ("X", "T"), ("Y", "T")]
            + [(c, "X" if i < 2 else "Y") for i, c in enumerate(COLS)],
        ),
    ],
}


def _table(label, hierarchies, leaf, statuses, protection):
    rows = []
    for k, combo in enumerate(itertools.product(*(h.order for h in hierarchies))):
        codes = {h.name: c for h, c in zip(hierarchies, combo, strict=True)}
        covered = {
            d: set(h.leaves_under(codes[d])) if (h := _by_name(hierarchies, d)) else set(every)
            for d, every in (("row", ROWS), ("col", COLS))
        }
        value = sum(v for (r, c), v in leaf.items() if r in covered["row"] and c in covered["col"])
        status = statuses[k % len(statuses)]
        rows.append(
            {
                **codes,
                "value": float(value),
                "status": status,
                "lower_protection": float(protection) if status == "primary" else 0.0,
                "upper_protection": float(protection) if status == "primary" else 0.0,
            }
        )
    return OutputTable(label, tuple(hierarchies), pd.DataFrame(rows))


def _by_name(hierarchies, name):
    return next((h for h in hierarchies if h.name == name), None)


def _figure(leaf, rows, cols):
    hierarchies, codes = [], {}
    for dim, picked in (("row", rows), ("col", cols)):
        if picked:
            hierarchies.append(Hierarchy.flat(dim, picked, total=f"answer:{'+'.join(picked)}"))
            codes[dim] = f"answer:{'+'.join(picked)}"
    value = sum(
        v for (r, c), v in leaf.items() if (not rows or r in rows) and (not cols or c in cols)
    )
    cells = pd.DataFrame([{**codes, "value": float(value), "status": "safe"}])
    return OutputTable("figure", tuple(hierarchies), cells)


def _disclosed(result):
    return {(d.table, tuple(sorted(d.codes.items()))) for d in result.disclosures}


@st.composite
def registers(draw):
    leaf = {(r, c): draw(st.integers(1, 40)) for r in ROWS for c in COLS}
    tables = []
    for t in range(draw(st.integers(1, 3))):
        layout = draw(st.sampled_from(["both", "row", "col"]))
        hs = []
        if layout in ("both", "row"):
            hs.append(HIERARCHIES["row"][draw(st.integers(0, 1))])
        if layout in ("both", "col"):
            hs.append(HIERARCHIES["col"][draw(st.integers(0, 1))])
        statuses = draw(
            st.lists(
                st.sampled_from(["safe", "safe", "safe", "primary", "secondary"]),
                min_size=3,
                max_size=11,
            )
        )
        tables.append(_table(f"T{t}", hs, leaf, statuses, draw(st.integers(0, 6))))
    rows = draw(st.lists(st.sampled_from(ROWS), unique=True, max_size=4))
    cols = draw(st.lists(st.sampled_from(COLS), unique=True, max_size=3))
    return leaf, tables, _figure(leaf, rows, cols)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registers())
def test_the_incremental_check_gives_the_full_checks_disclosures(case):
    _, tables, figure = case
    fast = PreparedRegister(tables).check_figure(figure)
    if fast is not None:  # None: the caller runs the full check itself
        full = check_differencing(figure, tables)
        assert fast.safe == full.safe
        assert _disclosed(fast) == _disclosed(full)


def _two_by_two():
    leaf = {(r, c): 10 + i for i, (r, c) in enumerate(itertools.product(ROWS, COLS))}
    # r0/c0 primary, protected by the rectangle r0-r1 x c0-c1
    hidden = {
        ("r0", "c0"): "primary",
        ("r0", "c1"): "secondary",
        ("r1", "c0"): "secondary",
        ("r1", "c1"): "secondary",
    }
    rows = []
    flat_r, flat_c = HIERARCHIES["row"][0], HIERARCHIES["col"][0]
    for r, c in itertools.product(flat_r.order, flat_c.order):
        value = sum(leaf[(a, b)] for a in flat_r.leaves_under(r) for b in flat_c.leaves_under(c))
        status = hidden.get((r, c), "safe")
        rows.append(
            {
                "row": r,
                "col": c,
                "value": float(value),
                "status": status,
                "lower_protection": 2.0 if status == "primary" else 0.0,
                "upper_protection": 2.0 if status == "primary" else 0.0,
            }
        )
    return leaf, OutputTable("REL", (flat_r, flat_c), pd.DataFrame(rows))


def test_a_figure_made_of_published_cells_is_decided_without_a_solve():
    leaf, table = _two_by_two()
    prepared = PreparedRegister([table])
    # r0+r1 at c2: two published cells added up
    result = prepared.check_figure(_figure(leaf, ["r0", "r1"], ["c2"]))
    assert result is not None and result.safe and result.lp_count == 0
    # r0+r1 at c0+c1 is the sum of the hidden rectangle: also a combination of published
    # cells (the row totals minus c2, c3), so it adds nothing either
    result = prepared.check_figure(_figure(leaf, ["r0", "r1"], ["c0", "c1"]))
    assert result is not None and result.safe and result.lp_count == 0


def test_a_figure_that_differences_a_hidden_cell_is_refused_as_the_full_check_refuses_it():
    leaf, table = _two_by_two()
    prepared = PreparedRegister([table])
    figure = _figure(leaf, ["r1"], ["c0", "c1", "c2", "c3"])  # r1's total again... published
    assert prepared.check_figure(figure).safe
    figure = _figure(leaf, ["r0"], ["c1", "c2", "c3"])  # r0 total minus r0/c0
    fast, full = prepared.check_figure(figure), check_differencing(figure, [table])
    assert prepared.disclosures == () and fast is not None and not fast.safe
    assert _disclosed(fast) == _disclosed(full) == {("REL", (("col", "c0"), ("row", "r0")))}


def test_a_figure_finer_than_the_register_goes_to_the_full_check():
    leaf, _ = _two_by_two()
    coarse = OutputTable(
        "COARSE",
        (
            Hierarchy.from_pairs(
                "row", [("T", None), ("A", "T"), ("B", "T"), ("r0", "A"), ("r1", "A"), ("r2", "B")]
            ),
        ),
        pd.DataFrame(
            [
                {"row": c, "value": 2.0 if c == "T" else 1.0, "status": "safe"}
                for c in ("T", "A", "B")
            ]
        ),
    )
    prepared = PreparedRegister([coarse])
    # r0 alone cuts the register's atom {r0, r1} (group A): not decided here
    assert prepared.check_figure(_figure(leaf, ["r0"], [])) is None
    # a code no release has
    stray = OutputTable(
        "figure",
        (Hierarchy.flat("row", ["r9"], total="answer:r9"),),
        pd.DataFrame([{"row": "answer:r9", "value": 1.0, "status": "safe"}]),
    )
    assert prepared.check_figure(stray) is None


def test_a_figure_that_contradicts_the_register_goes_to_the_full_check():
    leaf, table = _two_by_two()
    figure = _figure(leaf, ["r0", "r1"], ["c2"])
    wrong = OutputTable(
        figure.label, figure.hierarchies, figure.cells.assign(value=figure.cells["value"] + 1)
    )
    assert PreparedRegister([table]).check_figure(wrong) is None
    assert np.isfinite(check_differencing(figure, [table]).published_cells)
