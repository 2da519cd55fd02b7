"""The singleton check's coalition step: every single-contributor cell known at once.

On large components the audit first asks whether a primary keeps its protection when
EVERY single-contributor hidden cell is known (batch points of that smaller system).
It is a shortcut, so both directions are pinned here on tables small enough to reason
about, with the step switched on for every component: it must clear a primary that is
protected against that coalition (or the shortcut is idle), and it must never clear
one that an outside insider unprotects (or the shortcut is unsound).
"""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
from audit_helpers import flat, make_cells

from fivesafes.sdc.audit import audit_table
from fivesafes.sdc.audit import batch as audit_batch

COALITION = "every single-contributor cell at once"


def _audit(cells, hs):
    with patch.object(audit_batch, "MIN_CELLS", 0), patch.object(audit_batch, "IPM_ABOVE", 10):
        return audit_table(cells, hs, singleton=True)


def test_an_outside_insider_that_pins_the_primary_is_never_cleared_by_the_coalition() -> None:
    # a 2 x 2 block of hidden cells: the single contributor of (r2, c2) knows its value,
    # and the margins then give (r1, c1) exactly. Its own contributors are elsewhere.
    hs = [flat("r", 2), flat("c", 2)]
    leaf = np.array([[40.0, 30.0], [20.0, 10.0]])
    cells = make_cells(
        hs,
        leaf,
        primary={("r1", "c1"): (4.0, 4.0)},
        secondary=[("r1", "c2"), ("r2", "c1"), ("r2", "c2")],
        contributors={("r2", "c2"): 1},
    )
    plain = audit_table(cells, hs)
    assert plain.safe  # the outsider alone cannot narrow (r1, c1)
    result = _audit(cells, hs)
    assert not result.safe
    failed = result.failures.set_index(["r", "c"])
    assert failed.loc[("r1", "c1"), "failure"] == "singleton"
    assert failed.loc[("r1", "c1"), "singleton_known"] != COALITION


def test_a_primary_protected_against_all_insiders_at_once_is_cleared_by_the_coalition() -> None:
    # a 3 x 3 block: one single-contributor cell known still leaves a cycle through the
    # primary, so the coalition's batch points reach both required ends
    hs = [flat("r", 3), flat("c", 3)]
    leaf = np.array([[40.0, 30.0, 35.0], [20.0, 10.0, 25.0], [15.0, 45.0, 50.0]])
    hidden = [(f"r{i}", f"c{j}") for i in (1, 2, 3) for j in (1, 2, 3)]
    cells = make_cells(
        hs,
        leaf,
        primary={("r1", "c1"): (4.0, 4.0)},
        secondary=[k for k in hidden if k != ("r1", "c1")],
        contributors={("r3", "c3"): 1},
    )
    result = _audit(cells, hs)
    assert result.safe
    row = result.intervals.set_index(["r", "c"]).loc[("r1", "c1")]
    assert row["singleton_known"] == COALITION
