"""Walk every public function of the requests services: none may write without auditing.

As tests/services/release/test_release_audit_walk.py: each call runs in its own
transaction with a spy on ``append_event`` and a listener on flushed rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from audit_walk import qualified, run_spied
from requests_world import RECEIVED, TODAY, RequestsWorld, build_requests_world
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fivesafes.requests.cases import Outcome
from fivesafes.requests.kinds import RequestKind
from fivesafes.services.context import resolve_actor
from fivesafes.services.requests import (
    answers,
    cases,
    disclosure_log,
    exemptions,
    figures,
    gates,
    moves,
    register,
    reports,
    requester,
    retention,
    rights,
    subject,
)

MODULES: tuple[ModuleType, ...] = (
    answers,
    cases,
    disclosure_log,
    exemptions,
    figures,
    gates,
    moves,
    register,
    reports,
    requester,
    retention,
    rights,
    subject,
)

Call = Callable[[Session, RequestsWorld, dict[str, int]], Any]
P = RequestsWorld.policy


def _as(login: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Call:
    def call(s: Session, w: RequestsWorld, ids: dict[str, int]) -> Any:
        real = [ids[a[1:]] if isinstance(a, str) and a.startswith("@") else a for a in args]
        return fn(s, resolve_actor(s, login), *real, **kw)

    return call


def _moved(fn: Callable[..., Any], key: str, *args: Any) -> Call:
    return _as("fiona", fn, P, f"@{key}", *args, on=date(2026, 3, 20))


WRITERS: dict[str, Call] = {
    "cases.open_case": lambda s, w, i: cases.open_case(
        s, resolve_actor(s, "fiona"), w.provider, P, RequestKind.FOI, RECEIVED, "x", "y", TODAY
    ),
    "moves.assign_case": _moved(moves.assign_case, "open", "fred"),
    "moves.clarify_case": _moved(moves.clarify_case, "a"),
    "moves.clarification_received": _moved(moves.clarification_received, "clarifying"),
    "moves.extend_case": _moved(moves.extend_case, "b", "public interest"),
    "moves.close_case": _moved(moves.close_case, "c", Outcome.GRANTED),
    "moves.withdraw_case": _moved(moves.withdraw_case, "d"),
    "moves.request_review": _moved(moves.request_review, "closed"),
    "moves.decide_review": _moved(moves.decide_review, "review", "upheld"),
    "moves.record_complaint": _moved(moves.record_complaint, "reviewed"),
    "moves.decide_complaint": _moved(moves.decide_complaint, "complaint", "not upheld"),
    "exemptions.record_exemption": _as("fiona", exemptions.record_exemption, P, "@b", "x", "s41"),
    "requester.shred_expired": _as("fiona", requester.shred_expired, date(2040, 1, 1)),
}

# Audited without a row of their own: access decisions.
AUDITED: dict[str, Call] = {
    "disclosure_log.disclosure_log": _as("fiona", disclosure_log.disclosure_log),
    "requester.reveal_requester": lambda s, w, i: requester.reveal_requester(
        s, resolve_actor(s, "fiona"), w.provider, i["a"]
    ),
}

READERS: dict[str, Call] = {
    "cases.case_row": lambda s, w, i: cases.case_row(s, i["a"]),
    "cases.answering_case": _as("fiona", cases.answering_case, "@b", "checking"),
    "cases.get_case": _as("fiona", cases.get_case, P, "@a"),
    "cases.list_cases": _as("fred", cases.list_cases, P),
    "cases.overdue_cases": _as("fred", cases.overdue_cases, P, date(2026, 6, 1)),
    "cases.view_of": lambda s, w, i: cases.view_of(cases.case_row(s, i["a"]), P),
    "cases.clock_of": lambda s, w, i: cases.clock_of(cases.case_row(s, i["a"])),
    "cases.deadline_of": lambda s, w, i: cases.deadline_of(cases.case_row(s, i["a"]), P),
    "reports.timeliness_report": _as("fred", reports.timeliness_report, P),
    "exemptions.refusal_notice_for": _as("fiona", exemptions.refusal_notice_for, "@e"),
    "exemptions.withheld_parts": lambda s, w, i: exemptions.withheld_parts(
        cases.case_row(s, i["e"])
    ),
    "answers.released_for": lambda s, w, i: answers.released_for(s, i["a"]),
    "figures.case_figures": _as("fred", figures.case_figures, "@a"),
    "figures.register_state": lambda s, w, i: figures.register_state(s, 1, "earnings"),
    "register.area_answers": lambda s, w, i: register.area_answers(s, w.provider, "earnings"),
}

PURE = {
    "cases.requester_object_id",
    "cases.check_may_open",
    "register.answer_label",
    "subject.object_id",
    "subject.records_path",
    "subject.identifier_columns",
    "subject.subject_mask",
    "subject.subject_datasets",  # reads the areas' stores, not the database
    # writes files where the officer runs the command (no database): the export it
    # writes is audited by subject_export_files
    "subject.write_subject_export",
    # the process's kept registers (no database: the figure's service audits the check)
    "gates.gate_for",
    "gates.forget_all",
}

# Open their own transactions (a dataset read among them): walked under a spy on every
# transaction in test_requests_figures.py and test_requests_subject.py.
TX_WRITERS = {
    "figures.answer_figure",
    "subject.search_subject",
    "subject.sar_areas",  # the case and the people checks searches and rights share
    "subject.export_subject",
    "subject.subject_export_files",
    "retention.shred_expired_records",
    "rights.erase_subject",
    "rights.rectify_subject",
}
# Needs a published release: walked in test_requests_figures.py.
NEEDS_RELEASE = {"answers.attach_release"}

WALKED = qualified(
    MODULES, set(WRITERS) | set(AUDITED) | set(READERS) | PURE | TX_WRITERS | NEEDS_RELEASE
)


def test_the_requests_walk_lists_each_function_once() -> None:
    listed = [*WRITERS, *AUDITED, *READERS, *PURE, *TX_WRITERS, *NEEDS_RELEASE]
    assert len(listed) == len(set(listed)) == len(WALKED)


def test_requests_writers_write_and_audit_readers_do_not_write(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = build_requests_world(engine, tmp_path)
    ids = {k: w.assigned() for k in ("a", "b", "c", "d", "e", "clarifying", "closed")}
    w.move("fiona", exemptions.record_exemption, ids["e"], "firm returns", "s41")
    ids["open"] = w.open().id
    w.move("fiona", moves.clarify_case, ids["clarifying"], on=date(2026, 3, 4))
    for key, steps in {
        "closed": [],
        "review": [moves.request_review],
        "reviewed": [moves.request_review, moves.decide_review],
        "complaint": [moves.request_review, moves.decide_review, moves.record_complaint],
    }.items():
        ids[key] = w.assigned() if key != "closed" else ids["closed"]
        w.move("fiona", moves.close_case, ids[key], Outcome.GRANTED, on=date(2026, 3, 10))
        for step in steps:
            args = ("done",) if step is moves.decide_review else ()
            w.move("fiona", step, ids[key], *args, on=date(2026, 3, 12))
    for name, call in WRITERS.items():
        spy = run_spied(w.engine, lambda s, c=call: c(s, w, ids), monkeypatch)
        assert spy.appends >= 1, f"{name} did not audit"
        assert spy.written, f"{name} is listed as a writer but wrote nothing"
    for name, call in AUDITED.items():
        spy = run_spied(w.engine, lambda s, c=call: c(s, w, ids), monkeypatch)
        assert spy.appends == 1 and not spy.written, f"{name}: {spy.appends} {spy.written}"
    for name, call in READERS.items():
        spy = run_spied(w.engine, lambda s, c=call: c(s, w, ids), monkeypatch)
        assert not spy.written and spy.appends == 0, f"{name} wrote {spy.written}"
