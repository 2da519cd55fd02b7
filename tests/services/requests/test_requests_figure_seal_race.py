"""An answer's figure approved while its area's key rotates keeps its codes (both databases).

An approved figure's hierarchies (every code of its columns, read by every later check of
the area) are sealed under the area's key in the transaction that records the verdict.
Before the fix a rotation of the area on PostgreSQL neither saw nor waited for that row,
destroyed the old key after its commit, and the figure's codes were lost: every later
check of the area failed on them. ``answer_figure`` now holds the area's key for sealing
around that transaction (services/vault/sealing.py), and the rotation waits (watched
waiting). tests/services/vault/test_vault_seal_race.py has the request case's race.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from release_world import AREA
from seal_race import Paused, Running
from sqlalchemy import Engine
from staff_world import open_case, with_fiona
from stored_world import Stored, build_stored

from fivesafes.release.sealing import unseal
from fivesafes.requests.figure import figure_object_id, parse_cell
from fivesafes.services.requests import figures
from fivesafes.services.vault import rotation
from fivesafes.store.models.requests import RequestFigureRow


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    """The stored release world ('ashe' in 'earnings'), fiona an FOI officer with access."""
    return with_fiona(build_stored(engine, tmp_path))


def test_a_figure_approved_while_the_area_key_rotates_keeps_its_codes(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = open_case(stored, "pay of area a2")
    recorded = Paused(monkeypatch, figures, "record")  # approved and sealed, not committed

    def answer() -> figures.FigureAnswer:
        return figures.answer_figure(
            stored.tx, stored.vault, "fiona", case_id, f"{AREA}/ashe", "pay",
            parse_cell("area=a2"), contributor="person",
        )  # fmt: skip

    answering = Running(answer)
    recorded.wait()
    rotating = Running(lambda: rotation.rotate_area_key_for(stored.tx, stored.vault, "iris", AREA))
    assert rotating.waiting(), "the rotation did not wait for the figure's approval"
    recorded.go()
    answered = answering.outcome()
    rotating.outcome()
    assert answered.approved, answered.reasons
    assert stored.vault.provider.key_ids(AREA) == [f"{AREA}/v2"]
    with stored.tx() as s:
        row = s.get(RequestFigureRow, answered.id)
        assert row is not None and row.sealed_hierarchies and row.hierarchies_wrapped_key_json
        assert json.loads(row.hierarchies_wrapped_key_json)["key_id"] == f"{AREA}/v2"
        codes = unseal(
            stored.vault.provider,
            AREA,
            figure_object_id(answered.id),
            row.sealed_hierarchies,
            row.hierarchies_wrapped_key_json,
        )
    assert "a2" in json.dumps(json.loads(codes))
