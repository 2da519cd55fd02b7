"""An answer's figure and a publication of its family at the same moment (both databases).

'ashe' by region (N = a1 + a2 + a3, S = a4 + a5), protected in the area: a3 (one
person) is primary and a2 its complement, every other cell published. An exact figure of
a2 is safe on a register without that table (nothing of ashe is published), and the table
is safe without the figure; together a3 = N - a1 - a2. So whichever of the two finishes
second must be refused: the figure takes the locks of a publication of its family before
its verdict is recorded, and the publication takes them before its check
(services/release/locks.py). The first is held after its checks, before its commit, while
the second starts.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from release_world import AREA
from sqlalchemy import Engine, select
from staff_world import open_case, with_fiona
from stored_world import Stored, build_stored, spec_text

from fivesafes.errors import ConflictError, UnsafeTableError
from fivesafes.release.votes import Vote
from fivesafes.requests.figure import parse_cell
from fivesafes.services.release import publish as release_publish
from fivesafes.services.release.register import published_cells
from fivesafes.services.requests import figures
from fivesafes.services.requests.figures import FigureAnswer
from fivesafes.store.models.requests import RequestFigureRow

WAIT = 30.0  # seconds: far longer than either needs
REGION_CSV = "code,parent\nTotal,\nN,Total\nS,Total\na1,N\na2,N\na3,N\na4,S\na5,S\n"


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    """The stored release world ('ashe' in 'earnings'), fiona an FOI officer with access."""
    return with_fiona(build_stored(engine, tmp_path))


def _figure(s: Stored, case_id: int, cell: str) -> FigureAnswer:
    return figures.answer_figure(
        s.tx, s.vault, "fiona", case_id, f"{AREA}/ashe", "pay", parse_cell(cell),
        contributor="person",
    )  # fmt: skip


def _approved_table(s: Stored) -> int:
    """The region table, protected from 'ashe' (a proven source), submitted and approved."""
    text = spec_text("pay by region", "region-area.csv")
    s.protect(s.spec("region", text, REGION_CSV), name="region")
    view = s.submit(f"{AREA}/region")
    statuses = {c.name: c.verdict for c in view.versions[-1].checks}
    assert statuses["differencing"] == "pass" and statuses["source"] == "pass"
    s.world.vote("olga", view.id, Vote.APPROVE)
    s.world.vote("oscar", view.id, Vote.APPROVE)
    return view.id


def _hidden_by_the_table(s: Stored, rid: int) -> dict[str, str]:
    from fivesafes.services.release.checks import submission_of, version_row
    from fivesafes.services.release.moves import request_row

    with s.tx() as session:
        row = request_row(session, rid)
        cells = submission_of(s.world.provider, row, version_row(session, row)).cells
    return {str(a): str(st) for a, st in zip(cells["area"], cells["status"], strict=True)}


def _approved_figures(s: Stored) -> int:
    with s.tx() as session:
        return len(session.scalars(select(RequestFigureRow).where(RequestFigureRow.approved)).all())


def _published(s: Stored) -> int:
    with s.tx() as session:
        return len(published_cells(session, "ashe:pay"))


def _hold(first: str, checked: threading.Event, go: threading.Event, mp: Any) -> None:
    """Hold ``first`` (its checks passed, its verdict or cells written) until ``go``."""

    def wait() -> None:
        if threading.current_thread().name == first:
            checked.set()
            assert go.wait(WAIT)

    if first == "publication":
        real_register = release_publish.register_release

        def registering(*args: Any, **kw: Any) -> Any:
            wait()
            return real_register(*args, **kw)

        mp.setattr(release_publish, "register_release", registering)
    else:
        real_record = figures.record

        def recording(*args: Any, **kw: Any) -> Any:
            done = real_record(*args, **kw)
            wait()  # the approval is recorded, not committed
            return done

        mp.setattr(figures, "record", recording)


@pytest.mark.parametrize("first", ["publication", "figure"])
def test_a_figure_and_a_publication_of_its_family_at_once_the_second_is_refused(
    stored: Stored, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    rid = _approved_table(stored)
    hidden = _hidden_by_the_table(stored, rid)
    assert hidden["a3"] == "primary" and hidden["a2"] == "secondary"
    assert {c for c, st in hidden.items() if st not in ("safe",)} == {"a2", "a3"}
    case_id = open_case(stored, "pay of area a2")

    checked, go = threading.Event(), threading.Event()
    _hold(first, checked, go, monkeypatch)
    outcome: dict[str, Any] = {}

    def publication() -> None:
        try:
            outcome["publication"] = stored.world.publish(rid).release_id
        except Exception as exc:  # the verdict, asserted below
            outcome["publication"] = exc

    def figure() -> None:
        try:
            outcome["figure"] = _figure(stored, case_id, "area=a2")
        except Exception as exc:  # the verdict, asserted below
            outcome["figure"] = exc

    run = {"publication": publication, "figure": figure}
    second = "figure" if first == "publication" else "publication"
    one = threading.Thread(target=run[first], name=first)
    one.start()
    assert checked.wait(WAIT)
    two = threading.Thread(target=run[second], name=second)
    two.start()
    two.join(1.5)
    # the second waits for the first's commit, or was refused: never passed beside it
    assert two.is_alive() or _refused(outcome.get(second)), outcome
    go.set()
    one.join(WAIT)
    two.join(WAIT)
    assert not one.is_alive() and not two.is_alive()

    if first == "publication":
        assert outcome["publication"] == f"REL-{rid:04d}"
        assert _refused(outcome["figure"]), outcome
        assert _approved_figures(stored) == 0
        # asked again, on the register with the release, it is refused and says why
        again = _figure(stored, case_id, "area=a2")
        assert not again.approved and again.value is None
        (reason,) = again.reasons
        assert "differencing" in reason and "area=a3" in reason
    else:
        answer = outcome["figure"]
        assert isinstance(answer, FigureAnswer) and answer.approved, outcome
        refused = outcome["publication"]
        assert isinstance(refused, UnsafeTableError), refused
        assert "differencing" in str(refused) and "a3" in str(refused)
        assert f"request-{case_id}-figure-{answer.id}" in str(refused)
        assert _published(stored) == 0


def _refused(result: object) -> bool:
    """A refusal: a figure not approved (or not recorded: the register moved during its
    check, ConflictError), or a publication refused by its checks."""
    if isinstance(result, FigureAnswer):
        return not result.approved
    return isinstance(result, ConflictError | UnsafeTableError)
