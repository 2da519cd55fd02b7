import numpy as np

from fivesafes.sdc.synthetic import aggregate, balanced_tree


def test_balanced_tree_has_the_asked_fan_out_and_codes():
    h = balanced_tree("r", [2, 3], width=2)
    assert h.root == "T" and h.children["T"] == ("r00", "r01")
    assert h.children["r01"] == ("r01.0", "r01.1", "r01.2")
    assert len(h.leaves) == 6


def test_aggregate_makes_every_subtotal_the_sum_of_its_children():
    hs = [balanced_tree("a", [2, 2]), balanced_tree("b", [3])]
    leaf = np.arange(12, dtype=float).reshape(4, 3)
    cells = aggregate(leaf, hs)
    assert cells.shape == (len(hs[0].order), len(hs[1].order))
    for i, code in enumerate(hs[0].order):
        kids = [hs[0].order.index(k) for k in hs[0].children[code]]
        if kids:
            assert np.allclose(cells[i], cells[kids].sum(axis=0))
    assert cells[0, 0] == leaf.sum()
