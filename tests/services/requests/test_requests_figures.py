"""Figures for answers through the disclosure gate: computed in the area, checked like a
release (primary rules, differencing against releases and earlier answers), audited."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from release_world import AREA, BY_REGION, cells_frame, table
from requests_world import RECEIVED, REQUESTER, TODAY
from sqlalchemy import Engine, select
from stored_world import Stored, build_stored

from fivesafes.errors import AccessDenied, ValidationError
from fivesafes.governance.roles import Role
from fivesafes.release.submission import TableSubmission
from fivesafes.requests.figure import parse_cell
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.sdc import PerturbationSpec, RoundingSpec
from fivesafes.services.governance import areas, grants, people
from fivesafes.services.requests import cases, figures, moves
from fivesafes.services.requests.figures import FigureAnswer
from fivesafes.store.db import transaction
from fivesafes.store.models.requests import RequestFigureRow

POLICY = RequestPolicy()


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    """The stored release world ('ashe' in 'earnings'), fiona an FOI officer with access."""
    s = build_stored(engine, tmp_path)
    reg = s.world.reg
    reg.act("root", people.register_person, "fiona", "Fiona Foi", [Role.FOI_OFFICER])
    reg.act("root", people.register_person, "fred", "Fred Foi", [Role.FOI_OFFICER])
    reg.make_ready("fiona")
    asked = reg.act("fiona", grants.request_grant, "fiona", AREA, "answers to FOI requests")
    reg.act("iris", grants.approve_grant, asked.id, "ok")
    reg.act("root", areas.create_area, "requests", "iris")
    return s


def _case(s: Stored) -> int:
    reg = s.world.reg
    view = reg.act(
        "fiona",
        cases.open_case,
        s.world.provider,
        POLICY,
        RequestKind.FOI,
        RECEIVED,
        REQUESTER,
        "pay by area",
        TODAY,
    )
    reg.act("fiona", moves.assign_case, POLICY, view.id, "fiona")
    return view.id


def _figure(s: Stored, case_id: int, cell: str, login: str = "fiona") -> FigureAnswer:
    return figures.answer_figure(
        s.tx, s.vault, login, case_id, f"{AREA}/ashe", "pay", parse_cell(cell),
        contributor="person",
    )  # fmt: skip


def test_a_published_cell_is_allowed_and_a_hidden_primary_refused(stored: Stored) -> None:
    stored.world.release(table("pay by area", BY_REGION, {"a3": "primary", "a2": "secondary"}))
    case_id = _case(stored)
    a1 = _figure(stored, case_id, "area=a1")
    assert a1.approved and a1.value == 20.0 and a1.reasons == ()
    north = _figure(stored, case_id, "area=N")  # a published group stands for its leaves
    assert north.approved and north.value == 37.0
    a3 = _figure(stored, case_id, "area=a3")
    assert not a3.approved and a3.value is None
    assert "threshold" in a3.reasons[0]
    assert stored.world.reg.last_event().action == "request.figure"
    assert stored.world.reg.last_event().outcome == "denied"


def test_a_new_grouping_that_differences_out_a_hidden_cell_is_refused(stored: Stored) -> None:
    stored.world.release(table("pay by area", BY_REGION, {"a3": "primary", "a2": "secondary"}))
    case_id = _case(stored)
    # Total (published) minus these four areas is a3: refused with the combination.
    refused = _figure(stored, case_id, "area=a1+a2+a4+a5")
    assert not refused.approved
    (reason,) = refused.reasons
    assert "differencing" in reason and "area=a3" in reason and "area=Total" in reason
    assert "2" not in reason.replace("a2", "")  # a3's value (2) is never in the reason
    with transaction(stored.world.engine) as s:
        row = s.scalars(select(RequestFigureRow).where(RequestFigureRow.id == refused.id)).one()
        assert row.value is None and not row.approved


def test_an_approved_figure_joins_the_register_of_later_answers(stored: Stored) -> None:
    # N published; a1, a2, a3 all hidden: only their sum is known.
    hidden = {"a3": "primary", "a2": "secondary", "a1": "secondary"}
    stored.world.release(table("pay by area", BY_REGION, hidden))
    case_id = _case(stored)
    alone = _figure(stored, case_id, "area=a1")  # leaves a2 + a3 = 17: a3 still protected
    assert alone.approved
    later = _figure(stored, case_id, "area=a2")  # with the first answer: a3 = N - a1 - a2
    assert not later.approved
    assert f"request-{case_id}-figure-{alone.id}" in later.reasons[0]


def test_only_the_case_officers_check_figures_and_only_while_answering(stored: Stored) -> None:
    stored.world.release(table("pay by area", BY_REGION, {"a3": "primary", "a2": "secondary"}))
    case_id = _case(stored)
    with pytest.raises(AccessDenied):
        _figure(stored, case_id, "area=a1", login="fred")
    with pytest.raises(ValidationError, match="not dim=code"):
        parse_cell("area")
    with pytest.raises(ValidationError, match="occur nowhere"):
        _figure(stored, case_id, "area=zz")


def test_answer_figure_writes_its_record_and_audits_in_every_transaction(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit_walk import spied_transactions

    stored.world.release(table("pay by area", BY_REGION, {"a3": "primary", "a2": "secondary"}))
    case_id = _case(stored)
    with spied_transactions(stored.world.engine, monkeypatch) as (tx, spy):
        figures.answer_figure(
            tx, stored.vault, "fiona", case_id, f"{AREA}/ashe", "pay", parse_cell("area=a1")
        )
    assert "request_figures" in spy.written
    assert spy.appends >= 2  # the dataset read's access decision, then the figure


def test_an_approved_answer_blocks_a_later_release_that_differences_against_it(
    stored: Stored,
) -> None:
    from fivesafes.errors import UnsafeTableError
    from fivesafes.release.votes import Vote

    hidden = {"a3": "primary", "a2": "secondary", "a1": "secondary"}
    stored.world.release(table("pay by area", BY_REGION, hidden))
    case_id = _case(stored)
    answer = _figure(stored, case_id, "area=a1")
    assert answer.approved
    # Publishes a2, hides a1 and a3: safe with the first release alone (a1 + a3 = 22),
    # but with the answer's a1, a3 = N - a1 - a2.
    later = table("pay by area, v2", BY_REGION, {"a3": "primary", "a1": "secondary"})
    rid = stored.world.submit(later)
    with pytest.raises(UnsafeTableError, match="differencing") as err:
        stored.world.vote("olga", rid, Vote.APPROVE)
    assert f"request-{case_id}-figure-{answer.id}" in str(err.value)


def test_an_officer_without_access_to_the_area_is_refused_by_the_read_path(stored: Stored) -> None:
    stored.world.release(table("pay by area", BY_REGION, {"a3": "primary", "a2": "secondary"}))
    reg = stored.world.reg
    case_id = _case(stored)
    reg.act("fiona", moves.assign_case, POLICY, case_id, "fred")  # fred: no grant, no training
    with pytest.raises(AccessDenied):
        _figure(stored, case_id, "area=a1", login="fred")
    assert reg.last_event().outcome == "denied"
    with transaction(stored.world.engine) as s:
        assert s.scalars(select(RequestFigureRow)).all() == []


def test_a_table_answer_is_a_published_release_attached_to_the_case(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit_walk import run_spied

    from fivesafes.errors import ConflictError, NotFoundError
    from fivesafes.requests.cases import Outcome
    from fivesafes.services.context import resolve_actor
    from fivesafes.services.requests import answers, disclosure_log

    published = stored.world.release(
        table("pay by area", BY_REGION, {"a3": "primary", "a2": "secondary"})
    )
    reg = stored.world.reg
    case_id = _case(stored)
    with pytest.raises(NotFoundError, match="no published release"):
        reg.act("fiona", answers.attach_release, POLICY, case_id, "REL-9999")
    with pytest.raises(AccessDenied):
        reg.act("fred", answers.attach_release, POLICY, case_id, published.release_id)
    spy = run_spied(
        stored.world.engine,
        lambda s: answers.attach_release(
            s, resolve_actor(s, "fiona"), POLICY, case_id, published.release_id
        ),
        monkeypatch,
    )
    assert spy.appends == 1 and spy.written == {"request_releases"}
    with pytest.raises(ConflictError):
        reg.act("fiona", answers.attach_release, POLICY, case_id, published.release_id)
    reg.act("fiona", moves.close_case, POLICY, case_id, Outcome.GRANTED)
    (entry,) = reg.act("fiona", disclosure_log.disclosure_log)
    assert entry.releases == (published.release_id,)


def test_a_figure_is_not_recorded_on_a_register_that_changed_during_its_check(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fivesafes.errors import ConflictError

    stored.world.release(table("pay by area", BY_REGION, {"a3": "primary", "a2": "secondary"}))
    case_id = _case(stored)
    first = _figure(stored, case_id, "area=a1")
    assert first.approved
    real = figures.register_state
    calls = {"n": 0}

    def moving(*args: object) -> tuple[int, int]:
        calls["n"] += 1
        before = real(*args)  # type: ignore[arg-type]
        return before if calls["n"] == 1 else (before[0] + 1, before[1])

    monkeypatch.setattr(figures, "register_state", moving)
    with pytest.raises(ConflictError, match="while the figure was being checked"):
        _figure(stored, case_id, "area=a4")
    with transaction(stored.world.engine) as s:
        assert len(s.scalars(select(RequestFigureRow)).all()) == 1


def test_the_register_is_modelled_once_per_state_and_a_publication_replaces_it(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fivesafes.services.requests import gates

    gates.forget_all()
    loads = {"n": 0}
    real = figures.area_releases

    def counted(*args: object) -> object:
        loads["n"] += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(figures, "area_releases", counted)
    hidden = {"a3": "primary", "a2": "secondary", "a1": "secondary"}
    stored.world.release(table("pay by area", BY_REGION, hidden))
    case_id = _case(stored)
    refused = _figure(stored, case_id, "area=a3")  # breaks the threshold: nothing published
    first = _figure(stored, case_id, "area=a4")  # the same register: the same model
    assert not refused.approved and first.approved and loads["n"] == 1
    # the approved figure changed the register: the next figure is checked on a new model
    later = _figure(stored, case_id, "area=a5")
    assert later.approved and loads["n"] == 2
    # a release between two figures replaces the model too, and its cells count: v2
    # publishes a2, so with N a figure of a1 gives a3
    stored.world.release(table("pay by area, v2", BY_REGION, {"a3": "primary", "a1": "secondary"}))
    blocked = _figure(stored, case_id, "area=a1")
    assert loads["n"] == 3 and not blocked.approved and "area=a3" in blocked.reasons[0]
    assert sum(g.fast_checks for g in gates._gates.values()) == 3  # none needed the full check
    gates.forget_all()


def test_a_case_lists_its_figures_with_verdicts_to_those_who_may_read_it(stored: Stored) -> None:
    stored.world.release(table("pay by area", BY_REGION, {"a3": "primary", "a2": "secondary"}))
    case_id = _case(stored)
    _figure(stored, case_id, "area=a1")
    _figure(stored, case_id, "area=a3")
    reg = stored.world.reg
    for login in ("fiona", "fred"):  # the case's officer; a report role
        listed = reg.act(login, figures.case_figures, case_id)
        assert [(f.cell, f.approved, f.value) for f in listed] == [
            ("area=a1", True, 20.0),
            ("area=a3", False, None),
        ]
        assert "threshold" in listed[1].reasons[0]
    with pytest.raises(AccessDenied):
        reg.act("ada", figures.case_figures, case_id)


def _perturbed(name: str, method: str) -> TableSubmission:
    """The world's table with nothing hidden and every cell's published value changed by
    ``method`` (the cell key method, or random rounding to base 5)."""
    t = table(name, BY_REGION, {})
    cells = cells_frame(t.cells_csv)
    keys = {"used": True, "origin": "key file", "fingerprint": "ab12cd34", "record_id": "person"}
    if method == "cellkey":
        cells["published"] = cells["value"] + 0.5
        params: dict[str, Any] = PerturbationSpec().as_dict()
        section: dict[str, Any] = {"ptable": {"source": "generated", "identity": "generated"}}
    else:
        params = {**RoundingSpec().as_dict(), "base": 5}
        cells["published"] = (cells["value"] / 5).round() * 5
        section = {"rounding": {"base": 5}}
    section |= {"method": method, "parameters": params, "keys": keys, "notes": []}
    return replace(
        t, cells_csv=cells.to_csv(index=False), report={**t.report, "protection": section}
    )


@pytest.mark.parametrize("method", ["cellkey", "random-rounding"])
def test_an_exact_figure_of_a_source_published_perturbed_is_refused(
    stored: Stored, method: str
) -> None:
    # REL-0001 hides nothing: the differencing check passes every figure, but the exact
    # count of a cell (or the total) beside its perturbed value tells the noise
    stored.world.release(_perturbed("pay by area", method))
    case_id = _case(stored)
    for cell in ("area=a1", "area=Total", "area=a1+a2"):
        refused = _figure(stored, case_id, cell)
        assert not refused.approved and refused.value is None, cell
        (reason,) = refused.reasons
        assert reason.startswith(f"regime: the figure for request {case_id} is an exact figure")
        assert f"REL-0001 of ashe:pay was published protected by {method}" in reason
        assert "answer with the published figure of REL-0001" in reason
        assert "attach-release CASE REL-0001" in reason and "FOIA s21" in reason
        assert "20" not in reason.replace("2007", "")  # never a1's value (20)
    assert stored.world.reg.last_event().outcome == "denied"
    with transaction(stored.world.engine) as s:
        assert all(not f.approved for f in s.scalars(select(RequestFigureRow)))


def test_a_pending_perturbed_request_holds_the_regime_against_a_figure(stored: Stored) -> None:
    from fivesafes.services.release import requests as release_requests

    rid = stored.world.submit(_perturbed("pay by area, rounded", "random-rounding"))
    case_id = _case(stored)
    refused = _figure(stored, case_id, "area=a4")
    assert not refused.approved
    (reason,) = refused.reasons
    assert f"request {rid} v1 of ashe:pay is pending protected by random-rounding" in reason
    assert f"wait until request {rid} v1 is published and answer with its figure" in reason
    # withdrawn, the request holds nothing: the figure of a source never published goes
    stored.world.reg.act("ada", release_requests.withdraw_request, rid, "methods review")
    assert _figure(stored, case_id, "area=a4").approved
