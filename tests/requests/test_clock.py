"""The statutory clocks: FOI/EIR working days by nation, SAR months, clarification."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import ValidationError
from fivesafes.requests.calendar import Nation, WorkingCalendar, bank_holidays, parse_nation
from fivesafes.requests.clock import (
    Clarification,
    Clock,
    ClockTargets,
    add_months,
    check_extendable,
    days_left,
    deadline,
)
from fivesafes.requests.kinds import RequestKind, parse_kind

UK = WorkingCalendar(Nation.UK)
EW = WorkingCalendar(Nation.ENGLAND_AND_WALES)
SCOT = WorkingCalendar(Nation.SCOTLAND)
NI = WorkingCalendar(Nation.NORTHERN_IRELAND)
TARGETS = ClockTargets()


def due(kind: RequestKind, received: date, cal: WorkingCalendar = UK, **kw: object) -> date:
    result = deadline(Clock(kind, received, **kw), cal, TARGETS)  # type: ignore[arg-type]
    assert result.due is not None
    return result.due


# Hand-counted from the published bank holidays (gov.uk), several years and all nations.
FOI_CASES = [
    # Christmas 2024: Scotland's 2 January; UK counts out every nation's holidays.
    (date(2024, 12, 20), EW, date(2025, 1, 22)),
    (date(2024, 12, 20), NI, date(2025, 1, 22)),
    (date(2024, 12, 20), SCOT, date(2025, 1, 23)),
    (date(2024, 12, 20), UK, date(2025, 1, 23)),
    # Christmas 2025 (Thursday): received the Friday before.
    (date(2025, 12, 19), EW, date(2026, 1, 21)),
    (date(2025, 12, 19), UK, date(2026, 1, 22)),
    # Christmas 2026 falls on Friday: Boxing Day moves to Monday 28th; Scotland's
    # 2 January 2027 (Saturday) moves to Monday 4th.
    (date(2026, 12, 23), EW, date(2027, 1, 25)),
    (date(2026, 12, 23), SCOT, date(2027, 1, 26)),
    # Received on a Saturday; St Patrick's Day (NI) and Easter in the period.
    (date(2026, 3, 7), EW, date(2026, 4, 7)),
    (date(2026, 3, 7), NI, date(2026, 4, 8)),
    (date(2026, 3, 7), UK, date(2026, 4, 8)),
    # Received on a bank holiday (May Day 2026), Spring bank holiday in the period.
    (date(2026, 5, 4), EW, date(2026, 6, 2)),
    # Easter 2027: Easter Monday is no bank holiday in Scotland; St Patrick's Day (NI).
    (date(2027, 3, 15), EW, date(2027, 4, 14)),
    (date(2027, 3, 15), SCOT, date(2027, 4, 13)),
    (date(2027, 3, 15), NI, date(2027, 4, 15)),
    (date(2027, 3, 15), UK, date(2027, 4, 15)),
    # Summer bank holiday 2027: first Monday of August in Scotland, last elsewhere.
    (date(2027, 7, 30), EW, date(2027, 8, 27)),
    (date(2027, 7, 30), SCOT, date(2027, 8, 30)),
    (date(2027, 7, 30), UK, date(2027, 8, 31)),
    # May 2028: both May bank holidays, everywhere.
    (date(2028, 4, 28), EW, date(2028, 5, 30)),
    (date(2028, 4, 28), SCOT, date(2028, 5, 30)),
]


@pytest.mark.parametrize(("received", "calendar", "expected"), FOI_CASES)
def test_foi_twenty_working_days(received: date, calendar: WorkingCalendar, expected: date) -> None:
    assert due(RequestKind.FOI, received, calendar) == expected
    assert due(RequestKind.EIR, received, calendar) == expected


def test_receipt_on_a_weekend_counts_from_the_next_working_day() -> None:
    friday, saturday, sunday = date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 8)
    assert due(RequestKind.FOI, saturday) == due(RequestKind.FOI, sunday)
    # Friday's day one is the Monday too: the receipt day itself never counts.
    assert due(RequestKind.FOI, friday) == due(RequestKind.FOI, saturday)


def test_foi_public_interest_extension_adds_twenty_working_days() -> None:
    assert due(RequestKind.FOI, date(2026, 5, 4), EW, extended=True) == date(2026, 6, 30)


def test_eir_complex_extension_is_forty_working_days() -> None:
    plain = due(RequestKind.EIR, date(2026, 5, 4), EW)
    extended = due(RequestKind.EIR, date(2026, 5, 4), EW, extended=True)
    assert EW.working_days_between(date(2026, 5, 4), extended) == 40
    assert extended > plain


SAR_CASES = [
    (date(2026, 1, 31), UK, False, date(2026, 3, 2)),  # 28 Feb is a Saturday
    (date(2024, 1, 31), UK, False, date(2024, 2, 29)),  # leap year
    (date(2026, 1, 29), UK, False, date(2026, 3, 2)),  # 29th: February has none
    (date(2026, 1, 30), UK, False, date(2026, 3, 2)),
    (date(2026, 3, 31), UK, False, date(2026, 4, 30)),  # April has no 31st
    (date(2026, 1, 31), UK, True, date(2026, 4, 30)),  # extended by two months
    (date(2025, 11, 25), UK, False, date(2025, 12, 29)),  # Christmas and Boxing Day
    (date(2026, 10, 31), EW, False, date(2026, 11, 30)),
    (date(2026, 10, 31), SCOT, False, date(2026, 12, 1)),  # St Andrew's Day
    (date(2026, 3, 7), UK, False, date(2026, 4, 7)),  # received on a Saturday
]


@pytest.mark.parametrize(("received", "calendar", "extended", "expected"), SAR_CASES)
def test_sar_one_calendar_month(
    received: date, calendar: WorkingCalendar, extended: bool, expected: date
) -> None:
    assert due(RequestKind.SAR, received, calendar, extended=extended) == expected


def test_pq_and_ad_hoc_use_the_targets() -> None:
    targets = ClockTargets(pq_working_days=3, ad_hoc_working_days=7)
    received = date(2026, 6, 1)
    pq = deadline(Clock(RequestKind.PQ, received), EW, targets).due
    ad_hoc = deadline(Clock(RequestKind.AD_HOC, received), EW, targets).due
    assert pq == date(2026, 6, 4)
    assert ad_hoc == date(2026, 6, 10)
    with pytest.raises(ValidationError, match="no statutory extension"):
        check_extendable(RequestKind.PQ)


def test_clarification_stops_and_restarts_a_foi_clock() -> None:
    received = date(2026, 3, 2)
    asked = Clock(RequestKind.FOI, received, (Clarification(date(2026, 3, 4)),))
    stopped = deadline(asked, UK, TARGETS)
    assert stopped.due is None and stopped.stopped
    answered = Clock(
        RequestKind.FOI, received, (Clarification(date(2026, 3, 4), date(2026, 5, 5)),)
    )
    # A fresh 20 working days from the clarification's arrival.
    assert deadline(answered, EW, TARGETS).due == date(2026, 6, 3)


def test_clarification_pauses_a_sar_clock() -> None:
    clock = Clock(
        RequestKind.SAR, date(2026, 3, 2), (Clarification(date(2026, 3, 5), date(2026, 3, 10)),)
    )
    result = deadline(clock, UK, TARGETS)
    assert result.due == date(2026, 4, 7)  # 2 April plus the 5 days the clock stood
    assert "5 days awaiting clarification" in result.basis


def test_clarifications_out_of_order_are_refused() -> None:
    with pytest.raises(ValidationError, match="before"):
        deadline(
            Clock(RequestKind.FOI, date(2026, 3, 2), (Clarification(date(2026, 3, 1)),)),
            UK,
            TARGETS,
        )
    with pytest.raises(ValidationError, match="still open"):
        deadline(
            Clock(
                RequestKind.FOI,
                date(2026, 3, 2),
                (Clarification(date(2026, 3, 3)), Clarification(date(2026, 3, 4))),
            ),
            UK,
            TARGETS,
        )


def test_days_left_counts_working_days_and_goes_negative_when_overdue() -> None:
    assert days_left(date(2026, 3, 13), date(2026, 3, 9), EW) == 4
    assert days_left(date(2026, 3, 13), date(2026, 3, 13), EW) == 0
    assert days_left(date(2026, 3, 13), date(2026, 3, 16), EW) == -1


def test_bank_holidays_come_from_the_package_by_nation() -> None:
    assert date(2026, 3, 17) in bank_holidays(Nation.NORTHERN_IRELAND, 2026)
    assert date(2026, 3, 17) not in bank_holidays(Nation.ENGLAND_AND_WALES, 2026)
    assert date(2026, 11, 30) in bank_holidays(Nation.SCOTLAND, 2026)
    assert date(2026, 12, 25) in bank_holidays(Nation.UK, 2026)


def test_names_are_parsed_with_clear_errors() -> None:
    assert parse_kind("AD-HOC") is RequestKind.AD_HOC
    assert parse_nation("Scotland") is Nation.SCOTLAND
    with pytest.raises(ValidationError, match="foi, eir, sar, pq, ad-hoc"):
        parse_kind("fio")


days = st.dates(date(2020, 1, 1), date(2032, 12, 31))
nations = st.sampled_from(list(Nation))


@given(days, nations)
def test_foi_due_is_the_twentieth_working_day_after_receipt(received: date, nation: Nation) -> None:
    cal = WorkingCalendar(nation)
    result = due(RequestKind.FOI, received, cal)
    assert cal.is_working_day(result)
    assert cal.working_days_between(received, result) == 20
    assert cal.working_days_between(received, result - timedelta(days=1)) == 19


@given(days, nations)
def test_receipt_on_a_non_working_day_is_as_the_day_before(received: date, nation: Nation) -> None:
    cal = WorkingCalendar(nation)
    if not cal.is_working_day(received):
        previous = received - timedelta(days=1)
        assert due(RequestKind.FOI, received, cal) == due(RequestKind.FOI, previous, cal)


@given(days, days, nations)
def test_later_receipt_never_has_an_earlier_due_date(a: date, b: date, nation: Nation) -> None:
    cal = WorkingCalendar(nation)
    first, second = sorted((a, b))
    for kind in (RequestKind.FOI, RequestKind.SAR):
        assert due(kind, first, cal) <= due(kind, second, cal)


@given(days, st.integers(1, 3))
def test_add_months_is_the_corresponding_date_or_the_month_end(day: date, months: int) -> None:
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    if later.day != day.day:
        assert later.day < day.day
        assert (later + timedelta(days=1)).day == 1  # the last day of its month


@given(days, nations)
def test_sar_due_is_the_first_working_day_on_or_after_the_month(
    received: date, nation: Nation
) -> None:
    cal = WorkingCalendar(nation)
    result = due(RequestKind.SAR, received, cal)
    base = add_months(received, 1)
    assert cal.is_working_day(result)
    assert result >= base
    assert all(
        not cal.is_working_day(base + timedelta(days=i)) for i in range((result - base).days)
    )
