"""The acting login: the OS user, or FIVESAFES_USER only in a demo workspace."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from fivesafes.errors import IdentityError
from fivesafes.workspace import Workspace, create_workspace, open_workspace
from fivesafes.workspace.identity import current_identity, current_login, os_login


@pytest.fixture
def real_workspace(tmp_path: Path) -> Workspace:
    ws = create_workspace(tmp_path / "real")
    ws.close()
    return ws


def test_os_login_ignores_the_user_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "someone-else")
    monkeypatch.setenv("LOGNAME", "someone-else")
    assert os_login() == pwd.getpwuid(os.geteuid()).pw_name


def test_real_workspace_acts_as_the_os_login(real_workspace: Workspace) -> None:
    identity = current_identity(real_workspace, environ={})
    assert identity.login == os_login() and not identity.demo and identity.notice is None
    assert current_login(real_workspace) == os_login()


def test_real_workspace_refuses_fivesafes_user(real_workspace: Workspace) -> None:
    with pytest.raises(IdentityError, match="FIVESAFES_USER") as info:
        current_identity(real_workspace, environ={"FIVESAFES_USER": "alice"})
    assert "--demo-identity" in str(info.value.hint)


def test_demo_workspace_accepts_fivesafes_user_and_says_so(workspace: Workspace) -> None:
    identity = current_identity(workspace, environ={"FIVESAFES_USER": "alice"})
    assert identity.login == "alice" and identity.demo
    assert identity.notice is not None and "alice" in identity.notice


def test_demo_workspace_without_the_variable_still_notices(workspace: Workspace) -> None:
    identity = current_identity(workspace, environ={})
    assert identity.login == os_login() and not identity.demo
    assert identity.notice is not None and "demo" in identity.notice


@pytest.mark.parametrize("login", ["a b", "x" * 65, "semi;colon", "new\nline"])
def test_odd_demo_logins_are_refused(workspace: Workspace, login: str) -> None:
    with pytest.raises(IdentityError, match="not a valid login"):
        current_identity(workspace, environ={"FIVESAFES_USER": login})


def test_turning_demo_identity_on_in_config_does_not_let_anyone_act_as_another(
    real_workspace: Workspace,
) -> None:
    config = real_workspace.config_path
    text = config.read_text()
    config.write_text(
        text + "\ndemo_identity = true\n"
        if "demo_identity" not in text
        else text.replace("demo_identity = false", "demo_identity = true")
    )
    edited = open_workspace(real_workspace.home, migrate=False)
    assert edited.config["demo_identity"] is True
    try:
        with pytest.raises(IdentityError, match="not created with --demo-identity"):
            current_identity(edited, environ={"FIVESAFES_USER": "alice"})
    finally:
        edited.close()


def test_a_rewritten_genesis_event_alone_does_not_make_a_demo_workspace(
    real_workspace: Workspace,
) -> None:
    # The attacker edits event 1 in the database (without re-hashing) and the config file.
    import json
    import sqlite3

    with sqlite3.connect(real_workspace.home / "fivesafes.db") as db:
        details = json.loads(
            db.execute("SELECT details FROM audit_log WHERE seq = 1").fetchone()[0]
        )
        details["demo_identity"] = True
        db.execute("UPDATE audit_log SET details = ? WHERE seq = 1", (json.dumps(details),))
    forged = Workspace(real_workspace.home, {**real_workspace.config, "demo_identity": True})
    with pytest.raises(IdentityError, match="was not created with --demo-identity"):
        current_identity(forged, environ={"FIVESAFES_USER": "admin"})
