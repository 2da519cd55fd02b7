"""Requests service fixtures: the requests world on each database (SQLite, PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from requests_world import RequestsWorld, build_requests_world
from sqlalchemy import Engine


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> RequestsWorld:
    """The requests world of :class:`requests_world.RequestsWorld`."""
    return build_requests_world(engine, tmp_path)
