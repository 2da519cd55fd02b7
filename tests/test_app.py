"""The composition root: open once, act as a registered person in one transaction."""

from __future__ import annotations

import pytest

from fivesafes.app import App, open_app
from fivesafes.audit.log import chain_head
from fivesafes.errors import IdentityError
from fivesafes.governance.roles import Role
from fivesafes.services.governance import people
from fivesafes.workspace import Workspace


@pytest.fixture
def staffed(workspace: Workspace) -> Workspace:
    """The workspace with an administrator (root) and an analyst (ada)."""
    with workspace.transaction() as session:
        people.bootstrap_administrator(session, "root", "Root")
    with App(workspace).acting_as("root") as now:
        people.register_person(now.session, now.actor, "ada", "Ada", [Role.STATISTICIAN])
    return workspace


def _events(workspace: Workspace) -> int:
    with workspace.transaction() as session:
        return chain_head(session)[0]


def test_open_app_acts_as_the_login_and_commits_with_the_audit_event(staffed: Workspace) -> None:
    before = _events(staffed)
    with open_app(staffed.home, login="root") as now:
        assert now.actor.login == "root" and Role.ADMINISTRATOR in now.actor.person.roles
        assert now.workspace.home == staffed.home
        people.register_person(now.session, now.actor, "bob", "Bob", [Role.STATISTICIAN])
    assert _events(staffed) == before + 1
    with App(staffed).acting_as("bob") as now:
        assert now.actor.person.name == "Bob"


def test_an_error_inside_rolls_back_the_change_and_its_event(staffed: Workspace) -> None:
    before = _events(staffed)
    with pytest.raises(RuntimeError), open_app(staffed.home, login="root") as now:
        people.register_person(now.session, now.actor, "eve", "Eve", [Role.STATISTICIAN])
        raise RuntimeError("boom")
    assert _events(staffed) == before
    with pytest.raises(IdentityError, match="not a registered person"):
        App(staffed).actor("eve")


def test_without_a_login_it_acts_as_this_process_and_says_so(
    staffed: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIVESAFES_USER", "ada")  # accepted only by a demo workspace
    notices: list[str] = []
    with open_app(notice=notices.append) as now:  # FIVESAFES_HOME points at the workspace
        assert now.actor.login == "ada"
    assert len(notices) == 1 and "demo identity" in notices[0]


def test_a_server_opens_once_and_acts_per_request_as_each_login(staffed: Workspace) -> None:
    with App.open(staffed.home) as app:
        for login in ("root", "ada", "root"):
            with app.acting_as(login) as now:
                assert now.actor.login == login
        with pytest.raises(IdentityError, match="not a registered person"):
            app.actor("mallory")
        with app.acting_as("root") as now:
            people.mark_leaver(now.session, now.actor, "ada")
        with pytest.raises(IdentityError, match="leaver"), app.acting_as("ada"):
            pass
        policy = app.grant_policy()
        assert policy.default_months >= 1 and policy.max_months >= policy.default_months
        assert app.vault().areas_dir == staffed.areas_dir
