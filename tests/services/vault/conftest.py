"""Fixtures of the vault's service tests: a transaction, a vault in the test's folder, a
small CSV (a module may override it)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from governance_register import Register
from sqlalchemy.orm import Session

from fivesafes.services.vault import lifecycle as svc
from fivesafes.store.db import transaction
from fivesafes.vault import FileKeyProvider

Tx = Callable[[], AbstractContextManager[Session]]


@pytest.fixture
def tx(reg: Register) -> Tx:
    return lambda: transaction(reg.engine)


@pytest.fixture
def vault(tmp_path: Path) -> svc.Vault:
    return svc.Vault(tmp_path / "areas", FileKeyProvider(tmp_path / "keys"))


@pytest.fixture
def ashe_rows() -> int:
    """How many people the CSV of :func:`ashe_csv` has (a module may ask for more)."""
    return 50


@pytest.fixture
def ashe_csv(tmp_path: Path, ashe_rows: int) -> Path:
    path = tmp_path / "src" / "ashe.csv"
    path.parent.mkdir()
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person_id", "region", "pay"])
        for i in range(ashe_rows):
            w.writerow([f"ID{i:05d}", "NS"[i % 2], 100 + i])
    return path
