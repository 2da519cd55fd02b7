"""The organisation's settings for requests, as one frozen value the services take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fivesafes.requests.calendar import Nation, WorkingCalendar, parse_nation
from fivesafes.requests.clock import ClockTargets


@dataclass(frozen=True)
class RequestPolicy:
    """Where requesters' details are sealed, whose bank holidays count, the targets."""

    area: str = "requests"
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    targets: ClockTargets = field(default_factory=ClockTargets)
    retention_months: int = 36

    @classmethod
    def from_settings(cls, setting: Callable[[str], Any]) -> RequestPolicy:
        """The policy from a settings reader (``Workspace.setting``)."""
        return cls(
            area=str(setting("requests_area")),
            calendar=WorkingCalendar(parse_nation(str(setting("requests_calendar")))),
            targets=ClockTargets(
                pq_working_days=int(setting("requests_pq_working_days")),
                ad_hoc_working_days=int(setting("requests_ad_hoc_working_days")),
                foi_extension_working_days=int(setting("requests_foi_extension_working_days")),
            ),
            retention_months=int(setting("requests_retention_months")),
        )


NATIONS: tuple[str, ...] = tuple(n.value for n in Nation)
