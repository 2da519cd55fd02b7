"""Cases through the services: opened, moved, audited, refused by default, personal data sealed."""

from __future__ import annotations

from datetime import date

import pytest
from requests_world import RECEIVED, REQUESTER, TODAY, RequestsWorld
from sqlalchemy import select, text

from fivesafes.errors import AccessDenied, NotFoundError, ValidationError
from fivesafes.requests.cases import CaseState, Outcome
from fivesafes.requests.kinds import RequestKind
from fivesafes.services.requests import cases, moves, reports, requester
from fivesafes.store.db import transaction
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.requests import RequestCaseRow


def test_open_gives_the_due_date_and_seals_the_requester(world: RequestsWorld) -> None:
    before = world.reg.audit_count()
    view = world.open()
    assert view.state is CaseState.OPEN
    assert view.due == date(2026, 3, 31)  # 20 working days after Monday 2 March 2026
    assert view.days_left == world.policy.calendar.working_days_between(TODAY, view.due)
    event = world.reg.last_event()
    assert event.action == "request.open"
    assert world.reg.audit_count() - before == 2  # the area key, then the case
    with transaction(world.engine) as s:
        row = s.get(RequestCaseRow, view.id)
        assert row is not None and row.requester_sealed is not None
        assert REQUESTER.encode() not in row.requester_sealed


def test_requester_shown_only_to_the_case_officers_and_every_showing_audited(
    world: RequestsWorld,
) -> None:
    case_id = world.assigned(officer="fred")
    assert world.reg.act("fred", requester.reveal_requester, world.provider, case_id) == REQUESTER
    assert world.reg.last_event().action == "request.requester_read"
    assert world.reg.last_event().outcome == "allowed"
    before = world.reg.snapshot()
    for login in ("ada", "dora", "root"):
        with pytest.raises(AccessDenied, match="requester"):
            world.reg.act(login, requester.reveal_requester, world.provider, case_id)
        assert world.reg.last_event().outcome == "denied"
    assert world.reg.changes(before) == {"audit_log": 3}


def test_personal_data_never_reaches_the_log(world: RequestsWorld) -> None:
    case_id = world.assigned()
    world.reg.act("fiona", requester.reveal_requester, world.provider, case_id)
    world.move("fiona", moves.close_case, case_id, Outcome.GRANTED, on=date(2026, 3, 20))
    with transaction(world.engine) as s:
        dump = " ".join(str(r) for r in s.execute(text("SELECT * FROM audit_log")).all())
        assert s.scalar(select(AuditRecord.seq).order_by(AuditRecord.seq.desc()))
    assert "Zebedee" not in dump and "Marker-7Q" not in dump and "zeb@" not in dump


def test_only_foi_officers_open_cases_and_the_dpo_only_sars(world: RequestsWorld) -> None:
    before = world.reg.snapshot()
    with pytest.raises(AccessDenied, match="foi_officer"):
        world.open("ada")
    with pytest.raises(AccessDenied, match="data_protection_officer"):
        world.open("ada", kind=RequestKind.SAR)
    with pytest.raises(AccessDenied):
        world.open("dora", kind=RequestKind.FOI)
    assert world.reg.changes(before) == {}
    assert world.open("dora", kind=RequestKind.SAR).kind is RequestKind.SAR


def test_bad_input_changes_nothing(world: RequestsWorld) -> None:
    before = world.reg.snapshot()
    with pytest.raises(ValidationError, match="future"):
        world.open(received=date(2026, 4, 1))
    with pytest.raises(ValidationError, match="requester is empty"):
        world.open(requester="  ")
    world.policy = type(world.policy)(area="nowhere")
    with pytest.raises(NotFoundError, match="nowhere"):
        world.open()
    assert world.reg.changes(before) == {}


def test_clarification_stops_then_restarts_the_clock(world: RequestsWorld) -> None:
    case_id = world.assigned()
    stopped = world.move("fiona", moves.clarify_case, case_id, on=date(2026, 3, 4))
    assert stopped.state is CaseState.CLARIFYING and stopped.due is None and stopped.clock_stopped
    again = world.move("fiona", moves.clarification_received, case_id, on=date(2026, 5, 5))
    assert again.state is CaseState.ASSIGNED
    assert again.due == date(2026, 6, 3)  # a fresh 20 working days (UK calendar)
    assert world.reg.last_event().action == "request.clarified"


def test_extension_and_its_limits(world: RequestsWorld) -> None:
    case_id = world.assigned()
    with pytest.raises(ValidationError, match="reason"):
        world.move("fiona", moves.extend_case, case_id, " ", on=date(2026, 3, 10))
    extended = world.move(
        "fiona", moves.extend_case, case_id, "s43 public interest test", on=date(2026, 3, 10)
    )
    assert extended.extended and extended.due is not None and extended.due > date(2026, 3, 31)
    with pytest.raises(ValidationError, match="already extended"):
        world.move("fiona", moves.extend_case, case_id, "again", on=date(2026, 3, 11))
    pq = world.assigned(kind=RequestKind.PQ)
    with pytest.raises(ValidationError, match="no statutory extension"):
        world.move("fiona", moves.extend_case, pq, "busy")


def test_only_the_case_officers_move_a_case(world: RequestsWorld) -> None:
    case_id = world.assigned()
    before = world.reg.snapshot()
    with pytest.raises(AccessDenied, match="case's officers"):
        world.move("fred", moves.clarify_case, case_id)
    with pytest.raises(AccessDenied):
        world.move("fiona", moves.assign_case, case_id, "ada")  # ada handles no requests
    assert world.reg.changes(before) == {}


