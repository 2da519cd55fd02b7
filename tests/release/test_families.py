"""A family's releases linked through its membership dimension (release/families.py).

One dimension, two areas. The whole publishes only its total (a1, a2 hidden); the small
band publishes everything; the other bands publish a1 only. With the two bands known to
be disjoint (the only patterns that hold units), a1 of the whole is a1 of one band plus
a1 of the other: disclosed. Had a unit been in both bands (a third pattern), it would
not be: the check depends on which patterns exist, not on the names.
"""

from __future__ import annotations

import pandas as pd

from fivesafes.release.differencing_scope import EarlierRelease, scoped_differencing_check
from fivesafes.release.families import NONE, Family, label, link_families
from fivesafes.sdc import STATUS, VALUE, Hierarchy, OutputTable, Status

AREA = Hierarchy.flat("area", ["a1", "a2"], total="T")
SAFE, HIDDEN = Status.SAFE.value, Status.PRIMARY.value


def _table(label_: str, values: dict[str, float], hidden: set[str]) -> OutputTable:
    cells = pd.DataFrame(
        [
            {"area": c, VALUE: v, STATUS: HIDDEN if c in hidden else SAFE, "lower": 5, "upper": 5}
            for c, v in values.items()
        ]
    )
    return OutputTable(label_, (AREA,), cells)


WHOLE = _table("whole", {"a1": 30, "a2": 40, "T": 70}, {"a1", "a2"})
SMALL = _table("small", {"a1": 10, "a2": 20, "T": 30}, set())
REST = _table("rest", {"a1": 20, "a2": 20, "T": 40}, {"a2", "T"})
EARLIER = [EarlierRelease(WHOLE, "firms:pay", True), EarlierRelease(SMALL, "small:pay", True)]


def _family(*patterns: tuple[str, ...]) -> Family:
    return Family("firms", ("rest", "small"), patterns)


def _verdict(families: list[Family], source: str = "rest:pay") -> str:
    new, earlier = link_families(REST, source, EARLIER, families)
    return scoped_differencing_check(new, source, True, earlier).verdict.name.lower()


def test_disjoint_bands_disclose_the_whole_cell() -> None:
    assert _verdict([_family(("rest",), ("small",))]) == "fail"


def test_a_pattern_with_units_in_both_bands_keeps_it_hidden() -> None:
    assert _verdict([_family(("rest",), ("small",), ("rest", "small"))]) == "pass"


def test_without_the_family_nothing_is_compared() -> None:
    assert _verdict([]) == "pass"
    assert _verdict([Family("other", ("x",), (("x",),))]) == "pass"


def test_another_measure_is_not_linked() -> None:
    new, earlier = link_families(REST, "rest:hours", EARLIER, [_family(("rest",), ("small",))])
    assert [e.source for e in earlier] == ["firms:pay", "small:pay"]
    assert "membership of firms" in new.dimensions


def test_the_parent_sits_at_the_total_and_a_child_at_its_patterns() -> None:
    family = _family((), ("rest",), ("small",))
    whole = family.population("firms")
    small = family.population("small")
    assert whole is not None and small is not None
    assert whole.code(family.column) == "*"
    assert small.code(family.column) == "small"
    assert label(()) == NONE and family.population("nobody") is None


def test_an_output_of_the_parent_is_checked_with_its_children_releases() -> None:
    rest = _table("rest", {"a1": 20, "a2": 20, "T": 40}, {"a2", "T"})
    earlier = [EarlierRelease(SMALL, "small:pay", True), EarlierRelease(rest, "rest:pay", True)]
    family = [_family(("rest",), ("small",))]
    new, linked = link_families(WHOLE, "firms:pay", earlier, family)
    assert {e.source for e in linked} == {"firms:pay"}
    # the whole's a1 is the small band's a1 plus the other bands' a1, both published
    assert scoped_differencing_check(new, "firms:pay", True, linked).verdict.name == "FAIL"
    alone = scoped_differencing_check(WHOLE, "firms:pay", True, earlier)
    assert alone.verdict.name == "PASS"  # without the family: nothing compared
