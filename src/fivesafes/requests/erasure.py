"""Erasure and rectification of a data subject's records: whether the lawful basis allows it.

UK GDPR Art 17(3)(d) takes data processed for archiving in the public interest, for
scientific or historical research or for statistics (Art 89) out of the right to
erasure; DPA 2018 Sch 2 Part 6 paras 27-28 let research, statistics and archiving set
aside rectification (Art 16) too, where honouring it would seriously impair the purpose.
A dataset registered under such a basis (its ``lawful_basis`` names statistics, research,
archiving, Art 89, or the Statistics and Registration Service Act) is therefore not
changed: the request is refused for it, with that reason recorded. Deny by default does
not apply the other way round: a basis that does not say so is taken to allow the right,
and the data protection officer decides what to ask for.
"""

from __future__ import annotations

import re
from enum import StrEnum

_EXEMPT = re.compile(
    r"statistic|research|archiv|art(icle)?\.?\s*89|\bsrsa\b|statistics and registration",
    re.IGNORECASE,
)


class SubjectRight(StrEnum):
    """The rights that change a subject's records."""

    ERASURE = "erasure"
    RECTIFICATION = "rectification"


_WHY = {
    SubjectRight.ERASURE: "UK GDPR Art 17(3)(d): the right to erasure does not apply",
    SubjectRight.RECTIFICATION: "DPA 2018 Sch 2 Part 6 para 27: rectification is exempt",
}


def refusal_reason(right: SubjectRight, lawful_basis: str) -> str | None:
    """Why ``right`` is refused for data held under ``lawful_basis``; None when it applies."""
    if _EXEMPT.search(lawful_basis):
        return (
            f"held for statistics, research or archiving ({lawful_basis}); "
            f"{_WHY[right]} to data processed for those purposes"
        )
    return None
