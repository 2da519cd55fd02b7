"""Loss measures: the same numbers for every method, computed from the published values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.loss import deviation_by_size, hellinger, loss_measures, size_edges


def frame(published: list[float | None], status: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "r": ["Total", "a", "b", "c"],
            "value": [30.0, 10.0, 20.0, 0.0],
            "published": [np.nan if p is None else p for p in published],
            "status": status,
        }
    )


H = (Hierarchy.flat("r", ["a", "b", "c"]),)


def test_perturbed_table_measures() -> None:
    cells = frame([33, 10, 22, 0], ["safe"] * 4)
    loss = loss_measures(cells, H, ["r"], frequency=True)
    assert loss["changed"] == 0.5 and loss["hidden"] == 0 and loss["changed_or_hidden"] == 0.5
    assert loss["mean_absolute_deviation"] == pytest.approx(5 / 4)
    assert loss["mean_relative_deviation"] == pytest.approx((0.1 + 0 + 0.1) / 3)
    assert loss["hellinger"] == pytest.approx(hellinger([10, 20, 0], [10, 22, 0]))


def test_suppressed_table_measures() -> None:
    cells = frame([30, None, None, 0], ["safe", "primary", "secondary", "safe"]).drop(
        columns=["published"]
    )
    loss = loss_measures(cells, H, ["r"], frequency=True)
    assert loss["hidden"] == 0.5 and loss["changed"] == 0 and loss["mean_absolute_deviation"] == 0
    assert loss["hellinger"] is None and "hidden" in loss["hellinger_note"]


def test_hellinger_bounds() -> None:
    assert hellinger([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0)
    assert hellinger([1, 0], [0, 1]) == pytest.approx(1.0)


def test_deviation_by_size_classes() -> None:
    cells = frame([33, 10, 22, 0], ["safe"] * 4)
    edges = size_edges(cells["value"], frequency=True)
    by = deviation_by_size(cells, edges)
    assert by["cells"].sum() == 4
    assert set(by["size"]) == {"0", "10-19", "20-49"}
    assert size_edges([5e6], frequency=False)[-1] == 1e7
