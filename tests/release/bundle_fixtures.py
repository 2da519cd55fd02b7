"""A small release bundle to check against the spreadsheet guidance (shared by the tests)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from fivesafes.release.bundle import BundleInfo, BundleTable, write_bundle
from fivesafes.sdc.hierarchy import Hierarchy

REGION = Hierarchy.from_pairs(
    "region",
    [("UK", None), ("N", "UK"), ("S", "UK")],
    labels={"UK": "United Kingdom", "N": "North", "S": "South"},
)
INDUSTRY = Hierarchy.from_pairs(
    "industry",
    [("All", None), ("01", "All"), ("02", "All")],
    labels={"All": "All industries", "01": "Farming", "02": "Forestry"},
)
HIDDEN_VALUES = ("300.25", "199.75", "299.75", "200.25")


def cells() -> pd.DataFrame:
    """A 3x3 table whose hidden values are distinctive, so a leak would show as text."""
    return pd.DataFrame(
        {
            "region": ["UK", "UK", "UK", "N", "N", "N", "S", "S", "S"],
            "industry": ["All", "01", "02"] * 3,
            "value": [1000.0, 600.0, 400.0, 500.0, 300.25, 199.75, 500.0, 299.75, 200.25],
            "status": ["safe"] * 4 + ["primary", "secondary", "safe", "secondary", "primary"],
        }
    )


RULES = {
    "in_force": ["threshold", "dominance(1,50)", "dominance(2,85)", "p%(10)"],
    "threshold": 7,
    "threshold_protection_percent": 10.0,
    "dominance": [[1, 50.0], [2, 85.0]],
    "p_percent": 10.0,
    "pq": None,
    "frequency_threshold": None,
    "zeros": "safe",
    "negatives": "error",
    "apply_weights": False,
    "basis": "unweighted contributor totals, using the contributions as reported",
}
SUPPRESSION = {"method": "optimal", "cost": "value", "singleton": True, "a_priori_percent": 25.0}


def info(**overrides) -> BundleInfo:
    base = {
        "release_id": "R-2026-01",
        "title": "Turnover by region and industry, 2026",
        "organisation": "Example Department",
        "source": "Business survey 2026",
        "published_on": date(2026, 11, 26),
        "contact": "statistics@example.gov.uk",
        "differencing": {"safe": True},
    }
    base.update(overrides)
    return BundleInfo(**base)


def table(name: str = "turnover", *, cells_frame: pd.DataFrame | None = None, **kw) -> BundleTable:
    base = {
        "name": name,
        "title": f"Turnover by region and industry ({name})",
        "cells": cells() if cells_frame is None else cells_frame,
        "hierarchies": (REGION, INDUSTRY),
        "rules": RULES,
        "method": "optimal",
        "audit_safe": True,
        "gap": 0.0,
        "measure": "turnover",
        "unit": "GBP thousand",
        "suppression": SUPPRESSION,
    }
    base.update(kw)
    return BundleTable(**base)


def bundle(out: Path, tables=None, *, wide_csv: bool = False, **info_kw) -> Path:
    write_bundle(out, info(**info_kw), tables or [table()], wide_csv=wide_csv)
    return out
