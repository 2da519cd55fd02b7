"""The kinds of request and the law (or target) that sets each one's clock."""

from __future__ import annotations

from enum import StrEnum

from fivesafes.errors import ValidationError


class RequestKind(StrEnum):
    """What a request is made under; it decides the clock and the exemptions."""

    FOI = "foi"  # Freedom of Information Act 2000, s10: 20 working days
    EIR = "eir"  # Environmental Information Regulations 2004, reg 5(2)/7: 20, or 40 if complex
    SAR = "sar"  # UK GDPR Art 12(3): one month, extendable by two
    PQ = "pq"  # parliamentary question: the department's own target (a setting)
    AD_HOC = "ad-hoc"  # an ad hoc request for statistics: the producer's own target (a setting)


class Clocking(StrEnum):
    """How a kind's period is counted."""

    WORKING_DAYS = "working days"
    CALENDAR_MONTHS = "calendar months"


CLOCKING: dict[RequestKind, Clocking] = {
    RequestKind.FOI: Clocking.WORKING_DAYS,
    RequestKind.EIR: Clocking.WORKING_DAYS,
    RequestKind.SAR: Clocking.CALENDAR_MONTHS,
    RequestKind.PQ: Clocking.WORKING_DAYS,
    RequestKind.AD_HOC: Clocking.WORKING_DAYS,
}

# Where the law sets the period, for the case's page and the refusal notice.
LAW: dict[RequestKind, str] = {
    RequestKind.FOI: "Freedom of Information Act 2000, section 10",
    RequestKind.EIR: "Environmental Information Regulations 2004, regulations 5(2) and 7",
    RequestKind.SAR: "UK GDPR Article 12(3)",
    RequestKind.PQ: "the department's target for parliamentary questions",
    RequestKind.AD_HOC: "the producer's target for ad hoc requests",
}

_ALIASES = {"adhoc": RequestKind.AD_HOC, "ad_hoc": RequestKind.AD_HOC}


def parse_kind(text: str) -> RequestKind:
    """Return the kind named by ``text`` (any case; ``ad-hoc``, ``adhoc`` or ``ad_hoc``)."""
    key = text.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return RequestKind(key)
    except ValueError:
        known = ", ".join(k.value for k in RequestKind)
        raise ValidationError(
            f"unknown kind of request {text!r}", hint=f"use one of: {known}"
        ) from None
