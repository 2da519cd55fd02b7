"""Two members of one family published at the same moment (both databases).

The small band's pay by area x industry is published (a1 x k: seven small units of 1).
Then the same table of everyone (``firms``, a1 x k hidden: one person's pay dominates)
and of the other bands (a1 x k published) are each safe beside it, so both are
approved; published both, the whole's hidden a1 x k is the sum of the two bands'. Their
sources differ, so a lock per source let both publications check the register at once,
each not seeing the other: the family's lock (services/release/locks.py) makes the
second wait for the first's commit, then see its release and refuse. SQLite serialises
writers (BEGIN IMMEDIATE) on its own.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from derived_world import build_family, publish, published, spec, verdicts
from release_world import AREA
from sqlalchemy import Engine
from stored_world import Stored

from fivesafes.errors import UnsafeTableError
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState
from fivesafes.services.release import publish as release_publish

WAIT = 30.0  # seconds: far longer than either publication needs


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    return build_family(engine, tmp_path)


def _approved(stored: Stored, dataset: str, name: str, p_percent: bool = False) -> int:
    made = spec(stored, name, p_percent=p_percent)
    stored.protect(made, dataset=dataset, name=name, with_releases=False)
    view = stored.submit(f"{AREA}/{name}")
    assert verdicts(view)["differencing"] == "pass"  # each is safe beside the small band
    stored.world.vote("olga", view.id, Vote.APPROVE)
    stored.world.vote("oscar", view.id, Vote.APPROVE)
    return view.id


def test_two_members_of_a_family_published_at_once_are_checked_one_after_the_other(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored.protect(spec(stored, "small"), dataset="firms-small", name="small")
    publish(stored, "small")
    whole = _approved(stored, "firms", "all", p_percent=True)
    rest = _approved(stored, "firms-rest", "rest")

    # The other bands' publication stops once its checks passed, before its commit.
    checked, go = threading.Event(), threading.Event()
    real = release_publish.register_release

    def held(*args: Any, **kw: Any) -> Any:
        if threading.current_thread().name == "rest":
            checked.set()
            assert go.wait(WAIT)
        return real(*args, **kw)

    monkeypatch.setattr(release_publish, "register_release", held)
    outcome: dict[str, Any] = {}

    def run(name: str, rid: int) -> None:
        try:
            outcome[name] = stored.world.publish(rid).release_id
        except Exception as exc:  # the verdict, asserted below
            outcome[name] = exc

    first = threading.Thread(target=run, args=("rest", rest), name="rest")
    first.start()
    assert checked.wait(WAIT)
    second = threading.Thread(target=run, args=("all", whole), name="all")
    second.start()
    second.join(1.5)
    # the whole waits for the other bands' commit (not checked against a register
    # without it); without the family's lock, it checks now and passes
    assert second.is_alive() or not isinstance(outcome.get("all"), str), outcome
    go.set()
    first.join(WAIT)
    second.join(WAIT)
    assert not first.is_alive() and not second.is_alive()
    assert outcome["rest"] == f"REL-{rest:04d}"
    refused = outcome["all"]
    assert isinstance(refused, UnsafeTableError), refused
    assert "differencing" in str(refused) and "a1" in str(refused)
    assert published(stored, "firms:pay") == {}


def test_an_approving_vote_waits_for_a_publication_of_its_family_and_sees_it(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole's first approval is in; its second comes while the other bands' release
    # is being published. Without the locks the vote checks the register without that
    # release and approves a table that publication must then refuse (a stale verdict).
    stored.protect(spec(stored, "small"), dataset="firms-small", name="small")
    publish(stored, "small")
    rest = _approved(stored, "firms-rest", "rest")
    stored.protect(
        spec(stored, "all", p_percent=True), dataset="firms", name="all", with_releases=False
    )
    whole = stored.submit(f"{AREA}/all")
    assert verdicts(whole)["differencing"] == "pass"
    stored.world.vote("olga", whole.id, Vote.APPROVE)

    checked, go = threading.Event(), threading.Event()
    real = release_publish.register_release

    def held(*args: Any, **kw: Any) -> Any:
        if threading.current_thread().name == "rest":
            checked.set()
            assert go.wait(WAIT)
        return real(*args, **kw)

    monkeypatch.setattr(release_publish, "register_release", held)
    outcome: dict[str, Any] = {}

    def publish_rest() -> None:
        try:
            outcome["rest"] = stored.world.publish(rest).release_id
        except Exception as exc:  # the verdict, asserted below
            outcome["rest"] = exc

    def approve_whole() -> None:
        try:
            outcome["vote"] = stored.world.vote("oscar", whole.id, Vote.APPROVE).state
        except Exception as exc:  # the verdict, asserted below
            outcome["vote"] = exc

    first = threading.Thread(target=publish_rest, name="rest")
    first.start()
    assert checked.wait(WAIT)
    second = threading.Thread(target=approve_whole, name="vote")
    second.start()
    second.join(1.5)
    # the vote waits for the publication's commit; without the locks it checks now
    assert second.is_alive() or isinstance(outcome.get("vote"), Exception), outcome
    go.set()
    first.join(WAIT)
    second.join(WAIT)
    assert not first.is_alive() and not second.is_alive()
    assert outcome["rest"] == f"REL-{rest:04d}"
    refused = outcome["vote"]
    assert isinstance(refused, UnsafeTableError), refused
    assert "differencing" in str(refused) and "a1" in str(refused)
    assert stored.world.show(whole.id).state is RequestState.PARTIALLY_REVIEWED
