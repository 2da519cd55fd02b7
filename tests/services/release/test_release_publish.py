"""Publication and the area's threshold policy: the note withholds what the area withholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from release_world import AREA, World, build_world, first_release
from sqlalchemy import Engine

from fivesafes.release.votes import Vote
from fivesafes.services.governance import areas
from fivesafes.services.release import publish as release_publish


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def _publish(world: World, *, withhold: bool) -> tuple[str, dict, dict]:
    """Release the first table; the methods note, the manifest and the audit details."""
    rid = world.submit(first_release())
    world.vote("olga", rid, Vote.APPROVE)
    world.vote("oscar", rid, Vote.APPROVE)
    done = world.reg.act(
        "ada",
        release_publish.publish_request,
        world.provider,
        world.releases,
        rid,
        withhold_thresholds=withhold,
    )
    bundle = Path(done.bundle_path)
    note = (bundle / "methods.md").read_text() + (bundle / "methods.html").read_text()
    manifest = json.loads((bundle / "manifest.json").read_text())
    return note, manifest, world.reg.last_event().details


def test_an_area_that_withholds_thresholds_keeps_them_out_of_every_note(world: World) -> None:
    world.reg.act("root", areas.set_threshold_policy, AREA, True)
    # the publisher does not ask to withhold: the area's policy applies all the same
    note, manifest, details = _publish(world, withhold=False)
    assert "threshold = 7" not in note and "threshold_protection_percent" not in note
    assert "not published, by policy (the policy of the restricted area" in note
    assert manifest["thresholds"] == details["thresholds"] == "withheld by area policy"


def test_a_publisher_may_withhold_what_the_area_states(world: World) -> None:
    note, manifest, details = _publish(world, withhold=True)
    assert "threshold = 7" not in note
    assert "chosen by the publisher for this release" in note
    assert manifest["thresholds"] == details["thresholds"] == "withheld by publisher"


def test_an_area_that_states_thresholds_has_them_in_the_note(world: World) -> None:
    note, manifest, details = _publish(world, withhold=False)
    assert "threshold = 7" in note and "not published" not in note
    assert manifest["thresholds"] == details["thresholds"] == "stated"
