"""Operations of the periodic reviews of access and arrangements (Code of Practice T6.5)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from fivesafes.app import Acting, App
from fivesafes.governance.review import ReviewResult, check_window
from fivesafes.server.operation import Operation, Params, in_one
from fivesafes.services.governance import review as svc

Window = Field(ge=-(2**31), le=2**31 - 1)


class ReviewAccess(Params):
    within: int = Window
    as_of: date | None = None


class ReviewReport(Params):
    within: int = Window
    # a label of where the caller keeps the documents, recorded as given; never a path
    # the server writes to
    location: str = Field(default="delivered to the caller", min_length=1, max_length=1000)


class NoParams(Params):
    """No parameters."""


def result_json(result: ReviewResult) -> dict[str, Any]:
    """A review's findings as the CLI's --json prints them."""
    worst = result.worst()
    return {
        "as_of": result.as_of.isoformat(),
        "within_days": result.within_days,
        "worst": worst.name.lower() if worst else None,
        "counts": {c.value: n for c, n in result.counts().items()},
        "findings": [
            {
                "category": f.category.value,
                "severity": f.severity.name.lower(),
                "subject": f.subject,
                "item": f.item,
                "due": f.due.isoformat() if f.due else None,
                "days": f.days,
                "detail": f.detail,
                "remedy": f.remedy,
            }
            for f in result.findings
        ],
    }


def _access(app: App, login: str, p: ReviewAccess) -> Any:
    check_window(p.within)
    return in_one(
        app, login, lambda a: result_json(svc.review_access(a.session, p.as_of, p.within))
    )


def _report(app: App, login: str, p: ReviewReport) -> Any:
    check_window(p.within)

    def act(a: Acting) -> Any:
        done = svc.review_report(a.session, a.actor, p.location, within_days=p.within)
        return {"record": done.record, "markdown": done.markdown, "html": done.html}

    return in_one(app, login, act)


def _list(app: App, login: str, _p: NoParams) -> Any:
    def act(a: Acting) -> Any:
        return [
            {
                "id": r.id,
                "carried_out_by": r.carried_out_by,
                "carried_out_at": r.carried_out_at.isoformat(),
                "as_of": r.as_of.isoformat(),
                "within_days": r.within_days,
                "findings": r.findings_total,
                "markdown_sha256": r.markdown_sha256,
                "html_sha256": r.html_sha256,
                "location": r.location,
            }
            for r in svc.list_reviews(a.session)
        ]

    return in_one(app, login, act)


REVIEW_OPERATIONS = (
    Operation("review.access", ReviewAccess, _access, "What needs attention now (T6.5)."),
    Operation("review.report", ReviewReport, _report, "Record the periodic review; its documents."),
    Operation("review.list", NoParams, _list, "The periodic reviews carried out, newest first."),
)
