"""Timeliness by quarter: on time, late, pending, withheld, exemptions."""

from __future__ import annotations

from datetime import date

from fivesafes.requests.cases import Outcome
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.timeliness import CaseFacts, quarter_of, timeliness

FOI = RequestKind.FOI


def test_quarters() -> None:
    assert quarter_of(date(2026, 3, 31)) == "2026-Q1"
    assert quarter_of(date(2026, 4, 1)) == "2026-Q2"
    assert quarter_of(date(2026, 12, 31)) == "2026-Q4"


def test_counts_by_quarter_of_receipt() -> None:
    cases = [
        CaseFacts(FOI, date(2026, 1, 5), date(2026, 2, 2), date(2026, 2, 2), Outcome.GRANTED),
        CaseFacts(
            FOI,
            date(2026, 1, 6),
            date(2026, 2, 3),
            date(2026, 2, 4),
            Outcome.PART_WITHHELD,
            ("s40", "s41"),
        ),
        CaseFacts(FOI, date(2026, 2, 1), date(2026, 3, 2), None),  # open and overdue
        CaseFacts(FOI, date(2026, 3, 30), date(2026, 4, 28), None),  # open, in time
        CaseFacts(FOI, date(2026, 3, 1), None, None, withdrawn=True),
        CaseFacts(
            FOI, date(2026, 4, 1), date(2026, 4, 30), date(2026, 4, 10), Outcome.WITHHELD, ("s41",)
        ),
    ]
    q1, q2 = timeliness(cases, today=date(2026, 4, 15))
    assert (q1.quarter, q1.received, q1.answered) == ("2026-Q1", 5, 2)
    assert (q1.on_time, q1.late, q1.pending, q1.withdrawn) == (1, 2, 1, 1)
    assert (q1.granted, q1.withheld_in_part, q1.withheld_in_full) == (1, 1, 0)
    assert q1.exemptions == {"s40": 1, "s41": 1}
    assert q1.on_time_percent == 33.3
    assert (q2.quarter, q2.on_time, q2.withheld_in_full) == ("2026-Q2", 1, 1)
    assert q2.as_dict()["exemptions"] == {"s41": 1}


def test_no_resolved_case_has_no_percentage() -> None:
    (row,) = timeliness(
        [CaseFacts(FOI, date(2026, 1, 5), date(2026, 2, 2), None)], date(2026, 1, 6)
    )
    assert row.on_time_percent is None
