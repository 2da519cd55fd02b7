"""``fivesafes researcher``: approved researchers and their accreditations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from fivesafes.cli.acting import DATE, as_date, call, emit, json_option
from fivesafes.governance.research import ACCREDITATION_YEARS, AccreditationLevel

LEVELS = ", ".join(f"{lvl.value} ({ACCREDITATION_YEARS[lvl]} years)" for lvl in AccreditationLevel)


def _acc_line(a: dict[str, Any]) -> str:
    sup = f" supervisor {a['supervisor']}" if a["supervisor"] else ""
    state = "valid" if a["valid_today"] else "not valid today"
    return (
        f"{a['level']:<11} {a['body']} {a['reference']}: {a['granted']}..{a['expires']} "
        f"({state}){sup}"
    )


def _line(r: dict[str, Any]) -> str:
    acc = _acc_line(r["current"]) if r["current"] else "no accreditation"
    flag = "accredited" if r["accredited"] else "NOT accredited"
    return f"{r['login']:<16} {flag:<15} {acc}"


def _details(r: dict[str, Any]) -> str:
    lines = [
        f"{r['login']} ({r['name']}){'' if r['active'] else ' - leaver'}",
        f"  roles: {', '.join(r['roles']) or '-'}",
        f"  accredited today: {'yes' if r['accredited'] else 'no'}"
        + ("" if r["supervisor_ok"] or r["current"] is None else " (no valid supervisor)"),
        "  safe researcher training: "
        + ("valid" if r["safe_researcher_training_valid"] else "not valid"),
        f"  projects: {', '.join(r['projects']) or '-'}",
        "  accreditations (oldest first):",
    ]
    lines += [f"    {_acc_line(a)}" for a in r["history"]] or ["    none"]
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
    view = call(
        "researcher.accredit",
        login=login,
        body=body,
        reference=reference,
        level=level,
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
    view = call("researcher.supervisor", login=login, supervisor=supervisor)
    emit(view, as_json, lambda: f"supervisor of {login}: {_acc_line(view)}")


@researcher.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List approved researchers and whether each is accredited today.

    \b
    Example:
      fivesafes researcher list --json
    """
    found = call("researcher.list")
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
    found = call("researcher.show", login=login)
    emit(found, as_json, lambda: _details(found))
