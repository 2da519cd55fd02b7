"""A filter that follows from a dimension, at `release submit` (both databases).

Pay by region is published, region a3 hidden (three people: under the threshold of 7)
with a complement. Regions a1 and a2 lie in country X, a3 in Y. A table of the people of
country X by sector, protected alone, publishes its total: a1 + a2, so a3 is the
region total minus it. The check at submission reads which (region, country) pairs hold
people from the stored dataset and must block it, and keep it blocked at the vote; the
same table protected with the release (the default) passes and publishes.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from derived_world import publish
from release_world import AREA
from sqlalchemy import Engine
from staff_world import pay_spec
from stored_world import Stored
from zeros_world import build_staff_world

from fivesafes.errors import UnsafeTableError
from fivesafes.release.votes import Vote
from fivesafes.sdc.tabulate import sources
from fivesafes.services.release import reviews as release_reviews
from fivesafes.services.release import zeros
from fivesafes.services.release.checks import checks_in_force, stored_checks, version_row
from fivesafes.services.release.moves import request_row
from fivesafes.vault.area_lock import area_lock


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    s = build_staff_world(engine, tmp_path)
    return s


def test_a_country_table_that_gives_away_a_region_is_blocked_at_submission(
    stored: Stored,
) -> None:
    (regions,) = stored.protect(pay_spec(stored, "regions", "region"), dataset="staff", name="r")
    assert regions.by_status["primary"] == 1  # a3
    publish(stored, "r")

    country_x = pay_spec(stored, "x", "sector", 'where = { country = ["X"] }')
    stored.protect(country_x, dataset="staff", name="alone", with_releases=False)
    view = stored.submit(f"{AREA}/alone")
    check = next(c for c in view.versions[-1].checks if c.name == "differencing")
    assert check.verdict == "fail", check
    assert "region=a3" in check.summary
    # the vote's own run reads no data: the disclosure found with the data's zeros holds
    with pytest.raises(UnsafeTableError, match="region=a3"):
        stored.world.vote("olga", view.id, Vote.APPROVE)
    # the run kept from that refused vote says so too: the check in force still fails
    with stored.tx() as s:
        version = version_row(s, request_row(s, view.id))
        runs = stored_checks(s, version.id)
        stages = [r.stage for r in runs if r.name == "differencing"]
        in_force = {r.name: r.verdict for r in checks_in_force(runs)}
    assert stages == ["submission", "vote"]
    assert in_force["differencing"] == "fail"

    (made,) = stored.protect(country_x, dataset="staff", name="x")
    assert made.hidden_for_releases >= 1
    publish(stored, "x")


def test_a_release_published_after_the_submission_is_checked_with_the_zeros_at_the_vote(
    stored: Stored,
) -> None:
    # the country table passes at submission (nothing published yet); the region table
    # is published meanwhile; the vote's run, given the vault, finds a3 with the zeros
    country_x = pay_spec(stored, "x", "sector", 'where = { country = ["X"] }')
    stored.protect(country_x, dataset="staff", name="x", with_releases=False)
    view = stored.submit(f"{AREA}/x")
    check = next(c for c in view.versions[-1].checks if c.name == "differencing")
    assert check.verdict == "pass", check
    stored.protect(pay_spec(stored, "regions", "region"), dataset="staff", name="r")
    publish(stored, "r")
    w = stored.world
    with pytest.raises(UnsafeTableError, match="region=a3"):
        w.reg.act("olga", release_reviews.review_request, w.provider, view.id, Vote.APPROVE,
                  vault=stored.vault)  # fmt: skip


def test_a_check_that_cannot_read_the_datas_zeros_is_recorded_as_a_failed_check(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the region release, the country table's check asks the data which (region,
    # sector) pairs hold people: six, past a limit of five (a stand-in for a pair of
    # columns with more value pairs than the model holds). The submission is kept, its
    # differencing check failed with why and what to do, audited: not refused unrecorded.
    stored.protect(pay_spec(stored, "regions", "region"), dataset="staff", name="r")
    publish(stored, "r")
    monkeypatch.setattr(sources, "MAX_VALUE_PAIRS", 5)
    country_x = pay_spec(stored, "x", "sector", 'where = { country = ["X"] }')
    stored.protect(country_x, dataset="staff", name="alone", with_releases=False)
    view = stored.submit(f"{AREA}/alone")
    check = next(c for c in view.versions[-1].checks if c.name == "differencing")
    assert check.verdict == "fail", check
    assert "could not run" in check.summary and "'region' and 'sector'" in check.summary
    assert "coarser column" in check.summary and "resubmit" in check.summary
    assert "6" not in check.summary  # the count of pairs stays in the area
    event = stored.world.reg.last_event()
    assert event.action == "release.submit" and event.subject == str(view.id)
    assert json.loads(event.details_text)["checks"]["differencing"] == "fail"
    # fail closed: the vote's run cannot read them either, and is refused saying so
    w = stored.world
    with pytest.raises(UnsafeTableError, match="could not run"):
        w.reg.act("olga", release_reviews.review_request, w.provider, view.id, Vote.APPROVE,
                  vault=stored.vault)  # fmt: skip


def test_a_submission_does_not_wait_for_ever_on_a_rotation_holding_the_area(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The zeros are read inside the submission's transaction, which has audited already
    # (its qualification) and so holds the audit log's lock; a key rotation or a
    # destruction holds the area lock exclusive and then audits. Waiting for the area
    # lock without end, each waited for the other for ever (a file lock: PostgreSQL
    # cannot see the cycle). Now the wait is bounded and the check fails closed, kept.
    stored.protect(pay_spec(stored, "regions", "region"), dataset="staff", name="r")
    publish(stored, "r")
    country_x = pay_spec(stored, "x", "sector", 'where = { country = ["X"] }')
    stored.protect(country_x, dataset="staff", name="alone", with_releases=False)
    monkeypatch.setattr(zeros, "AREA_LOCK_WAIT_SECONDS", 0.5)
    done: dict[str, Any] = {}

    def submit() -> None:
        try:
            done["view"] = stored.submit(f"{AREA}/alone")
        except BaseException as exc:  # handed to the test
            done["error"] = exc

    with area_lock(stored.vault.store(AREA), exclusive=True):  # a rotation under way
        submitting = threading.Thread(target=submit, daemon=True)
        submitting.start()
        submitting.join(20)
        assert not submitting.is_alive(), "the submission waited for the area lock"
    assert "error" not in done, done
    view = done["view"]
    check = next(c for c in view.versions[-1].checks if c.name == "differencing")
    assert check.verdict == "fail" and "could not run" in check.summary
    assert "locked by a key rotation or a dataset's destruction" in check.summary
    assert "once the rotation or destruction has finished" in check.summary
