"""``fivesafes training``: courses and completions."""

from __future__ import annotations

from datetime import datetime

import click

from fivesafes.cli.acting import DATE, acting, as_date, emit, json_option
from fivesafes.services.governance import training as svc


@click.group()
def training() -> None:
    """Training courses and who completed them (valid for a number of months).

    The mandatory course "Responsible for information" exists in every workspace.

    \b
    Examples:
      fivesafes training add-course "Earnings data" --validity-months 24
      fivesafes training record ada "Responsible for information" --date 2026-01-10 \\
          --evidence "LMS certificate 4411"
      fivesafes training status ada
    """


@training.command("add-course")
@click.argument("name")
@click.option(
    "--validity-months",
    type=int,
    help="How long a pass lasts (default: the workspace's training_validity_months, 12).",
)
@click.option("--mandatory", is_flag=True, help="Required for every access, in every area.")
@json_option
def add_course(name: str, validity_months: int | None, mandatory: bool, as_json: bool) -> None:
    """Register a course (administrators only).

    \b
    Example:
      fivesafes training add-course "Earnings data" --validity-months 24
    """
    with acting() as (workspace, session, actor):
        default = int(workspace.setting("training_validity_months"))
        # 0 is a bad value to refuse, not "unset": only an absent option takes the default
        months = default if validity_months is None else validity_months
        course = svc.add_course(session, actor, name, months, mandatory)
    emit(course, as_json, lambda: f"course {course.name!r}: valid {course.validity_months} months")


@training.command("courses")
@json_option
def courses(as_json: bool) -> None:
    """List the courses.

    \b
    Example:
      fivesafes training courses --json
    """
    with acting() as (_, session, _actor):
        found = svc.list_courses(session)
    emit(
        found,
        as_json,
        lambda: "\n".join(
            f"{c.name:<40} {c.validity_months:>3} months{'  mandatory' if c.mandatory else ''}"
            for c in found
        ),
    )


@training.command("record")
@click.argument("login")
@click.argument("course")
@click.option("--date", "completed", type=DATE, required=True, help="Completion date YYYY-MM-DD.")
@click.option("--evidence", help="Evidence reference (certificate number, LMS record, ...).")
@json_option
def record(
    login: str, course: str, completed: datetime, evidence: str | None, as_json: bool
) -> None:
    """Record that LOGIN completed COURSE (administrators only, with the evidence).

    \b
    Example:
      fivesafes training record ada "Responsible for information" --date 2026-01-10
    """
    day = as_date(completed)
    assert day is not None
    with acting() as (_, session, actor):
        done = svc.record_completion(session, actor, login, course, day, evidence)
    emit(done, as_json, lambda: f"{login}: {course!r} valid until {done.expires_on.isoformat()}")


@training.command("status")
@click.argument("login", required=False)
@json_option
def status(login: str | None, as_json: bool) -> None:
    """Show every course for LOGIN (default: yourself) and whether it is valid today.

    \b
    Example:
      fivesafes training status ada
    """
    with acting() as (_, session, actor):
        rows = svc.training_of(session, login or actor.login)

    def text() -> str:
        return "\n".join(
            f"{r.course:<40} {'valid' if r.valid else 'NOT VALID':<9} "
            f"until {r.expires_on.isoformat() if r.expires_on else '-'}"
            for r in rows
        )

    emit(rows, as_json, text)
