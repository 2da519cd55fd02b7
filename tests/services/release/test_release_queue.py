"""The checkers' queue in one query agrees with the full views: the same requests awaiting
review, each with the reviews of its current version."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_world import World, build_world, first_release
from sqlalchemy import Engine

from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState
from fivesafes.services.release import views


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def test_the_queue_matches_the_full_views(world: World) -> None:
    fresh = world.submit(first_release())
    voted = world.submit(first_release(), title="voted once")
    done = world.submit(first_release(), title="approved")
    world.vote("olga", voted, Vote.APPROVE)
    world.vote("olga", done, Vote.APPROVE)
    world.vote("oscar", done, Vote.APPROVE)
    queue = world.reg.read(views.awaiting_review)
    assert [(q.id, q.state, q.reviews_in) for q in queue] == [
        (fresh, RequestState.SUBMITTED, 0),
        (voted, RequestState.PARTIALLY_REVIEWED, 1),
    ]
    for q in queue:
        full = world.show(q.id)
        assert (q.title, q.area, q.author, q.version, q.kind) == (
            full.title,
            full.area,
            full.author,
            full.version,
            full.kind,
        )
