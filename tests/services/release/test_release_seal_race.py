"""A submission and a publication sealed while the area key rotates (both databases).

Each seals under the area's key in its transaction: the submitted version and its audit
intervals, the published release's hidden cells. A rotation (area lock exclusive, then
the database) re-wraps only what is committed and destroys the old key after its commit;
on PostgreSQL, before the fix, it neither saw nor waited for the uncommitted rows, which
then committed under a destroyed key. Now the caller holds the area's key for sealing
(services/vault/sealing.py: the area lock shared, from before the transaction to its
end), as the server's operations do, and the rotation waits (watched waiting).

The source is proven and a vault given, so the differencing check reads the data's zeros
inside the same transaction (services/release/zeros.py), taking the area lock shared a
second time while the rotation waits for it exclusive: granted at once (flock), not
refused after its bounded wait. tests/services/vault/test_vault_seal_race.py has the
request case's race and the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from derived_world import publish
from release_world import AREA
from seal_race import Paused, Running
from sqlalchemy import Engine, select
from staff_world import pay_spec
from stored_world import Stored
from zeros_world import build_staff_world

from fivesafes.release.votes import Vote
from fivesafes.services.release import publish as release_publish
from fivesafes.services.release import submission, zeros
from fivesafes.services.release.checks import intervals_of, submission_of, version_row
from fivesafes.services.release.moves import request_row
from fivesafes.services.release.register import earlier_outputs
from fivesafes.services.vault import rotation
from fivesafes.services.vault.sealing import key_held_for_sealing
from fivesafes.store.models.release import PublishedReleaseRow

T = TypeVar("T")


@pytest.fixture
def stored(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stored:
    """The stored world with 'staff' (region, country, sector) and its region table
    published (a3 hidden): a table of country X pairs with it, so its check reads the
    data's zeros (as tests/services/release/test_release_zeros.py)."""
    s = build_staff_world(engine, tmp_path)
    s.protect(pay_spec(s, "regions", "region"), dataset="staff", name="r")
    publish(s, "r")
    # a nested read refused after its bounded wait shows in seconds, not half a minute
    monkeypatch.setattr(zeros, "AREA_LOCK_WAIT_SECONDS", 5.0)
    return s


def _country_x(stored: Stored, name: str, **kw: Any) -> None:
    stored.protect(
        pay_spec(stored, "x", "sector", 'where = { country = ["X"] }'),
        dataset="staff",
        name=name,
        **kw,
    )


def _held(stored: Stored, act: Callable[[], T]) -> Callable[[], T]:
    """``act`` with the area's key held for sealing around it, as the server runs it."""

    def run() -> T:
        with key_held_for_sealing(stored.tx, stored.vault, AREA):
            return act()

    return run


def _rotate(stored: Stored) -> Running:
    return Running(lambda: rotation.rotate_area_key_for(stored.tx, stored.vault, "iris", AREA))


def _key_id(wrapped_json: str | None) -> str:
    assert wrapped_json is not None
    return str(json.loads(wrapped_json)["key_id"])


def test_a_submission_sealed_while_the_area_key_rotates_keeps_its_version(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    _country_x(stored, "x")  # protected with the release: cells hidden, intervals sealed
    read = Paused(monkeypatch, zeros, "decrypt")
    read.go()  # counted, not paused
    sealed = Paused(monkeypatch, submission, "_sealed_version")  # sealed, not committed
    submitting = Running(_held(stored, lambda: stored.submit(f"{AREA}/x")))
    sealed.wait()
    rotating = _rotate(stored)
    assert rotating.waiting(), "the rotation did not wait for the submission"
    sealed.go()
    view = submitting.outcome()
    rotating.outcome()
    # the zeros were read in the submission's transaction, after the rotation began
    # waiting, and the check ran with them (refused after its wait: 'could not run')
    assert read.calls == 1
    check = next(c for c in view.versions[-1].checks if c.name == "differencing")
    assert check.verdict == "pass", check
    assert stored.vault.provider.key_ids(AREA) == [f"{AREA}/v2"]
    with stored.tx() as s:
        row = request_row(s, view.id)
        version = version_row(s, row)
        assert _key_id(version.wrapped_key_json) == f"{AREA}/v2"
        assert submission_of(stored.vault.provider, row, version).name
        assert _key_id(version.intervals_wrapped_key_json) == f"{AREA}/v2"
        assert intervals_of(stored.vault.provider, row, version) is not None


def test_a_publication_sealed_while_the_area_key_rotates_keeps_its_hidden_cells(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    _country_x(stored, "x")  # protected with the release: it passes and is published
    view = stored.submit(f"{AREA}/x")
    stored.world.vote("olga", view.id, Vote.APPROVE)
    stored.world.vote("oscar", view.id, Vote.APPROVE)
    read = Paused(monkeypatch, zeros, "decrypt")
    read.go()  # counted, not paused
    # paused in its transaction, before its checks (the zeros) and the sealing
    checking = Paused(monkeypatch, release_publish, "check_not_blocked", before=True)
    w = stored.world

    with stored.tx() as s:  # as the server reads it, before the publication's transaction
        assert release_publish.publication_area(s, view.id) == AREA
        assert release_publish.publication_area(s, view.id + 100) is None

    def publish_it() -> Any:
        return w.reg.act(
            "ada", release_publish.publish_request, w.provider, w.releases, view.id,
            vault=stored.vault,
        )  # fmt: skip

    publishing = Running(_held(stored, publish_it))
    checking.wait()
    rotating = _rotate(stored)
    assert rotating.waiting(), "the rotation did not wait for the publication"
    checking.go()
    published = publishing.outcome()
    rotating.outcome()
    assert read.calls == 1  # the check read the zeros while the rotation waited
    assert stored.vault.provider.key_ids(AREA) == [f"{AREA}/v2"]
    with stored.tx() as s:
        released = PublishedReleaseRow.release_id == published.release_id
        rel = s.scalars(select(PublishedReleaseRow).where(released)).one()
        assert _key_id(rel.wrapped_key_json) == f"{AREA}/v2"
        # every release of the source opens (the differencing check's reading)
        assert len(earlier_outputs(s, stored.vault.provider, rel.source)) == 2
