"""``fivesafes area``: restricted areas, their owners, required training and note policy."""

from __future__ import annotations

from typing import Any

import click

from fivesafes.cli.acting import call, emit, json_option


def _thresholds(a: dict[str, Any]) -> str:
    return "withheld" if a["withhold_thresholds"] else "stated"


def _line(a: dict[str, Any]) -> str:
    courses = "; ".join(sorted(a["required_courses"])) or "-"
    return (
        f"{a['name']:<20} owner {a['owner']:<16} thresholds in notes: {_thresholds(a):<8} "
        f"extra training: {courses}"
    )


def _rows(a: dict[str, Any]) -> str:
    n = int(a.get("max_rows", 0))
    if n == 0:
        return "none (summaries of a few groups only; rows leave through a release)"
    return f"at most {n:,} (each showing audited with its row count and hash)"


def _detail(a: dict[str, Any]) -> str:
    courses = "; ".join(sorted(a["required_courses"])) or "-"
    policy = (
        "withheld (area policy: methods notes do not state exact rule thresholds)"
        if a["withhold_thresholds"]
        else "stated (a publisher may still withhold them for one release)"
    )
    return "\n".join(
        [
            f"area {a['name']}",
            f"  owner: {a['owner']}",
            f"  extra training: {courses}",
            f"  thresholds in methods notes: {policy}",
            f"  rows a query may show: {_rows(a)}",
        ]
    )


@click.group()
def area() -> None:
    """Restricted areas: separate storage for confidential datasets.

    \b
    Examples:
      fivesafes area create earnings --owner iris --course "Earnings data"
      fivesafes area require-course earnings "Handling business data"
      fivesafes area set earnings --withhold-thresholds
      fivesafes area set earnings --max-rows 20
      fivesafes area show earnings
      fivesafes area list
    """


@area.command("create")
@click.argument("name")
@click.option("--owner", required=True, help="Login of the information asset owner.")
@click.option("--course", "courses", multiple=True, help="Extra course required (repeatable).")
@click.option("--description", default="", help="What the area holds.")
@click.option(
    "--withhold-thresholds",
    is_flag=True,
    help="Methods notes of this area's releases do not state exact rule thresholds.",
)
@json_option
def create(
    name: str,
    owner: str,
    courses: tuple[str, ...],
    description: str,
    withhold_thresholds: bool,
    as_json: bool,
) -> None:
    """Create area NAME owned by an information asset owner (administrators only).

    \b
    Example:
      fivesafes area create earnings --owner iris --course "Earnings data"
      fivesafes area create business --owner iris --withhold-thresholds
    """
    made = call(
        "area.create",
        name=name,
        owner=owner,
        courses=list(courses),
        description=description,
        withhold_thresholds=withhold_thresholds,
    )
    emit(made, as_json, lambda: f"created {_line(made)}")


@area.command("require-course")
@click.argument("name")
@click.argument("course")
@json_option
def require_course(name: str, course: str, as_json: bool) -> None:
    """Require COURSE for access to area NAME (administrators only).

    \b
    Example:
      fivesafes area require-course earnings "Earnings data"
    """
    changed = call("area.require_course", name=name, course=course)
    emit(changed, as_json, lambda: _line(changed))


@area.command("set")
@click.argument("name")
@click.option(
    "--withhold-thresholds/--state-thresholds",
    "withhold",
    default=None,
    help="Whether methods notes of this area's releases state exact rule thresholds.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(0),
    help="Rows of a query result that may be shown outside the area (0: none, summaries only).",
)
@json_option
def set_(name: str, withhold: bool | None, max_rows: int | None, as_json: bool) -> None:
    """Change a setting of area NAME (administrators only; audited).

    \b
    With --withhold-thresholds, every release published from the area leaves exact
    thresholds out of its methods note (a publisher cannot state them); with
    --state-thresholds, notes state them unless the publisher withholds them.

    \b
    With --max-rows N, `fivesafes query` may show a result of at most N rows (each
    showing audited with its row count and a SHA-256 of what was shown); 0, the
    default, shows only summaries of a few groups. Larger results stay in the area.

    \b
    Examples:
      fivesafes area set earnings --withhold-thresholds
      fivesafes area set earnings --max-rows 20
    """
    if withhold is None and max_rows is None:
        raise click.UsageError(
            "say what to set: --withhold-thresholds, --state-thresholds or --max-rows N"
        )
    changed = call("area.set", name=name, withhold=withhold, max_rows=max_rows)
    emit(changed, as_json, lambda: _detail(changed))


@area.command("show")
@click.argument("name")
@json_option
def show(name: str, as_json: bool) -> None:
    """Show area NAME: owner, required training, methods-note policy.

    \b
    Example:
      fivesafes area show earnings --json
    """
    found = call("area.show", name=name)
    emit(found, as_json, lambda: _detail(found))


@area.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the restricted areas.

    \b
    Example:
      fivesafes area list --json
    """
    found = call("area.list")
    emit(found, as_json, lambda: "\n".join(_line(a) for a in found) or "no areas")
