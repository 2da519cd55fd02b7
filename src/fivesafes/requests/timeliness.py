"""Timeliness by quarter, in the shape of the government's FOI statistics.

Cases are counted in the quarter they were received. A case answered on or before its
due date (extensions included) is on time; a case still open past its due date counts as
late already (it cannot be on time any more); one still open within its time is pending.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from fivesafes.requests.cases import Outcome
from fivesafes.requests.kinds import RequestKind


@dataclass(frozen=True)
class CaseFacts:
    """What the report needs of one case (no personal data)."""

    kind: RequestKind
    received: date
    due: date | None  # None: clock stopped (awaiting clarification)
    answered: date | None  # None: not answered yet
    outcome: Outcome | None = None
    exemptions: tuple[str, ...] = ()
    withdrawn: bool = False


@dataclass(frozen=True)
class QuarterRow:
    """One quarter's counts."""

    quarter: str  # e.g. 2026-Q1
    received: int
    answered: int
    on_time: int
    late: int
    pending: int
    withdrawn: int
    granted: int
    withheld_in_full: int
    withheld_in_part: int
    exemptions: dict[str, int] = field(default_factory=dict)

    @property
    def on_time_percent(self) -> float | None:
        """Share of answered or overdue cases answered on time (None when there is none)."""
        resolved = self.on_time + self.late
        return None if resolved == 0 else round(100.0 * self.on_time / resolved, 1)

    def as_dict(self) -> dict[str, object]:
        """The row as plain data (JSON, CSV)."""
        return {
            "quarter": self.quarter,
            "received": self.received,
            "answered": self.answered,
            "on_time": self.on_time,
            "late": self.late,
            "pending": self.pending,
            "withdrawn": self.withdrawn,
            "on_time_percent": self.on_time_percent,
            "granted": self.granted,
            "withheld_in_full": self.withheld_in_full,
            "withheld_in_part": self.withheld_in_part,
            "exemptions": dict(sorted(self.exemptions.items())),
        }


def quarter_of(day: date) -> str:
    """The calendar quarter of ``day``: ``2026-Q1``."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def timeliness(cases: list[CaseFacts], today: date) -> list[QuarterRow]:
    """One row per quarter with cases received, oldest first."""
    by_quarter: dict[str, list[CaseFacts]] = {}
    for case in cases:
        by_quarter.setdefault(quarter_of(case.received), []).append(case)
    rows = []
    for quarter in sorted(by_quarter):
        group = by_quarter[quarter]
        on_time = late = pending = answered = withdrawn = 0
        outcomes: Counter[Outcome] = Counter()
        exemptions: Counter[str] = Counter()
        for case in group:
            if case.withdrawn:
                withdrawn += 1
                continue
            if case.answered is not None:
                answered += 1
                if case.due is not None and case.answered <= case.due:
                    on_time += 1
                else:
                    late += 1
                if case.outcome is not None:
                    outcomes[case.outcome] += 1
                exemptions.update(set(case.exemptions))
            elif case.due is not None and today > case.due:
                late += 1
            else:
                pending += 1
        rows.append(
            QuarterRow(
                quarter=quarter,
                received=len(group),
                answered=answered,
                on_time=on_time,
                late=late,
                pending=pending,
                withdrawn=withdrawn,
                granted=outcomes[Outcome.GRANTED],
                withheld_in_full=outcomes[Outcome.WITHHELD],
                withheld_in_part=outcomes[Outcome.PART_WITHHELD],
                exemptions=dict(exemptions),
            )
        )
    return rows
