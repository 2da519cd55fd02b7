"""The server's operations that seal under an area key hold that key for sealing.

Opening a request case, submitting an output (stored, or a file sent) and publishing
each seal under an area's key in their transaction; a rotation of the area must wait for
them (services/vault/sealing.py; the races themselves: tests/services/*/test_*seal_race.py).
Here each operation runs in process with its service replaced by a probe, which finds
the area lock held (shared: an exclusive try fails) and the hold naming that area; after
the operation the lock is free again. An area the register does not know (typed by the
caller) is not locked, and no store is made for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from areas_world import open_areas_app

from fivesafes.app import App
from fivesafes.errors import ConflictError
from fivesafes.server.operations import run, run_upload
from fivesafes.services.release import publish as release_publish
from fivesafes.services.release import requests as release_requests
from fivesafes.services.requests import cases
from fivesafes.services.vault.sealing import check_key_held
from fivesafes.vault.area_lock import area_lock


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    opened = open_areas_app(tmp_path / "ws")
    try:
        yield opened
    finally:
        opened.close()


# Each operation's admission (its access decision before the key is waited for,
# tests/server/test_server_admission.py), let through here: ada administers, she writes
# no outputs and opens no cases
ADMISSIONS = (
    (cases, "check_may_open"),
    (release_requests, "admit_submission"),
    (release_publish, "check_may_publish"),
)


class Probe:
    """``owner.name`` replaced: records whether ``area``'s key is held for sealing."""

    def __init__(self, app: App, mp: pytest.MonkeyPatch, owner: Any, name: str, area: str):
        self.store = app.vault().store(area)
        self.held: list[bool] = []
        for module, admission in ADMISSIONS:
            mp.setattr(module, admission, lambda *_a, **_k: None)

        def probe(*_args: Any, **_kw: Any) -> dict[str, Any]:
            with area_lock(self.store, exclusive=True, wait=False) as alone:
                self.held.append(not alone)
            check_key_held(area)  # the hold names this area...
            with pytest.raises(ConflictError):
                check_key_held("elsewhere")  # ...and only it
            return {}

        mp.setattr(owner, name, probe)

    def free(self) -> bool:
        with area_lock(self.store, exclusive=True, wait=False) as alone:
            return alone


def test_opening_a_case_holds_the_requests_areas_key(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = Probe(app, monkeypatch, cases, "open_case", "requests")
    case = {"kind": "foi", "received": "2026-06-01", "requester": "Zed", "summary": "pay"}
    run(app, "ada", "request.open", case)
    assert probe.held == [True] and probe.free()


def test_submitting_a_stored_output_holds_its_areas_key(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = Probe(app, monkeypatch, release_requests, "submit_stored_output", "earnings")
    run(app, "ada", "release.submit", {"output": "earnings/t-1", "purpose": "bulletin"})
    assert probe.held == [True] and probe.free()


def test_submitting_a_file_holds_its_areas_key(
    app: App, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    probe = Probe(app, monkeypatch, release_requests, "submit_output", "earnings")
    sent = tmp_path / "note.txt"
    sent.write_text("a note\n")
    run_upload(app, "ada", "release.submit_file", {"area": "earnings", "purpose": "x"}, sent)
    assert probe.held == [True] and probe.free()


def test_publishing_holds_the_requests_areas_key_read_before_its_transaction(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the request's area is read first (a reader of its own, tested with the publication
    # race in tests/services/release/test_release_seal_race.py)
    monkeypatch.setattr(release_publish, "publication_area", lambda _s, _rid: "earnings")
    probe = Probe(app, monkeypatch, release_publish, "publish_request", "earnings")
    run(app, "ada", "release.publish", {"request_id": 7})
    assert probe.held == [True] and probe.free()


def test_an_area_the_register_does_not_know_is_not_locked_nor_made(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.vault().store("nowhere")
    seen: list[bool] = []

    def probe(*_args: Any, **_kw: Any) -> dict[str, Any]:
        seen.append(store.dir.exists())
        with pytest.raises(ConflictError, match="read as no area"):
            check_key_held("nowhere")  # nothing may be sealed within
        return {}

    monkeypatch.setattr(release_requests, "submit_stored_output", probe)
    monkeypatch.setattr(release_requests, "admit_submission", lambda *_a, **_k: None)
    run(app, "ada", "release.submit", {"output": "nowhere/t-1", "purpose": "bulletin"})
    assert seen == [False] and not store.dir.exists()


def test_an_operation_that_would_seal_without_holding_the_key_is_refused(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an operation that forgot the hold (a plain in_one) would bring back the lost seal on
    # PostgreSQL: within the server a seal with no key held is refused, not let through
    from fivesafes.services.requests import requester

    refused: list[bool] = []

    def seals(*_args: Any, **_kw: Any) -> str:
        with pytest.raises(ConflictError, match="not held for sealing"):
            check_key_held("requests")
        refused.append(True)
        return "-"

    monkeypatch.setattr(requester, "reveal_requester", seals)
    run(app, "ada", "request.requester", {"case_id": 1})
    assert refused == [True]
    check_key_held("requests")  # outside the server's operations: not checked
