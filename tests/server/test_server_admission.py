"""An operation that seals decides who may run it before it waits for the area's key.

Waiting for the key (services/vault/sealing.py) can take minutes while a rotation or a
destruction holds it. Someone the operation would refuse (an unknown login, no role, no
grant, not the author) is refused at once and audited, before any wait: not after the
wait runs out with "the area's key is being changed", which would hold a server worker
and tell a stranger that the area's key is being changed. Here the area lock is held
exclusive throughout, as a rotation holds it, and the wait is cut to a second: an
operation that waited first would fail with that ConflictError instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from areas_world import open_areas_app

from fivesafes.app import App
from fivesafes.errors import AccessDenied, IdentityError, ValidationError
from fivesafes.governance.roles import Role
from fivesafes.server.operations import run, run_upload
from fivesafes.services.release import publish as release_publish
from fivesafes.services.vault import sealing
from fivesafes.vault.area_lock import area_lock


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """stan, a statistician, and rita, an approved researcher, with no grant, besides ada
    and iris; a wait for a key gives up after a second."""
    monkeypatch.setattr(sealing, "SEAL_WAIT_SECONDS", 1.0)
    opened = open_areas_app(
        tmp_path / "ws",
        ("stan", "Stan Tistician", Role.STATISTICIAN),
        ("rita", "Rita Searcher", Role.APPROVED_RESEARCHER),
    )
    try:
        yield opened
    finally:
        opened.close()


def _rotating(app: App, area: str) -> Any:
    """The area lock held exclusive, as a rotation of ``area``'s key holds it."""
    return area_lock(app.vault().store(area), exclusive=True)


