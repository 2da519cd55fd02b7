"""Where a submitted output comes from (DATASET:MEASURE), and whether the system proved it.

The differencing check compares a new output with every release of the same source, so
the source decides what the check sees. A table made by ``table protect --dataset`` and
stored in its area carries the source in its provenance: *verified*. Anything else (a
folder, a file) has a source the author *declared*: it must at least name a dataset
registered in the area and the table's own measure, and the reviewers are told that
nobody proved it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from fivesafes.errors import NotFoundError, ValidationError
from fivesafes.release.checks import CheckResult, CheckVerdict
from fivesafes.release.submission import Submission, TableSubmission

SOURCE_CHECK = "source"
UNVERIFIED = "source declared by the author, not verified"


@dataclass(frozen=True)
class SourceOrigin:
    """A submission's source and how it is known: from a stored output's provenance or not."""

    source: str  # DATASET:MEASURE
    verified: bool
    output: str | None = None  # AREA/NAME of the stored output it was read from
    object_id: str | None = None
    # how it was proven, for the reviewers (default: a stored output's provenance)
    proof: str = ""

    @property
    def proven_by(self) -> str:
        """One sentence on how the system knows the source."""
        return self.proof or (
            f"stored output {self.output} was made by `table protect` from {self.source}"
        )


def split_source(source: str) -> tuple[str, str]:
    """(dataset, measure) of ``DATASET:MEASURE``; ValidationError otherwise."""
    dataset, sep, measure = source.partition(":")
    if not sep or not dataset.strip() or not measure.strip() or ":" in measure:
        raise ValidationError(
            f"source {source!r} is not DATASET:MEASURE",
            hint="e.g. --source survey:turnover (a count table's measure is 'count')",
        )
    return dataset.strip(), measure.strip()


def declared_source(
    source: str | None, submission: Submission, registered: Collection[str], area: str
) -> SourceOrigin:
    """The author's ``--source``, checked as far as it can be: not verified."""
    names = ", ".join(sorted(registered)) or "none"
    if source is None:
        raise ValidationError(
            "say which dataset and measure the output comes from",
            hint=f"give --source DATASET:MEASURE (datasets of area {area}: {names}); a table "
            "made with `table protect --dataset` is submitted with --output AREA/NAME instead",
        )
    dataset, measure = split_source(source)
    if dataset not in registered:
        raise NotFoundError(
            f"--source {source!r}: area {area} has no registered dataset {dataset!r}",
            hint=f"name a dataset registered in area {area}: {names}",
        )
    own = submission.measure if isinstance(submission, TableSubmission) else None
    if own is not None and own != measure:
        raise ValidationError(
            f"--source {source!r} names measure {measure!r}, but the table's spec "
            f"tabulates {own!r}",
            hint=f"use --source {dataset}:{own}",
        )
    return SourceOrigin(f"{dataset}:{measure}", verified=False)


def proven_source(proven: SourceOrigin, declared: str | None) -> SourceOrigin:
    """A stored output's source; a ``--source`` that contradicts it is refused."""
    if declared is not None and declared.strip() != proven.source:
        raise ValidationError(
            f"--source {declared!r} contradicts the provenance of {proven.output}: "
            f"{proven.proven_by}",
            hint="leave out --source: the source is taken from the proven provenance",
        )
    return proven


def same_request_source(origin: SourceOrigin, request_source: str, request_id: int) -> None:
    """A new version keeps its request's source (the differencing check is per source)."""
    if origin.source != request_source:
        raise ValidationError(
            f"request #{request_id} is about {request_source}, this output comes from "
            f"{origin.source}",
            hint="submit it as a new request (leave out --request)",
        )


def source_check(origin: SourceOrigin) -> CheckResult:
    """PASS when the system proved the source; REVIEW (for the reviewers) when declared."""
    details = {
        "source": origin.source,
        "verified": origin.verified,
        "output": origin.output,
        "object_id": origin.object_id,
    }
    if origin.verified:
        return CheckResult(
            SOURCE_CHECK,
            CheckVerdict.PASS,
            f"verified: {origin.proven_by}",
            details,
        )
    return CheckResult(
        SOURCE_CHECK,
        CheckVerdict.REVIEW,
        f"{UNVERIFIED}: confirm the output comes from {origin.source} (the differencing "
        "check compares it only with releases of that source)",
        details,
    )
