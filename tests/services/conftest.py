"""Governance service fixtures: a small register on each database (SQLite, PostgreSQL)."""

from __future__ import annotations

import pytest
from governance_register import Register, build_register
from sqlalchemy import Engine


@pytest.fixture
def reg(engine: Engine) -> Register:
    """The small register of :class:`governance_register.Register` on each database."""
    return build_register(engine)
