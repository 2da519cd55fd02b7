"""``fivesafes researcher``: approved researchers and their accreditations."""

from __future__ import annotations

from datetime import datetime

import click

from fivesafes.cli.acting import DATE, acting, as_date, emit, json_option
from fivesafes.governance.research import (
    ACCREDITATION_YEARS,
    AccreditationLevel,
    parse_level,
)
from fivesafes.services.research import researchers as svc
from fivesafes.services.research.researchers import AccreditationView, ResearcherView

LEVELS = ", ".join(f"{lvl.value} ({ACCREDITATION_YEARS[lvl]} years)" for lvl in AccreditationLevel)


def _acc_line(a: AccreditationView) -> str:
    sup = f" supervisor {a.supervisor}" if a.supervisor else ""
    state = "valid" if a.valid_today else "not valid today"
    return (
        f"{a.level:<11} {a.body} {a.reference}: {a.granted.isoformat()}..{a.expires.isoformat()} "
        f"({state}){sup}"
    )


def _line(r: ResearcherView) -> str:
    acc = _acc_line(r.current) if r.current else "no accreditation"
    flag = "accredited" if r.accredited else "NOT accredited"
    return f"{r.login:<16} {flag:<15} {acc}"


def _details(r: ResearcherView) -> str:
    lines = [
        f"{r.login} ({r.name}){'' if r.active else ' - leaver'}",
        f"  roles: {', '.join(r.roles) or '-'}",
        f"  accredited today: {'yes' if r.accredited else 'no'}"
        + ("" if r.supervisor_ok or r.current is None else " (no valid supervisor)"),
        "  safe researcher training: "
        + ("valid" if r.safe_researcher_training_valid else "not valid"),
        f"  projects: {', '.join(r.projects) or '-'}",
        "  accreditations (oldest first):",
    ]
    lines += [f"    {_acc_line(a)}" for a in r.history] or ["    none"]
    return "\n".join(lines)


@click.group()
def researcher() -> None:
    """Approved researchers: accreditation by an accrediting body, and its validity.

    \b
    A full accreditation lasts at most 5 years; a provisional one at most 3 years
    and needs a named supervisor (a member of staff or a fully accredited researcher).
    Researchers also need "Safe researcher training" (a course in the training
    register) and an active approved project: see `fivesafes project --help`.

    \b
    Examples:
      fivesafes researcher accredit rita --body "UK Statistics Authority" \\
          --reference DEA-2026-0042 --level full --granted 2026-01-10
      fivesafes researcher accredit rob --body UKSA --reference DEA-2026-0077 \\
          --level provisional --supervisor rita
      fivesafes researcher supervisor rob --supervisor sam
      fivesafes researcher list
      fivesafes researcher show rita --json
    """


@researcher.command("accredit")
@click.argument("login")
@click.option("--body", required=True, help="The accrediting body, e.g. 'UK Statistics Authority'.")
@click.option("--reference", required=True, help="The accreditation reference on the letter.")
@click.option("--level", required=True, help=f"Accreditation level: {LEVELS}.")
@click.option("--granted", type=DATE, help="Day it was granted (default today; not in the future).")
@click.option("--expires", type=DATE, help="Last valid day (default: the maximum for the level).")
@click.option("--supervisor", help="LOGIN of the supervisor (provisional accreditation only).")
@json_option
def accredit(
    login: str,
    body: str,
    reference: str,
    level: str,
    granted: datetime | None,
    expires: datetime | None,
    supervisor: str | None,
    as_json: bool,
) -> None:
    """Record the accreditation of researcher LOGIN (administrator or head of profession).

    \b
    Example:
      fivesafes researcher accredit rita --body "UK Statistics Authority" \\
          --reference DEA-2026-0042 --level full
    """
    with acting() as (_, session, actor):
        view = svc.accredit(
            session,
            actor,
            login,
            body=body,
            reference=reference,
            level=parse_level(level),
            granted=as_date(granted),
            expires=as_date(expires),
            supervisor=supervisor,
        )
    emit(view, as_json, lambda: f"accredited {login}: {_acc_line(view)}")


@researcher.command("supervisor")
@click.argument("login")
@click.option("--supervisor", required=True, help="LOGIN of the new supervisor.")
@json_option
def supervisor(login: str, supervisor: str, as_json: bool) -> None:
    """Name a new supervisor for LOGIN's provisional accreditation (e.g. the old one left).

    \b
    Example:
      fivesafes researcher supervisor rob --supervisor rita
    """
    with acting() as (_, session, actor):
        view = svc.change_supervisor(session, actor, login, supervisor)
    emit(view, as_json, lambda: f"supervisor of {login}: {_acc_line(view)}")


@researcher.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List approved researchers and whether each is accredited today.

    \b
    Example:
      fivesafes researcher list --json
    """
    with acting() as (_, session, _actor):
        found = svc.list_researchers(session)
    emit(found, as_json, lambda: "\n".join(_line(r) for r in found) or "no researchers")


@researcher.command("show")
@click.argument("login")
@json_option
def show(login: str, as_json: bool) -> None:
    """Show LOGIN's accreditations, training and projects.

    \b
    Example:
      fivesafes researcher show rita
    """
    with acting() as (_, session, _actor):
        found = svc.show_researcher(session, login)
    emit(found, as_json, lambda: _details(found))
