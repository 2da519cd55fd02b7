"""Fixtures for the vault tests: a workspace in tmp_path with a keyed area."""

from __future__ import annotations

import csv
import secrets
from pathlib import Path

import pytest

from fivesafes.vault import AreaStore, FileKeyProvider


@pytest.fixture
def home(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


@pytest.fixture
def provider(home: Path) -> FileKeyProvider:
    p = FileKeyProvider(home / "keys")
    p.create_key("survey")
    return p


@pytest.fixture
def store(home: Path, provider: FileKeyProvider) -> AreaStore:
    s = AreaStore(home / "areas", "survey")
    s.create()
    return s


@pytest.fixture
def marker() -> str:
    """A plaintext string unique to this test, to look for on disk afterwards."""
    return f"MARKER{secrets.token_hex(8)}"


def write_survey_csv(path: Path, rows: int, marker: str = "x") -> Path:
    """A small survey file: identifier, region, age, income, and a free-text column."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person_id", "region", "age", "income", "note"])
        for i in range(rows):
            w.writerow([f"P{i:07d}", "NSEW"[i % 4], 20 + i % 60, 1000 + 7 * i, f"{marker}-{i}"])
    return path


@pytest.fixture
def make_csv():  # type: ignore[no-untyped-def]
    """The CSV writer, for tests that need more than one file."""
    return write_survey_csv


@pytest.fixture
def survey_csv(tmp_path: Path, marker: str) -> Path:
    return write_survey_csv(tmp_path / "source" / "survey.csv", 500, marker)
