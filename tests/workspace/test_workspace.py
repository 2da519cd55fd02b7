"""Creating and opening workspaces: files, modes, keys, config, schema."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fivesafes.audit.log import query_events, verify_chain
from fivesafes.errors import KeyProviderError, WorkspaceError
from fivesafes.store.db import current_revisions, script_heads
from fivesafes.workspace import Workspace, create_workspace, open_workspace


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_create_lays_out_the_workspace(workspace: Workspace) -> None:
    home = workspace.home
    assert mode(home) == 0o700
    for sub in (workspace.keys_dir, workspace.areas_dir, workspace.releases_dir):
        assert sub.is_dir() and mode(sub) == 0o700
    assert mode(workspace.signing_key_path) == 0o600
    assert mode(workspace.config_path) == 0o600
    assert mode(home / "fivesafes.db") == 0o600
    assert workspace.database_url() == f"sqlite:///{home / 'fivesafes.db'}"
    assert current_revisions(workspace.engine()) == script_heads()


def test_creation_is_the_first_audited_and_signed_event(workspace: Workspace) -> None:
    with workspace.sessions()() as session:
        first = query_events(session)[0]
    assert (first.seq, first.action, first.actor) == (1, "workspace.create", "system")
    assert first.details["demo_identity"] is True
    report = verify_chain(
        workspace.engine(),
        public_key=workspace.public_key(),
        key_name=workspace.origin,
        checkpoint_file=workspace.checkpoint_log_path,
    )
    assert report.ok and report.checkpoints_verified == 1


def test_open_finds_it_through_fivesafes_home(workspace: Workspace) -> None:
    opened = open_workspace()  # FIVESAFES_HOME is set by the fixture
    try:
        assert opened.home == workspace.home
        assert opened.workspace_id == workspace.workspace_id
        assert opened.setting("demo_identity") is True
        assert opened.setting("grant_max_months") == 12
        assert opened.setting("home") == workspace.home
    finally:
        opened.close()


def test_open_without_a_workspace_says_run_init(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError) as info:
        open_workspace(tmp_path / "nothing")
    assert "fivesafes init" in str(info.value.hint)


def test_create_twice_is_refused_and_changes_nothing(workspace: Workspace) -> None:
    before = workspace.config_path.read_bytes()
    with pytest.raises(WorkspaceError, match="already exists"):
        create_workspace(workspace.home)
    assert workspace.config_path.read_bytes() == before


def test_a_failed_create_leaves_nothing_behind(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    with pytest.raises(WorkspaceError):
        create_workspace(
            home, database_url="postgresql+psycopg://x@127.0.0.1:1/none?connect_timeout=2"
        )
    assert not home.exists()


def test_config_values_are_validated(workspace: Workspace) -> None:
    text = workspace.config_path.read_text()
    workspace.config_path.write_text(text + "\ngrant_max_months = 0\n")
    with pytest.raises(WorkspaceError, match="at least 1"):
        open_workspace(workspace.home)
    workspace.config_path.write_text(text + "\ngrant_max_monts = 6\n")
    with pytest.raises(WorkspaceError, match="unknown setting"):
        open_workspace(workspace.home)
    workspace.config_path.write_text(text + "\ngrant_max_months = 6\n")
    opened = open_workspace(workspace.home)
    try:
        assert opened.setting("grant_max_months") == 6
    finally:
        opened.close()


def test_database_url_from_the_environment(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("FIVESAFES_DATABASE_URL", other)
    assert open_workspace(workspace.home, migrate=False).database_url() == other


def test_a_workspace_on_each_database(db_workspace: Workspace) -> None:
    report = verify_chain(
        db_workspace.engine(),
        public_key=db_workspace.public_key(),
        key_name=db_workspace.origin,
        checkpoint_file=db_workspace.checkpoint_log_path,
    )
    assert report.ok and report.events == 1


def test_a_database_with_another_workspaces_log_is_refused(db_url: str, tmp_path: Path) -> None:
    create_workspace(tmp_path / "one", database_url=db_url).close()
    with pytest.raises(WorkspaceError, match="already holds"):
        create_workspace(tmp_path / "two", database_url=db_url)
    assert not (tmp_path / "two").exists()


def test_a_signing_key_readable_by_others_is_refused(workspace: Workspace) -> None:
    workspace.signing_key_path.chmod(0o644)
    fresh = open_workspace(workspace.home, migrate=False)
    with pytest.raises(KeyProviderError, match="readable by others") as info:
        fresh.signing_key()
    assert "chmod 600" in str(info.value.hint)
    workspace.signing_key_path.chmod(0o600)
    assert isinstance(fresh.signing_key(), Ed25519PrivateKey)


def test_folders_made_for_a_workspace_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    # A parent others can write to lets them move the workspace aside and put their own
    # (config, keys, database) in its place.
    old = os.umask(0)
    try:
        create_workspace(tmp_path / "srv" / "fivesafes" / "ws").close()
    finally:
        os.umask(old)
    for name in ("srv", "srv/fivesafes", "srv/fivesafes/ws"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o700, name
