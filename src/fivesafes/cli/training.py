"""``fivesafes training``: courses and completions."""

from __future__ import annotations

from datetime import datetime

import click

from fivesafes.cli.acting import DATE, as_date, call, emit, json_option


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
    course = call(
        "training.add_course", name=name, validity_months=validity_months, mandatory=mandatory
    )
    emit(
        course,
        as_json,
        lambda: f"course {course['name']!r}: valid {course['validity_months']} months",
    )


@training.command("courses")
@json_option
def courses(as_json: bool) -> None:
    """List the courses.

    \b
    Example:
      fivesafes training courses --json
    """
    found = call("training.courses")
    emit(
        found,
        as_json,
        lambda: "\n".join(
            f"{c['name']:<40} {c['validity_months']:>3} months"
            + ("  mandatory" if c["mandatory"] else "")
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
    done = call("training.record", login=login, course=course, completed=day, evidence=evidence)
    emit(done, as_json, lambda: f"{login}: {course!r} valid until {done['expires_on']}")


@training.command("status")
@click.argument("login", required=False)
@json_option
def status(login: str | None, as_json: bool) -> None:
    """Show every course for LOGIN (default: yourself) and whether it is valid today.

    \b
    Example:
      fivesafes training status ada
    """
    rows = call("training.status", login=login)

    def text() -> str:
        return "\n".join(
            f"{r['course']:<40} {'valid' if r['valid'] else 'NOT VALID':<9} "
            f"until {r['expires_on'] or '-'}"
            for r in rows
        )

    emit(rows, as_json, text)
