"""Publication and its methods note: the area's threshold policy, the earlier releases it
was checked against (none on a first release), the contact from the settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from release_world import AREA, BY_REGION, World, build_world, first_release, table
from sqlalchemy import Engine

from fivesafes.release.votes import Vote
from fivesafes.services.governance import areas
from fivesafes.services.release import publish as release_publish


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def _publish(world: World, *, withhold: bool, t=None, **kw) -> tuple[str, dict, dict]:
    """Release a table; the methods note, the manifest and the audit details."""
    rid = world.submit(t or first_release())
    world.vote("olga", rid, Vote.APPROVE)
    world.vote("oscar", rid, Vote.APPROVE)
    done = world.reg.act(
        "ada",
        release_publish.publish_request,
        world.provider,
        world.releases,
        rid,
        withhold_thresholds=withhold,
        **kw,
    )
    bundle = Path(done.bundle_path)
    note = (bundle / "methods.md").read_text() + (bundle / "methods.html").read_text()
    manifest = json.loads((bundle / "manifest.json").read_text())
    return note, manifest, world.reg.last_event().details


def test_an_area_that_withholds_thresholds_keeps_them_out_of_every_note(world: World) -> None:
    world.reg.act("root", areas.set_threshold_policy, AREA, True)
    # the publisher does not ask to withhold: the area's policy applies all the same
    note, manifest, details = _publish(world, withhold=False)
    assert "7" not in note.split("What was done")[1].split("Checks against")[0]
    assert "threshold_protection_percent" not in note
    assert "withheld by the policy of the restricted area that holds the data" in note
    assert manifest["thresholds"] == details["thresholds"] == "withheld by area policy"


def test_a_publisher_may_withhold_what_the_area_states(world: World) -> None:
    note, manifest, details = _publish(world, withhold=True)
    assert "fewer than 7" not in note
    assert "withheld by the publisher of this release" in note
    assert manifest["thresholds"] == details["thresholds"] == "withheld by publisher"


def test_an_area_that_states_thresholds_has_them_in_the_note(world: World) -> None:
    note, manifest, details = _publish(world, withhold=False)
    assert "fewer than 7 contributors" in note and "withheld" not in note
    assert manifest["thresholds"] == details["thresholds"] == "stated"


def test_a_first_release_does_not_claim_cells_published_before(world: World) -> None:
    # the old note said "checked together with N cells published before": its own cells
    note, _manifest, _details = _publish(world, withhold=False)
    assert "published before" not in note.split("Checks against earlier releases")[1]
    assert "This is the first release from this source" in note


def test_a_later_release_names_the_releases_it_was_checked_against(world: World) -> None:
    first = world.release(first_release())
    later = table("pay again", BY_REGION, {"a3": "primary", "a2": "secondary"})
    note, _manifest, _details = _publish(world, withhold=False, t=later)
    checks = note.split("Checks against earlier releases")[1]
    assert f"the 1 earlier release from the same source ({first.release_id})" in checks
    assert "first release" not in checks


def test_the_contact_comes_from_the_caller_not_a_placeholder(world: World) -> None:
    note, _m, _d = _publish(world, withhold=False, contact="stats@example.gov.uk")
    assert "Contact: stats@example.gov.uk." in note
    assert "the statistics team" not in note
