"""Verdicts and the names of the checks (ACRO's names, so TREs compare like for like)."""

from __future__ import annotations

from enum import IntEnum


class Verdict(IntEnum):
    """An output's or a check's verdict, ordered so that ``max()`` fails closed."""

    PASS = 0
    REVIEW = 1
    FAIL = 2

    @property
    def text(self) -> str:
        """ACRO's spelling: ``pass``, ``review`` or ``fail``."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Verdict:
        """From ACRO's spelling; anything unknown is ``FAIL`` (fail closed)."""
        return {"pass": cls.PASS, "review": cls.REVIEW}.get(str(text).strip().lower(), cls.FAIL)


THRESHOLD = "MinimumThresholdCheck"
ZERO = "PresenceOfZeroCheck"
NK = "NKCheck"
P_RATIO = "PPercentCheck"
DOF = "MinimumDoFCheck"
MISSING = "MissingCheck"
NEGATIVE = "NegativeValuesCheck"
DIFFERENCING = "DifferencingCheck"
SECONDARY = "SecondarySuppression"
SMALL_GROUP = "SmallGroupCheck"  # fivesafes: a regression coefficient resting on few records
EXTREME = "ExtremeValueReview"  # fivesafes: a minimum, maximum or histogram edge is a value

# checks whose flag on a cell means the cell is disclosive (fail); the others ask for review
FAILING_CHECKS = frozenset({THRESHOLD, ZERO, NK, P_RATIO, DOF})
