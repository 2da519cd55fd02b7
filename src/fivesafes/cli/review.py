"""``fivesafes review``: reviews of access and arrangements (Code of Practice T6.5)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from fivesafes.cli.acting import DATE, acting, as_date, emit, json_option
from fivesafes.governance.review import CATEGORIES, DEFAULT_WINDOW_DAYS, ReviewResult, check_window
from fivesafes.services.governance import review as svc
from fivesafes.services.governance.review import ReviewRecord

WITHIN_HELP = "Also list what falls due within this many days."


def _result_json(result: ReviewResult) -> dict[str, Any]:
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


def _result_text(result: ReviewResult) -> str:
    lines = [
        f"access review as of {result.as_of.isoformat()}, "
        f"window {result.within_days} days: {len(result.findings)} finding(s)"
    ]
    counts = result.counts()
    for category, info in CATEGORIES.items():
        if not counts[category]:
            continue
        lines.append(f"\n{info.title} ({counts[category]}) [{info.severity.name.lower()}]")
        lines.append(f"  what to do: {info.remedy}")
        lines += [f"  - {f.detail}" for f in result.by_category(category)]
    return "\n".join(lines)


def _record_text(rec: ReviewRecord) -> str:
    return "\n".join(
        [
            f"review #{rec.id} recorded: {rec.findings_total} finding(s) as of "
            f"{rec.as_of.isoformat()} by {rec.carried_out_by}",
            f"  {rec.markdown_path}  sha256 {rec.markdown_sha256}",
            f"  {rec.html_path}  sha256 {rec.html_sha256}",
        ]
    )


@click.group()
def review() -> None:
    """Regular reviews of access and arrangements (T6.5).

    \b
    `review access` lists what needs attention now: grants to recertify (due
    within the window) or past their end date, leavers still holding grants,
    training missing, expired or expiring, unsigned current declarations,
    researchers with lapsed or expiring accreditation or no valid supervisor,
    and projects past or near their end. Grants past their end date already stop
    working (the access decision checks the dates); the review lists them.
    `review report` writes the periodic review (markdown and HTML, with a chart)
    and records who carried it out, when, and the SHA-256 of both files in the
    audit log.

    \b
    Examples:
      fivesafes review access
      fivesafes review access --within 60 --json
      fivesafes review report --out reviews/2026-Q3
    """


@review.command("access")
@click.option(
    "--within", type=int, default=DEFAULT_WINDOW_DAYS, show_default=True, help=WITHIN_HELP
)
@click.option("--as-of", "as_of", type=DATE, help="Review as of this day (default today).")
@json_option
def access(within: int, as_of: datetime | None, as_json: bool) -> None:
    """List grants, training, declarations, accreditations and projects that need action.

    \b
    Examples:
      fivesafes review access --within 30
      fivesafes review access --as-of 2026-12-31 --json
    """
    check_window(within)
    with acting() as (_, session, _actor):
        result = svc.review_access(session, as_date(as_of), within)
    emit(_result_json(result), as_json, lambda: _result_text(result))


@review.command("report")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the report files (default: WORKSPACE/reviews).",
)
@click.option(
    "--within", type=int, default=DEFAULT_WINDOW_DAYS, show_default=True, help=WITHIN_HELP
)
@json_option
def report(out_dir: Path | None, within: int, as_json: bool) -> None:
    """Write the periodic review (review-DATE.md and .html) and record it in the audit log.

    Carried out by an administrator, the head of profession, the data protection
    officer or an information asset owner.

    \b
    Example:
      fivesafes review report --out reviews --within 60
    """
    check_window(within)
    with acting() as (workspace, session, actor):
        target = out_dir if out_dir is not None else workspace.home / "reviews"
        rec = svc.carry_out_review(session, actor, target, within_days=within)
    emit(rec, as_json, lambda: _record_text(rec))


@review.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the periodic reviews carried out, newest first.

    \b
    Example:
      fivesafes review list --json
    """
    with acting() as (_, session, _actor):
        rows = [
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
            for r in svc.list_reviews(session)
        ]
    emit(
        rows,
        as_json,
        lambda: (
            "\n".join(
                f"#{r['id']:<4} {r['as_of']} by {r['carried_out_by']:<12} "
                f"{r['findings']} finding(s) in {r['location']}"
                for r in rows
            )
            or "no reviews recorded"
        ),
    )
