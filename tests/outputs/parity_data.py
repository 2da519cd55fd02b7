"""Seeded microdata for the ACRO parity tests and benchmark (numpy and pandas only).

Both sides of a parity run (fivesafes in the project venv, acro in its own venv with
pandas 2.3) import this file and build the same frame from the same seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGIONS = [f"R{i:02d}" for i in range(12)]
INDUSTRIES = [f"I{i:02d}" for i in range(20)]
SIZES = ["small", "medium", "large", "huge"]  # "huge" never occurs: a zero column


def make_data(n: int, seed: int = 20, *, rare: tuple[int, int] = (60, 150)) -> pd.DataFrame:
    """Region (Zipf), industry (18 Zipf + 2 rare with fixed counts), sex, size band, income
    (log-normal, giant contributors planted in 8 cells), and model/survival columns."""
    rng = np.random.default_rng(seed)
    p_region = 1 / np.arange(1, 13) ** 1.1
    p_region /= p_region.sum()
    region = rng.choice(12, n, p=p_region)
    p_ind = 1 / np.arange(1, 19)
    p_ind /= p_ind.sum()
    industry = rng.choice(18, n, p=p_ind)
    idx = rng.permutation(n)
    industry[idx[: rare[0]]] = 18
    industry[idx[rare[0] : rare[0] + rare[1]]] = 19
    income = np.round(rng.lognormal(10, 1, n), 2)
    for k in range(8):
        hit = np.flatnonzero((region == k % 6) & (industry == k))[:1]
        income[hit] = 5e8
    size = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    y = (x1 + rng.normal(size=n) > 0).astype(int)
    return pd.DataFrame(
        {
            "region": pd.Categorical.from_codes(region, REGIONS),
            "industry": pd.Categorical.from_codes(industry, INDUSTRIES),
            "sex": pd.Categorical.from_codes(rng.integers(0, 2, n), ["F", "M"]),
            "size": pd.Categorical.from_codes(size, SIZES),
            "band": np.array(["low", "mid", "high"])[size],  # a plain string dimension
            "income": income,
            "x1": x1,
            "x2": x2,
            "y": y,
            "time": rng.integers(1, 60, n),
            "event": rng.integers(0, 2, n),
        }
    )
