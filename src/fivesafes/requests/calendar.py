"""Working days: weekdays that are not a bank holiday, by the rule of the law that applies.

FOIA s10(6) counts out "a bank holiday ... in any part of the United Kingdom", so the
FOIA calendar (``uk``) is every nation's bank holidays together; a Scottish public
authority under FOISA counts Scotland's only. The holidays come from the ``holidays``
package (each year's proclamations, substitute days and one-off holidays), never from a
hand-written list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

import holidays

from fivesafes.errors import ValidationError


class Nation(StrEnum):
    """Whose bank holidays a calendar counts out."""

    UK = "uk"  # any part of the UK (FOIA s10(6), EIR reg 2(1))
    ENGLAND_AND_WALES = "england-and-wales"
    SCOTLAND = "scotland"  # FOISA s73
    NORTHERN_IRELAND = "northern-ireland"


# The ``holidays`` package's subdivisions of GB for each calendar.
_SUBDIVISIONS: dict[Nation, tuple[str, ...]] = {
    Nation.UK: ("ENG", "WLS", "SCT", "NIR"),
    Nation.ENGLAND_AND_WALES: ("ENG", "WLS"),
    Nation.SCOTLAND: ("SCT",),
    Nation.NORTHERN_IRELAND: ("NIR",),
}


def parse_nation(text: str) -> Nation:
    """Return the calendar named by ``text``."""
    try:
        return Nation(text.strip().lower())
    except ValueError:
        known = ", ".join(n.value for n in Nation)
        raise ValidationError(
            f"unknown bank-holiday calendar {text!r}", hint=f"use one of: {known}"
        ) from None


@lru_cache(maxsize=256)
def bank_holidays(nation: Nation, year: int) -> frozenset[date]:
    """The bank holidays of ``nation`` in ``year`` (any of its parts for ``uk``)."""
    days: set[date] = set()
    for subdivision in _SUBDIVISIONS[nation]:
        days.update(holidays.country_holidays("GB", subdiv=subdivision, years=year))
    # FOIA s10(6) names Christmas Day and Good Friday besides the bank holidays; the
    # package lists both in every nation, and Christmas is added here in case it ever
    # moves it to a substitute day only.
    days.add(date(year, 12, 25))
    return frozenset(d for d in days if d.year == year)


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days: Monday to Friday, less a nation's bank holidays."""

    nation: Nation = Nation.UK

    def is_working_day(self, day: date) -> bool:
        """True on a weekday that is not a bank holiday of this calendar."""
        return day.weekday() < 5 and day not in bank_holidays(self.nation, day.year)

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself never counts)."""
        if count < 1:
            raise ValidationError(
                f"a period of {count} working days is not a period",
                hint="give a whole number of working days, at least 1",
            )
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count
