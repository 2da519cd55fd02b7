"""audit.log through the operations: the actor is resolved in the decision's transaction,
and a login that is no registered person is refused with the refusal audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from fivesafes.app import App
from fivesafes.errors import IdentityError
from fivesafes.server.operations import run
from fivesafes.services.setup import init_workspace


def test_audit_log_reads_for_an_administrator_and_audits_an_unknown_login(tmp_path: Path) -> None:
    workspace, _ = init_workspace(tmp_path / "ws", "ada", "Ada Lovelace")
    workspace.close()
    with App.open(tmp_path / "ws") as app:
        read = run(app, "ada", "audit.log", {"limit": 1})
        assert read[-1]["action"] == "audit.read" and read[-1]["outcome"] == "allowed"
        with pytest.raises(IdentityError, match="not a registered person"):
            run(app, "mallory", "audit.log", {"limit": 5})
        events = run(app, "ada", "audit.log", {"actor": "mallory", "limit": 5})
    assert [(e["action"], e["outcome"]) for e in events] == [("server.identity", "denied")]
