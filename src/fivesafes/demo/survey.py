"""A seeded synthetic business survey: confidential-looking microdata for demos and benchmarks.

Enterprises (the contributors, ``enterprise_id``) have a heavy-tailed turnover
(lognormal, plus a few very large enterprises so that dominance rules fire) and
report several rows each (local units / periods). An enterprise's industry and
size band are fixed; most of its rows sit in its home region and main product,
some elsewhere, so a contributor can span several cells and margins must add up
contributor totals, not rows. Enterprises belong to enterprise groups
(``group_id``: the holding), most of them alone in their group.

Everything is deterministic for a given seed. Nothing here is real data.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from fivesafes.sdc import Hierarchy

# (code, parent) pairs, parents before children, the root's parent is None.
# Regions: UK > countries (England split into its 9 regions); a ragged tree:
# Wales, Scotland and Northern Ireland are leaves at depth 1.
_ENGLISH_REGIONS = [f"E1200000{i}" for i in range(1, 10)]
REGION_PAIRS: tuple[tuple[str, str | None], ...] = (
    ("K02000001", None),
    ("E92000001", "K02000001"),
    *((r, "E92000001") for r in _ENGLISH_REGIONS),
    ("W92000004", "K02000001"),
    ("S92000003", "K02000001"),
    ("N92000002", "K02000001"),
)

# Industries: SIC 2007 sections > divisions; division codes keep their leading zeros.
_SECTIONS: dict[str, tuple[str, ...]] = {
    "A": ("01", "02", "03"),
    "B": ("05", "06", "08"),
    "C": ("10", "20", "25", "29"),
    "F": ("41", "42", "43"),
    "G": ("45", "46", "47"),
    "I": ("55", "56"),
    "J": ("58", "62"),
}
INDUSTRY_PAIRS: tuple[tuple[str, str | None], ...] = (
    ("ALL", None),
    *((s, "ALL") for s in _SECTIONS),
    *((d, s) for s, divs in _SECTIONS.items() for d in divs),
)

SIZE_BAND_PAIRS: tuple[tuple[str, str | None], ...] = (
    ("ALL", None),
    ("0-49", "ALL"),
    ("50+", "ALL"),
)

# Products: goods and services, five groups each.
PRODUCT_PAIRS: tuple[tuple[str, str | None], ...] = (
    ("ALL", None),
    ("G", "ALL"),
    ("S", "ALL"),
    *((f"G{i:02d}", "G") for i in range(1, 6)),
    *((f"S{i:02d}", "S") for i in range(1, 6)),
)

HIERARCHY_PAIRS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "region": REGION_PAIRS,
    "industry": INDUSTRY_PAIRS,
    "size_band": SIZE_BAND_PAIRS,
    "product": PRODUCT_PAIRS,
}
DIMENSIONS: tuple[str, ...] = tuple(HIERARCHY_PAIRS)
DEFAULT_DIMS: tuple[str, ...] = ("region", "industry")

# Most enterprises are single-site and single-product: all their rows fall in one
# region and product. Multi-site enterprises (more often large ones) put this share
# of their rows in other regions / products, so they span several cells.
_MULTI_SITE_SHARE = 0.06
_MULTI_SITE_SHARE_LARGE = 0.5
_AWAY_SHARE = 0.3


def survey_hierarchy(dim: str) -> Hierarchy:
    """The hierarchy of one survey dimension (region, industry, size_band, product)."""
    return Hierarchy.from_pairs(dim, _pairs(dim))


def write_hierarchies(directory: str | Path, dims: Sequence[str] = DIMENSIONS) -> dict[str, Path]:
    """Write one ``code,parent`` CSV per dimension into ``directory``; return their paths."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for dim in dims:
        path = out_dir / f"{dim}.csv"
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{dim}.", suffix=".csv")
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["code", "parent"])
            for code, parent in _pairs(dim):
                writer.writerow([code, parent or ""])
        os.chmod(tmp, 0o644)  # code lists are public; mkstemp's 0600 would surprise users
        os.replace(tmp, path)
        paths[dim] = path
    return paths