def test_the_whole_life_of_a_case(world: RequestsWorld) -> None:
    case_id = world.assigned()
    with pytest.raises(ValidationError, match="exemptions"):
        world.move("fiona", moves.close_case, case_id, Outcome.WITHHELD, on=date(2026, 3, 20))
    closed = world.move("fiona", moves.close_case, case_id, Outcome.GRANTED, on=date(2026, 3, 20))
    assert closed.state is CaseState.CLOSED and closed.answered == date(2026, 3, 20)
    with pytest.raises(ValidationError, match="closed cannot withdraw"):
        world.move("fiona", moves.withdraw_case, case_id)
    world.move("fiona", moves.request_review, case_id, on=date(2026, 4, 1))
    world.move("fiona", moves.decide_review, case_id, "upheld", on=date(2026, 4, 20))
    world.move("fiona", moves.record_complaint, case_id, on=date(2026, 5, 1))
    done = world.move("fiona", moves.decide_complaint, case_id, "not upheld", on=date(2026, 8, 1))
    assert done.state is CaseState.COMPLAINT_DECIDED
    assert world.reg.last_event().action == "request.complaint_decided"


def test_overdue_and_timeliness(world: RequestsWorld) -> None:
    late = world.assigned()
    on_time = world.assigned()
    world.move("fiona", moves.close_case, on_time, Outcome.GRANTED, on=date(2026, 3, 10))
    withdrawn = world.open().id
    world.move("fiona", moves.withdraw_case, withdrawn, on=date(2026, 3, 5))
    overdue = world.reg.act("fiona", cases.overdue_cases, world.policy, date(2026, 4, 2))
    assert [v.id for v in overdue] == [late]
    assert overdue[0].days_left == -2
    (row,) = world.reg.act("fred", reports.timeliness_report, world.policy, today=date(2026, 4, 2))
    assert (row.quarter, row.received, row.on_time, row.late, row.withdrawn) == (
        "2026-Q1",
        3,
        1,
        1,
        1,
    )
    with pytest.raises(AccessDenied):
        world.reg.act("ada", reports.timeliness_report, world.policy)


def test_shredding_after_retention(world: RequestsWorld) -> None:
    case_id = world.assigned()
    world.move("fiona", moves.close_case, case_id, Outcome.GRANTED, on=date(2026, 3, 20))
    assert world.reg.act("fiona", requester.shred_expired, date(2029, 3, 20)) == []
    assert world.reg.act("fiona", requester.shred_expired, date(2029, 3, 21)) == [case_id]
    assert world.reg.last_event().action == "request.shred"
    with pytest.raises(NotFoundError, match="shredded"):
        world.reg.act("fiona", requester.reveal_requester, world.provider, case_id)
    view = world.reg.act("fiona", cases.get_case, world.policy, case_id)
    assert view.outcome == "granted"  # the case's facts stay
    assert view.received == RECEIVED


def test_exemptions_and_the_refusal_notice(world: RequestsWorld) -> None:
    from fivesafes.services.requests import exemptions

    case_id = world.assigned()
    with pytest.raises(ValidationError, match="withholds nothing"):
        world.reg.act("fiona", exemptions.refusal_notice_for, case_id)
    before = world.reg.snapshot()
    with pytest.raises(ValidationError, match="public-interest"):
        world.move("fiona", exemptions.record_exemption, case_id, "turnover", "s43")
    with pytest.raises(AccessDenied):
        world.move("fred", exemptions.record_exemption, case_id, "names", "s40(2)")
    assert world.reg.changes(before) == {}
    world.move("fiona", exemptions.record_exemption, case_id, "firm returns", "s41")
    assert world.reg.last_event().action == "request.exempt"
    closed = world.move("fiona", moves.close_case, case_id, Outcome.WITHHELD, on=date(2026, 3, 20))
    assert closed.exemptions == ("s41",)
    notice = world.reg.act("fiona", exemptions.refusal_notice_for, case_id)
    assert "withholding it in full" in notice and "s41" in notice
    assert "Zebedee" not in notice
    (row,) = world.reg.act("fred", reports.timeliness_report, world.policy, today=date(2026, 4, 1))
    assert row.withheld_in_full == 1 and row.exemptions == {"s41": 1}


def test_the_disclosure_log_lists_answered_foi_cases_without_the_requester(
    world: RequestsWorld,
) -> None:
    from fivesafes.services.requests import disclosure_log

    answered = world.assigned()
    world.move("fiona", moves.close_case, answered, Outcome.GRANTED, on=date(2026, 3, 20))
    world.assigned()  # still open: not in the log
    sar = world.assigned(kind=RequestKind.SAR)
    world.move("fiona", moves.close_case, sar, Outcome.GRANTED, on=date(2026, 3, 20))
    entries = world.reg.act("fiona", disclosure_log.disclosure_log)
    assert [e.reference for e in entries] == [f"FOI-{answered}"]
    assert world.reg.last_event().action == "request.disclosure_log"
    assert "Zebedee" not in repr(entries)
    with pytest.raises(AccessDenied):
        world.reg.act("ada", disclosure_log.disclosure_log)


def test_an_extension_comes_before_the_deadline(world: RequestsWorld) -> None:
    case_id = world.assigned()  # due 31 March 2026
    with pytest.raises(ValidationError, match="before the deadline"):
        world.move("fiona", moves.extend_case, case_id, "public interest", on=date(2026, 4, 1))
    extended = world.move(
        "fiona", moves.extend_case, case_id, "public interest", on=date(2026, 3, 31)
    )
    assert extended.extended
