"""Restricted areas and the datasets registered in them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from fivesafes.errors import ValidationError

# \Z, not $: $ also matches before a final newline, which would let "name\n" through.
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}\Z")


def validate_name(kind: str, name: str) -> str:
    """Return ``name`` if it is a valid area or dataset name, else raise ValidationError."""
    if not _NAME.match(name):
        raise ValidationError(
            f"invalid {kind} name {name!r}",
            hint="use lower-case letters, digits, '_', '.' or '-' (at most 64), "
            "starting with a letter or digit",
        )
    return name


@dataclass(frozen=True)
class Area:
    """A restricted area: its owner approves grants; its courses are required to enter.

    ``withhold_thresholds``: the methods notes of its releases leave out exact rule
    thresholds (some organisations prefer not to help narrow down a hidden value).
    ``max_rows``: how many rows of a query's result may be shown outside the area
    (0: none; summaries of a few groups are shown whatever it is, see vault/row_level.py).
    """

    name: str
    owner: str  # login of the information asset owner
    required_courses: frozenset[str] = frozenset()
    withhold_thresholds: bool = False
    max_rows: int = 0


AREA_POLICY = "area policy"
PUBLISHER = "publisher"


@dataclass(frozen=True)
class ThresholdNote:
    """Whether a methods note states exact thresholds, and who decided to withhold them."""

    withhold: bool
    withheld_by: str = ""  # AREA_POLICY, PUBLISHER, or "" when stated


def threshold_note(area: Area, publisher_withholds: bool) -> ThresholdNote:
    """The note's threshold policy: the publisher may withhold more than the area, never less."""
    if area.withhold_thresholds:
        return ThresholdNote(True, AREA_POLICY)
    if publisher_withholds:
        return ThresholdNote(True, PUBLISHER)
    return ThresholdNote(False)


@dataclass(frozen=True)
class Dataset:
    """A registered dataset and the facts that make it confidential."""

    name: str
    area: str
    identifiable: bool
    not_public: bool
    harmful: bool
    source: str
    lawful_basis: str
    retention_until: date | None = None
    privacy_notice: str | None = None
    # A derived dataset holds a subset of the units of ``derived_from``, matched on the
    # column ``unit`` of both: the differencing check links their releases. A parent shows
    # its family's unit column (named at its registration, or set by its first derived
    # dataset) with no derived_from. A dataset that names its unit has its record keys
    # drawn by unit, the same for the whole family (vault/unit_keys.py).
    derived_from: str | None = None
    unit: str | None = None

    @property
    def confidential(self) -> bool:
        """True when all three parts of the definition of confidential hold."""
        return self.identifiable and self.not_public and self.harmful


def validate_dataset(dataset: Dataset, today: date) -> Dataset:
    """Return ``dataset`` if its register entry is complete, else raise ValidationError."""
    validate_name("dataset", dataset.name)
    if not dataset.source.strip():
        raise ValidationError("a dataset needs a source", hint="say where the data come from")
    if not dataset.lawful_basis.strip():
        raise ValidationError(
            "a dataset needs a lawful basis",
            hint="name the statutory basis, e.g. 'SRSA 2007 s.45' or 'UK GDPR Art 6(1)(e)'",
        )
    if dataset.retention_until is not None and dataset.retention_until < today:
        raise ValidationError(
            f"retention date {dataset.retention_until.isoformat()} is already past",
            hint="give a retention date in the future, or delete the data instead",
        )
    if dataset.derived_from is not None and dataset.unit is None:
        raise ValidationError(
            "a derived dataset needs both its parent and its unit identifier",
            hint="give --derived-from PARENT with --unit COLUMN (the column naming the unit "
            "in both datasets)",
        )
    if dataset.derived_from is not None and dataset.derived_from == dataset.name:
        raise ValidationError(
            f"dataset {dataset.name!r} cannot be derived from itself",
            hint="name the dataset whose units it is a subset of",
        )
    if dataset.unit is not None and not dataset.unit.strip():
        raise ValidationError("the unit identifier column is empty", hint="name a column")
    return dataset
