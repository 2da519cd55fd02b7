"""The source a differencing check compares with is proven, not asserted (both databases).

The known evasion: the same table submitted under another source is compared with
nothing, so a disclosure by differencing passes. A stored output's source comes from
its provenance (another --source is refused); a folder's source must name a dataset
registered in the area and the table's measure, and is flagged to the reviewers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from release_world import AREA, BY_REGION, SOURCE, first_release, table
from sqlalchemy import Engine, select
from stored_world import PAY, Stored, build_stored

from fivesafes.errors import NotFoundError, UnsafeTableError, ValidationError
from fivesafes.release.source import UNVERIFIED
from fivesafes.release.votes import Vote
from fivesafes.services.release import requests as release_requests
from fivesafes.services.vault.tables import stored_table
from fivesafes.store.models.release import RequestVersionRow


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    s = build_stored(engine, tmp_path)
    s.world.release(first_release())  # a3 hidden, N (= a1 + a2 + a3) published
    return s


def _checks(view: release_requests.RequestView) -> dict[str, str]:
    return {c.name: c.verdict for c in view.versions[-1].checks}


def test_a_stored_table_gets_its_verified_source_and_the_known_attack_is_blocked(
    stored: Stored,
) -> None:
    # protected alone (--ignore-published): N2 = a1 + a2 published, N - N2 = a3
    made = stored.shifted(with_releases=False)
    view = stored.submit(f"{AREA}/{made.output.name}")
    assert view.source == SOURCE and view.source_verified
    submitted = stored.world.reg.last_event().details
    assert submitted["source_verified"] is True
    assert submitted["output"] == f"{AREA}/{made.output.name}"
    assert _checks(view) == {
        "source": "pass",
        "rules": "pass",
        "audit": "pass",
        "differencing": "fail",
        "regime": "pass",
    }
    diff = next(c for c in view.versions[-1].checks if c.name == "differencing")
    assert "area=a3" in diff.summary and "exactly" in diff.summary
    with stored.tx() as s:
        version = s.scalars(
            select(RequestVersionRow).where(RequestVersionRow.request_id == view.id)
        ).one()
        assert version.source_verified and version.output_object_id == made.output.object_id
    with pytest.raises(UnsafeTableError, match="differencing"):
        stored.world.vote("olga", view.id, Vote.APPROVE)


def test_the_same_table_under_another_source_is_refused_or_flagged(stored: Stored) -> None:
    made = stored.shifted(with_releases=False)  # the attack: protected without the release
    ref = f"{AREA}/{made.output.name}"
    before = stored.world.reg.snapshot()
    with pytest.raises(ValidationError, match="contradicts the provenance"):
        stored.submit(ref, source="elsewhere:pay")
    assert stored.world.reg.snapshot() == before
    assert stored.submit(ref, source=SOURCE).source_verified  # the same source is fine

    # The same cells as a folder the author holds: the source is only declared.
    with stored.tx() as s:
        same, _ = stored_table(s, stored.vault, AREA, made.output.name)
    before = stored.world.reg.snapshot()
    with pytest.raises(ValidationError, match="DATASET:MEASURE"):
        stored.world.submit(same, source=None)
    with pytest.raises(NotFoundError, match="no registered dataset 'elsewhere'"):
        stored.world.submit(same, source="elsewhere:pay")
    with pytest.raises(ValidationError, match="tabulates 'pay'"):
        stored.world.submit(same, source="ashe:count")
    with pytest.raises(ValidationError, match="not DATASET:MEASURE"):
        stored.world.submit(same, source="ashe")
    assert stored.world.reg.snapshot() == before

    # Another registered dataset of the area: a declared source proves nothing, so the
    # table is checked against the releases of every source of the area and the attack
    # is caught; the reviewers are told the source was declared, not verified.
    stored.add_dataset("ashe_copy", PAY)
    rid = stored.world.submit(same, source="ashe_copy:pay")
    view = stored.world.show(rid)
    assert not view.source_verified and _checks(view)["differencing"] == "fail"
    source = next(c for c in view.versions[-1].checks if c.name == "source")
    assert source.verdict == "review" and source.summary.startswith(UNVERIFIED)
    with pytest.raises(UnsafeTableError, match="differencing"):
        stored.world.vote("olga", rid, Vote.APPROVE)


def test_a_new_version_keeps_its_request_source(stored: Stored) -> None:
    made = stored.shifted()
    view = stored.submit(f"{AREA}/{made.output.name}")
    stored.add_dataset("ashe_copy", PAY)
    revised = table("pay by area, revised", BY_REGION, {"a3": "primary", "a2": "secondary"})
    before = stored.world.reg.snapshot()
    with pytest.raises(ValidationError, match=f"request #{view.id} is about ashe:pay"):
        stored.world.submit(revised, source="ashe_copy:pay", request_id=view.id)
    assert stored.world.reg.snapshot() == before
