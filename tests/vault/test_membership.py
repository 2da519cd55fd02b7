"""Membership patterns of a family of datasets (vault/membership.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from fivesafes.errors import ValidationError
from fivesafes.vault.membership import members_kept, membership_patterns


def test_only_the_patterns_that_hold_units_are_kept() -> None:
    parent = pa.array([1, 2, 3, 4, 5])
    found = membership_patterns(
        "p", parent, {"a": pa.array(["1", "2"]), "b": pa.array([2, 3])}
    )  # ids read as numbers in one file and text in another are one unit
    assert found == [(), ("a",), ("b",), ("a", "b")]


def test_disjoint_bands_that_cover_the_parent_have_no_empty_pattern() -> None:
    found = membership_patterns(
        "p", pa.array([1, 2, 3]), {"a": pa.array([1]), "b": pa.array([2, 3])}
    )
    assert found == [("a",), ("b",)]


def test_a_parent_alone_is_one_pattern() -> None:
    assert membership_patterns("p", pa.array([1, 2]), {}) == [()]


def test_units_outside_the_parent_are_refused_with_a_count_and_no_id() -> None:
    with pytest.raises(
        ValidationError, match=r"2 unit\(s\) of dataset 'a' are not in its parent 'p'"
    ) as err:
        membership_patterns("p", pa.array([1]), {"a": pa.array([1, 77, 78])})
    assert "77" not in str(err.value)


def test_a_member_placed_by_the_patterns_must_be_among_those_read() -> None:
    # the patterns place 'small'; recomputed without it (its data destroyed), its releases
    # and stored tables would no longer be linked to the family's: refused
    previous = [(), ("small",)]
    members_kept("p", previous, ["small", "rest"])  # every placed member read: fine
    members_kept("p", [], ["rest"])  # no patterns yet: fine
    with pytest.raises(ValidationError, match=r"'small' of the family of 'p' are not stored"):
        members_kept("p", previous, ["rest"])
