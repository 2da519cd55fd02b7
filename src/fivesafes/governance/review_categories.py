"""The kinds of review finding: their titles, severities and remedies, as one table.

The CLI, the report templates and docs/researchers-and-reviews.md all read
:data:`CATEGORIES`; a test checks the docs list every category with its remedy.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Severity(IntEnum):
    """How soon a finding needs action; ordered so that ``max()`` gives the worst."""

    NOTICE = 1  # falls due within the window: plan the renewal
    ACTION = 2  # overdue or lapsed: access already stops, tidy the record
    URGENT = 3  # a risk now: someone who should not hold access still does


class Category(StrEnum):
    """The kinds of review finding, in the order the report lists them."""

    LEAVER_WITH_GRANT = "leaver_with_grant"
    GRANT_OVERDUE = "grant_overdue"
    GRANT_DUE = "grant_due"
    TRAINING_MISSING = "training_missing"
    TRAINING_EXPIRED = "training_expired"
    TRAINING_EXPIRING = "training_expiring"
    TRAINING_SELF_RECORDED = "training_self_recorded"
    NO_DECLARATION = "no_declaration"
    DECLARATION_UNSIGNED = "declaration_unsigned"
    ACCREDITATION_LAPSED = "accreditation_lapsed"
    ACCREDITATION_EXPIRING = "accreditation_expiring"
    SUPERVISOR_MISSING = "supervisor_missing"
    PROJECT_PAST_END = "project_past_end"
    PROJECT_ENDING = "project_ending"


# Title, severity and the remedy of each category: one table that the CLI,
# the report and the docs all read.
@dataclass(frozen=True)
class CategoryInfo:
    """How a category is shown and what to do about it."""

    title: str
    severity: Severity
    remedy: str


CATEGORIES: dict[Category, CategoryInfo] = {
    Category.LEAVER_WITH_GRANT: CategoryInfo(
        "Leavers still holding grants",
        Severity.URGENT,
        "revoke the grant: fivesafes grant revoke ID",
    ),
    Category.GRANT_OVERDUE: CategoryInfo(
        "Grants past their end date (no longer work)",
        Severity.ACTION,
        "renew the grant if still needed; `fivesafes grant expire` records the end",
    ),
    Category.GRANT_DUE: CategoryInfo(
        "Grants to recertify",
        Severity.NOTICE,
        "confirm the need to know with the area's asset owner and renew or let lapse",
    ),
    Category.TRAINING_MISSING: CategoryInfo(
        "Required training never completed",
        Severity.ACTION,
        "book the course; access is refused until it is completed",
    ),
    Category.TRAINING_EXPIRED: CategoryInfo(
        "Training expired",
        Severity.ACTION,
        "retake the course; access is refused until it is completed",
    ),
    Category.TRAINING_EXPIRING: CategoryInfo(
        "Training expiring soon",
        Severity.NOTICE,
        "book a refresher before the expiry date",
    ),
    Category.TRAINING_SELF_RECORDED: CategoryInfo(
        "Training recorded by the administrator who holds it (the only one then)",
        Severity.NOTICE,
        "another administrator checks the evidence and records the completion again: "
        "fivesafes training record LOGIN COURSE --date DATE --evidence REF",
    ),
    Category.NO_DECLARATION: CategoryInfo(
        "No confidentiality declaration published",
        Severity.ACTION,
        "publish the declaration: fivesafes declaration publish FILE",
    ),
    Category.DECLARATION_UNSIGNED: CategoryInfo(
        "Current declaration not signed",
        Severity.ACTION,
        "ask the person to sign: fivesafes declaration sign",
    ),
    Category.ACCREDITATION_LAPSED: CategoryInfo(
        "Researchers with lapsed or no accreditation",
        Severity.ACTION,
        "record the re-accreditation or remove the researcher from projects",
    ),
    Category.ACCREDITATION_EXPIRING: CategoryInfo(
        "Accreditations expiring soon",
        Severity.NOTICE,
        "ask the researcher to apply for re-accreditation",
    ),
    Category.SUPERVISOR_MISSING: CategoryInfo(
        "Provisional researchers without a valid supervisor",
        Severity.ACTION,
        "name a new supervisor: fivesafes researcher supervisor LOGIN --supervisor OTHER",
    ),
    Category.PROJECT_PAST_END: CategoryInfo(
        "Projects past their end date",
        Severity.ACTION,
        "close the project or request an extension",
    ),
    Category.PROJECT_ENDING: CategoryInfo(
        "Projects ending soon",
        Severity.NOTICE,
        "ask the lead whether to extend or close",
    ),
}
