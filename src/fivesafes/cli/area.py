"""``fivesafes area``: restricted areas, their owners and required training."""

from __future__ import annotations

import click

from fivesafes.cli.acting import acting, emit, json_option
from fivesafes.governance.areas import Area
from fivesafes.services import areas as svc


def _line(a: Area) -> str:
    courses = "; ".join(sorted(a.required_courses)) or "-"
    return f"{a.name:<20} owner {a.owner:<16} extra training: {courses}"


@click.group()
def area() -> None:
    """Restricted areas: separate storage for confidential datasets.

    \b
    Examples:
      fivesafes area create earnings --owner iris --course "Earnings data"
      fivesafes area require-course earnings "Handling business data"
      fivesafes area list
    """


@area.command("create")
@click.argument("name")
@click.option("--owner", required=True, help="Login of the information asset owner.")
@click.option("--course", "courses", multiple=True, help="Extra course required (repeatable).")
@click.option("--description", default="", help="What the area holds.")
@json_option
def create(
    name: str, owner: str, courses: tuple[str, ...], description: str, as_json: bool
) -> None:
    """Create area NAME owned by an information asset owner (administrators only).

    \b
    Example:
      fivesafes area create earnings --owner iris --course "Earnings data"
    """
    with acting() as (_, session, actor):
        made = svc.create_area(session, actor, name, owner, courses, description)
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
    with acting() as (_, session, actor):
        changed = svc.require_course(session, actor, name, course)
    emit(changed, as_json, lambda: _line(changed))


@area.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the restricted areas.

    \b
    Example:
      fivesafes area list --json
    """
    with acting() as (_, session, _actor):
        found = svc.list_areas(session)
    emit(found, as_json, lambda: "\n".join(_line(a) for a in found) or "no areas")
