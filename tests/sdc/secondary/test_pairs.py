"""PairSet answers every question the repair asks exactly as a plain set of triples would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fivesafes.sdc.secondary.pairs import PairSet

triples = st.tuples(st.integers(0, 5), st.sampled_from([-1, 1]), st.integers(0, 9))


@settings(max_examples=200, deadline=None)
@given(
    added=st.lists(triples, max_size=30),
    demand=st.tuples(st.integers(0, 5), st.sampled_from([-1, 1])),
    pins=st.lists(st.integers(0, 9), max_size=8),
    moved=st.sets(st.integers(0, 9), max_size=6),
)
def test_a_pair_set_agrees_with_the_set_of_its_triples(
    added: list[tuple[int, int, int]], demand: tuple[int, int], pins: list[int], moved: set[int]
) -> None:
    pairs, plain = PairSet(), set()
    live = pairs.proved(*demand)  # taken before the pairs come: it must see them
    for k, triple in enumerate(added):
        if k % 2:
            pairs.add(triple)
        else:
            pairs.prove(triple[0], triple[1], [triple[2]])
        plain.add(triple)
    p, d = demand
    assert set(pairs) == plain and len(pairs) == len(plain)
    assert all(((p, d, q) in pairs) == ((p, d, q) in plain) for q in range(10))
    expected_open = {q for q in pins if (p, d, q) not in plain}
    assert pairs.open(p, d, pins) == expected_open
    assert pairs.all_proved(p, d, pins) == (not expected_open)
    assert live == {q for pp, dd, q in plain if (pp, dd) == demand}
    # a move meeting the demand proves it against exactly the open insiders it leaves
    proved, left = pairs.prove_unmoved(p, d, pins, moved)
    assert proved == len(expected_open - moved) and left == len(expected_open & moved)
    assert pairs.open(p, d, pins) == expected_open & moved
