"""`table protect --dataset` tabulates in memory only: nothing spills to ./.tmp or anywhere.

DuckDB's default connection spills a big sort or aggregation to ``./.tmp`` (plaintext
rows of the confidential dataset). The tabulation of an area's dataset must run on an
engine with no temporary directory and no file access, and fail cleanly when it needs
more memory than allowed.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from release_world import AREA
from sqlalchemy import Engine
from stored_world import Stored, build_stored, spec_text

from fivesafes.engine import get_tabulator
from fivesafes.errors import DataError
from fivesafes.sdc.tabulate import duckdb_tabulator as tabulate_module


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db.sqlite'}"


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    return build_stored(engine, tmp_path)


def _files(*roots: Path) -> set[Path]:
    return {p for root in roots if root.exists() for p in root.rglob("*")}


# The CLI passes the workspace's engine (get_tabulator("duckdb"): no connection of its
# own); a library caller may pass none. Both tabulate on the locked, memory-only engine.
@pytest.mark.parametrize("asked", [None, "duckdb"])
def test_the_tabulation_engine_has_no_temporary_directory_and_no_file_access(
    stored: Stored, monkeypatch: pytest.MonkeyPatch, asked: str | None
) -> None:
    seen: list[dict[str, Any]] = []
    register = tabulate_module.register

    def spy(con: Any, *args: Any, **kwargs: Any) -> Any:
        names = ("temp_directory", "enable_external_access", "lock_configuration")
        (row,) = con.execute(
            "SELECT " + ", ".join(f"current_setting('{n}')" for n in names)
        ).fetchall()
        seen.append(dict(zip(names, row, strict=True)))
        return register(con, *args, **kwargs)

    monkeypatch.setattr(tabulate_module, "register", spy)
    tabulator = get_tabulator(asked) if asked else None
    spec = stored.spec("flat", spec_text("pay by area", None, method="none"))
    stored.protect(spec, tabulator=tabulator)
    assert seen == [
        {"temp_directory": "", "enable_external_access": False, "lock_configuration": True}
    ]


def test_a_tabulation_too_big_for_its_memory_fails_cleanly_and_writes_nothing(
    stored: Stored, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # DuckDB's default spill folder is ./.tmp
    spec = stored.spec("flat", spec_text("pay by area", None, method="none"))
    watched = (cwd, stored.folder / "areas", Path(os.environ.get("TMPDIR", "/tmp")) / ".tmp")
    before = _files(*watched)
    outputs = set(stored.vault.store(AREA).names("outputs"))
    since = stored.world.reg.audit_count()
    with pytest.raises(DataError, match="more memory") as caught:
        stored.protect(spec, memory_limit="2MB")
    assert "memory_limit under [engine]" in (caught.value.hint or "")
    assert _files(*watched) == before
    assert set(stored.vault.store(AREA).names("outputs")) == outputs
    # The read itself was decided and audited; nothing was stored or registered after.
    assert stored.world.reg.audit_count() == since + 1
    # The vault's own limit applies when none is given.
    stored.vault = replace(stored.vault, memory_limit="2MB")
    with pytest.raises(DataError, match="more memory"):
        stored.protect(spec)
    stored.vault = replace(stored.vault, memory_limit="256MB")
    (done,) = stored.protect(spec)
    assert done.cells == 6
