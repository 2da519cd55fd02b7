"""Two independent, blinded reviews and what they add up to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from fivesafes.errors import ValidationError

REVIEWS_REQUIRED = 2


class Vote(StrEnum):
    """An output checker's verdict on one version of a request."""

    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"


class Verdict(IntEnum):
    """Aggregate of the votes, ordered so that ``max()`` fails closed."""

    APPROVED = 0
    PENDING = 1
    CHANGES_REQUESTED = 2
    CONFLICTED = 3
    REJECTED = 4


@dataclass(frozen=True)
class Review:
    """One reviewer's vote on one version of a request."""

    reviewer: str
    vote: Vote
    comment: str = ""
    version: int = 1


def check_can_review(reviewer: str, author: str, reviews: Sequence[Review], version: int) -> None:
    """Raise ValidationError when ``reviewer`` may not vote on this version."""
    if reviewer == author:
        raise ValidationError(
            "authors cannot review their own request",
            hint="ask two output checkers who did not write it",
        )
    current = [r for r in reviews if r.version == version]
    if any(r.reviewer == reviewer for r in current):
        raise ValidationError(
            f"{reviewer} has already reviewed version {version}",
            hint="each output checker votes once per version; changes need a new version",
        )
    if len(current) >= REVIEWS_REQUIRED:
        raise ValidationError(f"version {version} already has its {REVIEWS_REQUIRED} reviews")


def verdict(reviews: Sequence[Review], version: int) -> Verdict:
    """What the reviews of ``version`` add up to; short of two approvals is not approval."""
    # One vote per reviewer (the latest): two votes of one person are not two approvals.
    votes = list({r.reviewer: r.vote for r in reviews if r.version == version}.values())
    if len(votes) < REVIEWS_REQUIRED:
        return Verdict.PENDING
    kinds = set(votes)
    if kinds == {Vote.APPROVE}:
        return Verdict.APPROVED
    if kinds == {Vote.REJECT}:
        return Verdict.REJECTED
    if kinds == {Vote.REQUEST_CHANGES}:
        return Verdict.CHANGES_REQUESTED
    return Verdict.CONFLICTED


def visible_reviews(reviews: Sequence[Review], viewer: str, version: int) -> tuple[Review, ...]:
    """The reviews ``viewer`` may see: their own until both are in (blinded review), then all."""
    current = tuple(r for r in reviews if r.version == version)
    if len(current) >= REVIEWS_REQUIRED:
        return current
    return tuple(r for r in current if r.reviewer == viewer)