def generate_survey(
    n_rows: int,
    n_enterprises: int,
    seed: int,
    dims: Sequence[str] = DEFAULT_DIMS,
    *,
    negative_share: float = 0.0,
    first_enterprise: int = 0,
) -> pa.Table:
    """A deterministic synthetic survey: one row per (enterprise, local unit / period).

    Columns: ``enterprise_id`` and ``group_id`` (strings), one string column per
    dimension in ``dims``, ``turnover`` (float, heavy-tailed) and the survey weight ``w``.
    ``negative_share`` of the rows get a negative turnover (adjustments), 0 by default.
    ``first_enterprise`` offsets the ids, so that chunks generated apart do not collide.
    """
    for dim in dims:
        _pairs(dim)  # validates the name
    if n_enterprises < 1 or n_rows < n_enterprises:
        raise ValueError("need 1 <= n_enterprises <= n_rows (each enterprise reports a row)")
    rng = np.random.default_rng(seed)
    ent = np.arange(n_enterprises)

    # Enterprise-level attributes.
    large = rng.random(n_enterprises) < 0.08
    scale = rng.lognormal(mean=5.0, sigma=1.6, size=n_enterprises)
    scale[large] *= 25.0
    n_giants = max(1, n_enterprises // 2000)  # a few dominant enterprises
    scale[rng.choice(n_enterprises, size=n_giants, replace=False)] *= 400.0
    weight = np.where(large, 1.0, rng.uniform(1.0, 20.0, size=n_enterprises))
    multi = rng.random(n_enterprises) < np.where(large, _MULTI_SITE_SHARE_LARGE, _MULTI_SITE_SHARE)

    # Rows per enterprise: at least one, larger enterprises report more.
    extra = rng.multinomial(n_rows - n_enterprises, _normalise(np.where(large, 6.0, 1.0)))
    counts = extra + 1
    row_ent = np.repeat(ent, counts)

    columns: dict[str, pa.Array] = {}
    ids = np.char.add("E", np.char.zfill((ent + first_enterprise).astype(str), 8))
    columns["enterprise_id"] = _codes(row_ent, ids)
    group_of = ent.copy()
    in_group = rng.random(n_enterprises) < 0.05  # 5% join a group led by a random enterprise
    group_of[in_group] = rng.integers(0, n_enterprises, size=int(in_group.sum()))
    gids = np.char.add("G", np.char.zfill((group_of + first_enterprise).astype(str), 8))
    columns["group_id"] = _codes(row_ent, gids)

    for dim in dims:
        leaves = np.array(survey_hierarchy(dim).leaves)
        if dim == "size_band":
            columns[dim] = _codes(row_ent, leaves[large.astype(np.int64)])
            continue
        probs = _normalise(rng.lognormal(0.0, 0.7, size=len(leaves)))
        home = rng.choice(len(leaves), size=n_enterprises, p=probs)
        if dim == "industry":  # an enterprise has one industry
            columns[dim] = _codes(row_ent, leaves[home])
            continue
        row_code = home[row_ent]
        away = (rng.random(n_rows) < _AWAY_SHARE) & multi[row_ent]
        row_code[away] = rng.choice(len(leaves), size=int(away.sum()), p=probs)
        columns[dim] = _codes(row_code, leaves)

    share = rng.lognormal(0.0, 0.4, size=n_rows)
    turnover = np.round(scale[row_ent] * share / counts[row_ent], 2)
    if negative_share > 0:
        neg = rng.random(n_rows) < negative_share
        turnover[neg] = -np.round(turnover[neg] * 0.1, 2)
    columns["turnover"] = pa.array(turnover, type=pa.float64())
    columns["w"] = pa.array(weight[row_ent], type=pa.float64())
    return pa.table(columns)


def _pairs(dim: str) -> tuple[tuple[str, str | None], ...]:
    try:
        return HIERARCHY_PAIRS[dim]
    except KeyError:
        raise ValueError(f"unknown survey dimension {dim!r}; choose from {DIMENSIONS}") from None


def _normalise(x: np.ndarray) -> np.ndarray:
    return np.asarray(x / x.sum(), dtype=np.float64)


def _codes(indices: np.ndarray, labels: np.ndarray) -> pa.Array:
    # Dictionary-encode then decode in Arrow: builds millions of strings without Python objects.
    dictionary = pa.array(labels.tolist(), type=pa.string())
    encoded = pa.DictionaryArray.from_arrays(pa.array(indices, type=pa.int32()), dictionary)
    return encoded.cast(pa.string())
