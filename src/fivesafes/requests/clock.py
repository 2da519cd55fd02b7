"""The statutory clock of a request: its due date, whether it is stopped, days left.

- FOI and EIR: the twentieth working day following the date of receipt (the receipt day
  never counts, and may itself be a weekend or a holiday: the first working day after it
  is day one). FOI's public-interest extension adds a further 20 working days (the ICO's
  "reasonable" extension); EIR reg 7 extends a complex and voluminous request to 40.
- SAR: one calendar month from the day of receipt, to the corresponding date; when the
  next month is shorter, its last day (the ICO's rule: received 31 January, due 28 or 29
  February). Extendable by two further months. A due date on a non-working day moves to
  the next working day.
- PQ and ad hoc: the organisation's targets in working days (settings).

Clarification: asking the requester to clarify stops the clock. For FOI, EIR, PQ and
ad hoc the period starts again from the day the clarification arrives (FOIA s1(3) and
s10(6): it is then the date of receipt); for a SAR the clock only pauses, and the days
it stood still are added to the due date.
"""

from __future__ import annotations

import calendar as stdcal
from dataclasses import dataclass
from datetime import date, timedelta

from fivesafes.errors import ValidationError
from fivesafes.requests.calendar import WorkingCalendar
from fivesafes.requests.kinds import CLOCKING, Clocking, RequestKind

STATUTORY_WORKING_DAYS = 20
EIR_COMPLEX_WORKING_DAYS = 40
SAR_MONTHS = 1
SAR_EXTENSION_MONTHS = 2


@dataclass(frozen=True)
class ClockTargets:
    """The organisation's own periods (settings): PQ and ad hoc targets, FOI extension."""

    pq_working_days: int = 5
    ad_hoc_working_days: int = 20
    foi_extension_working_days: int = 20


@dataclass(frozen=True)
class Clarification:
    """The clock stopped on ``sought`` (the officer asked) until ``answered`` (None: still)."""

    sought: date
    answered: date | None = None


@dataclass(frozen=True)
class Clock:
    """What a case's deadline depends on."""

    kind: RequestKind
    received: date
    clarifications: tuple[Clarification, ...] = ()
    extended: bool = False


@dataclass(frozen=True)
class Deadline:
    """The due date (None while the clock is stopped) and how it was worked out."""

    due: date | None
    stopped: bool
    basis: str


def check_extendable(kind: RequestKind) -> None:
    """Raise unless the law lets a request of ``kind`` be extended."""
    if kind in (RequestKind.PQ, RequestKind.AD_HOC):
        raise ValidationError(
            f"a {kind.value} request has no statutory extension",
            hint="extensions exist for FOI (public interest), EIR (complex) and SAR (two months)",
        )


def check_clarifications(clock: Clock) -> None:
    """Raise unless the clarifications are in date order and only the last is open."""
    start = clock.received
    for index, item in enumerate(clock.clarifications):
        if item.sought < start:
            raise ValidationError(
                f"clarification sought on {item.sought} is before {start}",
                hint="a clarification is sought after receipt and after the previous one "
                "was answered",
            )
        if item.answered is None:
            if index != len(clock.clarifications) - 1:
                raise ValidationError(
                    "an earlier clarification is still open",
                    hint="record its answer before seeking another",
                )
            break
        if item.answered < item.sought:
            raise ValidationError(
                f"clarification answered on {item.answered}, before it was sought ({item.sought})",
                hint="give the day the requester's clarification arrived",
            )
        start = item.answered


def add_months(day: date, months: int) -> date:
    """The corresponding date ``months`` later; the month's last day when it has none."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = stdcal.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def working_day_period(kind: RequestKind, extended: bool, targets: ClockTargets) -> int:
    """The period of a working-day kind, in working days."""
    if kind is RequestKind.FOI:
        extra = targets.foi_extension_working_days if extended else 0
        return STATUTORY_WORKING_DAYS + extra
    if kind is RequestKind.EIR:
        return EIR_COMPLEX_WORKING_DAYS if extended else STATUTORY_WORKING_DAYS
    if kind is RequestKind.PQ:
        return targets.pq_working_days
    if kind is RequestKind.AD_HOC:
        return targets.ad_hoc_working_days
    raise ValidationError(f"a {kind.value} request is not counted in working days")


def deadline(clock: Clock, calendar: WorkingCalendar, targets: ClockTargets) -> Deadline:
    """The due date of ``clock`` under ``calendar``'s working days."""
    check_clarifications(clock)
    if clock.clarifications and clock.clarifications[-1].answered is None:
        sought = clock.clarifications[-1].sought
        return Deadline(None, True, f"clock stopped on {sought}: awaiting clarification")
    if CLOCKING[clock.kind] is Clocking.WORKING_DAYS:
        answered = [c.answered for c in clock.clarifications if c.answered is not None]
        start = answered[-1] if answered else clock.received
        days = working_day_period(clock.kind, clock.extended, targets)
        due = calendar.add_working_days(start, days)
        what = "clarification received" if answered else "receipt"
        return Deadline(due, False, f"{days} working days after {what} on {start}")
    months = SAR_MONTHS + (SAR_EXTENSION_MONTHS if clock.extended else 0)
    base = add_months(clock.received, months)
    paused = sum(
        ((c.answered - c.sought).days for c in clock.clarifications if c.answered is not None),
        0,
    )
    due = calendar.next_working_day(base + timedelta(days=paused))
    basis = f"{months} calendar month{'s' if months > 1 else ''} from receipt on {clock.received}"
    if paused:
        basis += f", plus {paused} days awaiting clarification"
    if due != base + timedelta(days=paused):
        basis += ", moved to the next working day"
    return Deadline(due, False, basis)


def days_left(due: date, today: date, calendar: WorkingCalendar) -> int:
    """Working days from ``today`` to ``due``; negative: working days overdue."""
    if today <= due:
        return calendar.working_days_between(today, due)
    return -calendar.working_days_between(due, today)
