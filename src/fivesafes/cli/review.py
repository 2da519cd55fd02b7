"""``fivesafes review``: reviews of access and arrangements (Code of Practice T6.5)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from fivesafes.cli.acting import DATE, as_date, call, emit, json_option, opened, server
from fivesafes.cli.output_folder import check_files_folder, place_files, text_file
from fivesafes.errors import WorkspaceError
from fivesafes.governance.review import CATEGORIES, DEFAULT_WINDOW_DAYS, check_window

WITHIN_HELP = "Also list what falls due within this many days."


def _result_text(result: dict[str, Any]) -> str:
    findings = result["findings"]
    lines = [
        f"access review as of {result['as_of']}, "
        f"window {result['within_days']} days: {len(findings)} finding(s)"
    ]
    counts = result["counts"]
    for category, info in CATEGORIES.items():
        if not counts.get(category.value):
            continue
        lines.append(f"\n{info.title} ({counts[category.value]}) [{info.severity.name.lower()}]")
        lines.append(f"  what to do: {info.remedy}")
        lines += [f"  - {f['detail']}" for f in findings if f["category"] == category.value]
    return "\n".join(lines)


def _record_text(rec: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"review #{rec['id']} recorded: {rec['findings_total']} finding(s) as of "
            f"{rec['as_of']} by {rec['carried_out_by']}",
            f"  {rec['markdown_path']}  sha256 {rec['markdown_sha256']}",
            f"  {rec['html_path']}  sha256 {rec['html_sha256']}",
        ]
    )


def _check_writable(target: Path) -> None:
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        raise WorkspaceError(
            f"cannot create the report directory {target}: {existing} is not a writable folder",
            hint="give --out a directory you can write to",
        )


def _default_dir() -> Path:
    # in process the reports stay with the workspace, as before; through the server the
    # caller keeps them here (the server writes no file for a client)
    if server() is not None:
        return Path("reviews")
    with opened() as (app, _login):
        return app.workspace.home / "reviews"


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
    result = call("review.access", within=within, as_of=as_date(as_of))
    emit(result, as_json, lambda: _result_text(result))


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
    target = out_dir if out_dir is not None else _default_dir()
    # a folder that cannot be made is refused before anything is recorded, but it is made
    # only once the review is (a refused reviewer leaves nothing behind)
    _check_writable(target)
    # a symbolic link for the folder, or where today's files go, is refused (also before
    # anything is recorded): writing through it would put the review (people's names)
    # wherever it points, and the rename would replace someone's link
    today = datetime.now(UTC).date()  # the day the review is dated (services.context.now)
    from fivesafes.services.governance.review import report_paths  # not for --help

    check_files_folder(target, [p.name for p in report_paths(target, today)], option="--out")
    done = call("review.report", within=within, location=str(target.resolve()))
    rec = done["record"]
    md_path, html_path = report_paths(target, date.fromisoformat(rec["as_of"]))
    # both files or neither, 0600, each renamed into place (a link there refused again)
    place_files(
        target,
        {md_path.name: text_file(done["markdown"]), html_path.name: text_file(done["html"])},
        option="--out",
    )
    rec = {**rec, "markdown_path": str(md_path), "html_path": str(html_path)}
    emit(rec, as_json, lambda: _record_text(rec))


@review.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the periodic reviews carried out, newest first.

    \b
    Example:
      fivesafes review list --json
    """
    rows = call("review.list")
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
