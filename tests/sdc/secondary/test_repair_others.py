"""A move found for one demand proves other demands it meets against unmoved insiders."""

from __future__ import annotations

import numpy as np

from fivesafes.sdc.secondary.model import DOWN, UP, Requirements
from fivesafes.sdc.secondary.pairs import PairSet
from fivesafes.sdc.secondary.repair import _still_others


def test_move_of_p_proves_other_cells_against_insiders_it_leaves_unmoved() -> None:
    cells = np.array([0, 1, 2, 3, 4], dtype=np.int64)
    z = np.array([5.0, 4.0, 0.0, 3.0, -2.0])  # p = 0's move; cell 2 stays where it is
    reqs = Requirements.of(
        5, [(0, UP, 5.0), (1, UP, 3.0), (1, DOWN, 1.0), (3, UP, 5.0), (4, DOWN, 1.0)]
    )
    pins_of = {0: [2], 1: [2, 3, 9], 3: [2], 4: [3]}
    pair_ok = PairSet()
    sink: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    _still_others(0, cells, z, reqs, pins_of, pair_ok, sink)
    # cell 1 reaches 4 >= 3 up: proved against 2 (unmoved) and 9 (outside the LP, held),
    # not against 3 (moved); its down side and cell 3 (3 < 5) are not reached; cell 4
    # is reached down but its insider's cell 3 moved; p itself is left to its caller
    assert set(pair_ok) == {(1, UP, 2), (1, UP, 9)}
    assert set(sink) == {(1, 2 * UP)}
    kept_cells, kept_z = sink[(1, 2 * UP)]
    assert kept_cells.tolist() == [0, 1, 3, 4]
    assert kept_z.tolist() == [5.0, 4.0, 3.0, -2.0]


def test_no_move_proves_nothing_for_other_cells() -> None:
    cells = np.array([0, 1], dtype=np.int64)
    pair_ok = PairSet()
    reqs = Requirements.of(2, [(1, UP, 1.0)])
    _still_others(0, cells, np.zeros(0), reqs, {1: [5]}, pair_ok, {})
    assert set(pair_ok) == set()
