"""kill -9 at every step of `release publish`: the register and releases/ never disagree.

Before: the bundle was written into releases/ before the register's transaction; a kill
between the two left a complete bundle whose cells were not in the register, so
republishing was refused ("already exists") and later differencing checks ignored cells
that anyone could read. Now the bundle is staged, the register commits, then the bundle
is renamed; reconcile_releases settles whatever a crash left. Each step is tried: the
publishing process kills itself with SIGKILL there (FIVESAFES_FAULT, tests only).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from release_world import SOURCE, World, build_world, first_release
from sqlalchemy import Engine, select

from fivesafes.release.bundle import verify_bundle
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState
from fivesafes.services.release.reconcile import (
    ORPHANED,
    STAGING,
    hold_publication,
    reconcile_releases,
)
from fivesafes.services.release.register import earlier_outputs, list_published
from fivesafes.store.db import transaction
from fivesafes.store.models.audit import AuditRecord

SCRIPT = """
import sys
from pathlib import Path
from fivesafes.services.context import resolve_actor
from fivesafes.services.release.publish import publish_request
from fivesafes.store.db import make_engine, transaction
from fivesafes.vault.keys import FileKeyProvider
url, keys, releases, rid, patch = sys.argv[1:6]
if patch == "kill-in-register":
    # Independent of the crash points: die inside the register write itself.
    import os, signal
    from fivesafes.services.release import publish as release_publish
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    release_publish.register_release = die
engine = make_engine(url)
with transaction(engine) as session:
    publish_request(session, resolve_actor(session, "ada"), FileKeyProvider(Path(keys)),
                    Path(releases), int(rid))
print("published")
"""

NOT_COMMITTED = ("publish.staging", "publish.staged", "publish.registered")
COMMITTED = ("publish.committed", "publish.renamed")


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db.sqlite'}"


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> World:
    return build_world(engine, tmp_path)


def _approved(world: World) -> int:
    rid = world.submit(first_release())
    world.vote("olga", rid, Vote.APPROVE)
    world.vote("oscar", rid, Vote.APPROVE)
    return rid


def _publish_in_a_process(world: World, rid: int, fault: str | None, patch: str = "none") -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVESAFES_")}
    if fault:
        env["FIVESAFES_FAULT"] = fault
    world.engine.dispose()  # the child writes the same SQLite file
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(world.engine.url),
            str(world.provider.keys_dir),
            str(world.releases),
            str(rid),
            patch,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(done.stderr)
    return done.returncode


def _reconcile(world: World) -> list[tuple[str, str]]:
    with transaction(world.engine) as session:
        events = reconcile_releases(session, world.releases)
    return [(e.details["action"], e.outcome.value) for e in events]


def _assert_published_and_registered(world: World, rid: int) -> None:
    view = world.show(rid)
    assert view.state is RequestState.RELEASED
    (published,) = world.reg.read(list_published)
    assert published.cells > 0
    bundle = world.releases / published.release_id
    verify_bundle(bundle)
    assert not (world.releases / STAGING / published.release_id).exists()
    # The next differencing check sees these cells.
    labels = [t.label for t in world.reg.read(earlier_outputs, world.provider, SOURCE)]
    assert labels == [published.release_id]


@pytest.mark.parametrize("fault", NOT_COMMITTED)
def test_a_kill_before_the_commit_leaves_nothing_published(world: World, fault: str) -> None:
    rid = _approved(world)
    assert _publish_in_a_process(world, rid, fault) == -signal.SIGKILL
    assert world.show(rid).state is RequestState.APPROVED
    assert world.reg.read(list_published) == []
    assert not (world.releases / "REL-0001").exists()
    assert (world.releases / STAGING / "REL-0001").exists()  # what the crash left
    assert _reconcile(world) == [("removed", "done")]
    assert [p for p in (world.releases / STAGING).iterdir() if p.is_dir()] == []
    assert world.reg.last_event().action == "release.reconcile"
    # The same request publishes as if nothing had happened.
    world.publish(rid)
    _assert_published_and_registered(world, rid)


@pytest.mark.parametrize("fault", COMMITTED)
def test_a_kill_after_the_commit_is_completed(world: World, fault: str) -> None:
    rid = _approved(world)
    assert _publish_in_a_process(world, rid, fault) == -signal.SIGKILL
    assert world.show(rid).state is RequestState.RELEASED
    expected = [] if fault == "publish.renamed" else [("completed", "done")]
    assert _reconcile(world) == expected
    _assert_published_and_registered(world, rid)
    assert _reconcile(world) == []  # idempotent


def test_a_kill_inside_the_register_write_does_not_stop_the_next_publication(
    world: World,
) -> None:
    # The reproduction, without the crash points: the bundle must not be left
    # in releases/ without its cells in the register, and publishing again must work.
    rid = _approved(world)
    assert _publish_in_a_process(world, rid, None, "kill-in-register") == -signal.SIGKILL
    assert world.reg.read(list_published) == []
    assert not (world.releases / "REL-0001").exists()
    world.publish(rid)
    _assert_published_and_registered(world, rid)


def test_without_a_crash_the_child_publishes(world: World) -> None:
    rid = _approved(world)
    assert _publish_in_a_process(world, rid, None) == 0
    assert _reconcile(world) == []
    _assert_published_and_registered(world, rid)


def test_a_bundle_the_register_does_not_know_is_moved_aside_and_publishing_works(
    world: World,
) -> None:
    # What the old publication left after a kill: a complete bundle, no register rows.
    rid = _approved(world)
    stray = world.releases / "REL-0001"
    stray.mkdir(parents=True)
    (stray / "tables.csv").write_text("area,value\nN,37\n")
    world.publish(rid)  # reconciles first, then publishes
    _assert_published_and_registered(world, rid)
    (aside,) = (world.releases / ORPHANED).iterdir()
    assert (aside / "tables.csv").read_text() == "area,value\nN,37\n"
    with transaction(world.engine) as s:
        events = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "release.reconcile")
        ).all()
        assert [e.details["action"] for e in events] == ["moved aside"]


def test_a_tampered_staged_bundle_is_not_put_in_place(world: World) -> None:
    rid = _approved(world)
    assert _publish_in_a_process(world, rid, "publish.committed") == -signal.SIGKILL
    staged = world.releases / STAGING / "REL-0001"
    (staged / "tables.csv").write_text("edited behind our back\n")
    assert _reconcile(world) == [("kept", "failed")]
    assert not (world.releases / "REL-0001").exists()
    assert "does not verify" in world.reg.last_event().details["problem"]


def test_a_publication_still_running_is_left_alone(world: World) -> None:
    # Another process is between staging and its commit (it holds the release's lock):
    # its staged bundle is not a crash's leftover and must not be removed under it.
    staged = world.releases / STAGING / "REL-0009"
    held = hold_publication(world.releases, "REL-0009")
    try:
        staged.mkdir(parents=True)
        (staged / "tables.csv").write_text("being written\n")
        assert _reconcile(world) == []
        assert staged.exists()
    finally:
        os.close(held)
    assert _reconcile(world) == [("removed", "done")]  # once its process is gone