def _events(app: App, action: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = run(app, "ada", "audit.log", {"action": action})
    return found


def test_a_statistician_without_a_grant_is_refused_before_the_wait_and_audited(
    app: App,
) -> None:
    with _rotating(app, "earnings"), pytest.raises(AccessDenied, match="no current grant"):
        run(app, "stan", "release.submit", {"output": "earnings/t-1", "purpose": "bulletin"})
    (event,) = [e for e in _events(app, "access.decide") if e["actor"] == "stan"]
    assert event["outcome"] == "denied" and event["area"] == "earnings"
    assert event["details"]["reasons"] == ["no current grant"]


def test_a_file_sent_without_a_grant_is_refused_before_the_wait(app: App, tmp_path: Path) -> None:
    sent = tmp_path / "note.txt"
    sent.write_text("a note\n")
    with _rotating(app, "earnings"), pytest.raises(AccessDenied, match="no current grant"):
        run_upload(app, "stan", "release.submit_file", {"area": "earnings", "purpose": "x"}, sent)


def test_an_unknown_login_is_refused_before_the_wait_and_audited(app: App) -> None:
    with _rotating(app, "earnings"), pytest.raises(IdentityError):
        run(app, "mallory", "release.submit", {"output": "earnings/t-1", "purpose": "x"})
    assert [e["actor"] for e in _events(app, "server.identity")] == ["mallory"]


def test_opening_a_case_without_the_role_is_refused_before_the_wait_and_audited(
    app: App,
) -> None:
    case = {"kind": "foi", "received": "2026-06-01", "requester": "Zed", "summary": "pay"}
    with _rotating(app, "requests"), pytest.raises(AccessDenied, match="foi_officer"):
        run(app, "stan", "request.open", case)
    (event,) = _events(app, "server.denied")
    assert (event["actor"], event["outcome"]) == ("stan", "denied")
    assert "foi_officer" in event["details"]["reasons"][0]


def test_publishing_another_authors_request_is_refused_before_the_wait_and_audited(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = SimpleNamespace(id=7, author=SimpleNamespace(login="someone"))
    monkeypatch.setattr(release_publish, "publication_area", lambda _s, _rid: "earnings")
    monkeypatch.setattr(release_publish, "request_row", lambda _s, _rid: row)
    with _rotating(app, "earnings"), pytest.raises(AccessDenied, match="only its author"):
        run(app, "stan", "release.publish", {"request_id": 7})
    (event,) = _events(app, "server.denied")
    assert event["actor"] == "stan" and "only its author" in event["details"]["reason"]


def test_a_refusal_a_service_does_not_audit_is_audited_once_by_the_server(app: App) -> None:
    # setting the disclosure rules is refused by a role check, which audits nothing itself
    with pytest.raises(AccessDenied, match="disclosure rules"):
        run(app, "stan", "rules.set", {"name": "strict", "threshold": 10})
    assert [e["actor"] for e in _events(app, "server.denied")] == ["stan"]
    # a refusal the service audits itself (the people checks) is not audited twice
    with _rotating(app, "earnings"), pytest.raises(AccessDenied):
        run(app, "stan", "release.submit", {"output": "earnings/t-1", "purpose": "x"})
    assert [e["actor"] for e in _events(app, "server.denied")] == ["stan"]


def _ready(app: App, *logins: str) -> None:
    """The declaration published; ``logins`` trained and signed; dataset survey in earnings."""
    today = datetime.now(UTC).date().isoformat()
    run(app, "ada", "declaration.publish", {"text": "I will protect what I see."})
    for login in logins:
        course = {"login": login, "course": "Responsible for information", "completed": today}
        run(app, "ada", "training.record", course)
        run(app, login, "declaration.sign", {"version": 1})
    dataset = {"name": "survey", "area": "earnings", "source": "s", "lawful_basis": "b"}
    run(app, "ada", "dataset.add", dataset)


def _ready_to_submit(app: App, login: str, tmp_path: Path) -> Path:
    """``login`` trained, signed and granted earnings; a file for them to submit."""
    _ready(app, "iris", login)
    _granted(app, login)
    sent = tmp_path / "note.txt"
    sent.write_text("a note\n")
    return sent


def _granted(app: App, login: str) -> None:
    grant = run(
        app, "ada", "grant.request", {"login": login, "area": "earnings", "justification": "t"}
    )
    run(app, "iris", "grant.approve", {"grant_id": grant["id"]})


def test_a_researcher_outside_any_project_is_refused_before_the_wait(
    app: App, tmp_path: Path
) -> None:
    # the submitter's scope (an approved researcher's accreditation and project for the
    # dataset) is part of the admission too: with a grant and the people checks passed,
    # rita would otherwise wait out the rotation and learn of it
    sent = _ready_to_submit(app, "rita", tmp_path)
    params = {"area": "earnings", "purpose": "x", "source": "survey:file"}
    with _rotating(app, "earnings"), pytest.raises(AccessDenied, match="accreditation"):
        run_upload(app, "rita", "release.submit_file", params, sent)
    assert [e["outcome"] for e in _events(app, "access.decide") if e["actor"] == "rita"] == [
        "denied"
    ]


def test_what_the_admission_records_of_a_passed_check_is_the_acts_to_record(
    app: App, tmp_path: Path
) -> None:
    sent = _ready_to_submit(app, "stan", tmp_path)

    def qualified() -> int:
        return sum(e["actor"] == "stan" for e in _events(app, "people.qualify"))

    with pytest.raises(ValidationError, match="say which dataset"):  # admitted, then refused
        run_upload(app, "stan", "release.submit_file", {"area": "earnings", "purpose": "x"}, sent)
    assert qualified() == 0  # the admission's passed check went with its transaction
    params = {"area": "earnings", "purpose": "x", "source": "survey:file"}
    run_upload(app, "stan", "release.submit_file", params, sent)
    assert qualified() == 1  # the submission's own, once


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("area.rotate_key", {"area": "earnings"}),
        ("dataset.destroy", {"area": "earnings", "name": "x", "reason": "r"}),
        ("retention.run", {}),
    ],
)
def test_a_refusal_out_of_an_operations_own_transaction_is_audited(
    app: App, operation: str, params: dict[str, Any]
) -> None:
    # these operations open their own transactions (not acting_as): their role refusal
    # is recorded by the server once it has left them
    with pytest.raises(AccessDenied):
        run(app, "stan", operation, params)
    (event,) = _events(app, "server.denied")
    assert (event["actor"], event["outcome"]) == ("stan", "denied")
