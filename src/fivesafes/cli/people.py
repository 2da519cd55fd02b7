"""``fivesafes people``: the register of people and their roles."""

from __future__ import annotations

from typing import Any

import click

from fivesafes.cli.acting import call, emit, json_option
from fivesafes.governance.roles import Role, parse_roles

ROLE_HELP = "Role (repeat or comma-separate): " + ", ".join(r.value for r in Role)


def _line(p: dict[str, Any]) -> str:
    roles = ",".join(sorted(p["roles"])) or "-"
    return f"{p['login']:<16} {p['status']:<7} {roles:<40} {p['name']}"


@click.group()
def people() -> None:
    """Register people, their roles, and leavers.

    \b
    Examples:
      fivesafes people add ada --name "Ada Lovelace" --role statistician
      fivesafes people roles ada --add output_checker
      fivesafes people leave ada --reason "moved department"
      fivesafes people list --json
    """


@people.command("add")
@click.argument("login")
@click.option("--name", required=True, help="Full name.")
@click.option("--role", "roles", multiple=True, help=ROLE_HELP)
@json_option
def add(login: str, name: str, roles: tuple[str, ...], as_json: bool) -> None:
    """Register LOGIN (administrators only).

    \b
    Example:
      fivesafes people add ada --name "Ada Lovelace" --role statistician,output_checker
    """
    parse_roles(roles)  # a bad role is refused here, before any call
    person = call("people.add", login=login, name=name, roles=list(roles))
    emit(person, as_json, lambda: f"registered {_line(person)}")


@people.command("roles")
@click.argument("login")
@click.option("--add", "adds", multiple=True, help="Role to give. " + ROLE_HELP)
@click.option("--remove", "removes", multiple=True, help="Role to take away.")
@json_option
def roles(login: str, adds: tuple[str, ...], removes: tuple[str, ...], as_json: bool) -> None:
    """Give or take away roles (administrators only).

    \b
    Example:
      fivesafes people roles ada --add information_asset_owner --remove output_checker
    """
    person = call("people.roles", login=login, add=list(adds), remove=list(removes))
    emit(person, as_json, lambda: _line(person))


@people.command("leave")
@click.argument("login")
@click.option("--reason", default="left", show_default=True, help="Why (kept in the audit log).")
@json_option
def leave(login: str, reason: str, as_json: bool) -> None:
    """Mark LOGIN as a leaver: all access stops now and approved grants are revoked.

    \b
    Example:
      fivesafes people leave ada --reason "left the department"
    """
    person = call("people.leave", login=login, reason=reason)
    emit(person, as_json, lambda: f"leaver: {_line(person)}")


@people.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List every registered person.

    \b
    Example:
      fivesafes people list --json
    """
    everyone = call("people.list")
    emit(everyone, as_json, lambda: "\n".join(_line(p) for p in everyone) or "nobody registered")


@people.command("show")
@click.argument("login")
@json_option
def show(login: str, as_json: bool) -> None:
    """Show one person: roles, training, declaration signatures and grants.

    \b
    Example:
      fivesafes people show ada --json
    """
    summary = call("people.show", login=login)

    def text() -> str:
        current = summary["current_declaration"]
        signed = (
            "none published"
            if current is None
            else (
                f"v{current} signed"
                if current in summary["signed_declarations"]
                else f"v{current} NOT signed"
            )
        )
        lines = [_line(summary["person"]), f"  declaration: {signed}"]
        lines += [
            f"  training: {t['course']}: {'valid' if t['valid'] else 'NOT VALID'}"
            + (f" until {t['expires_on']}" if t["expires_on"] else "")
            for t in summary["training"]
        ]
        lines += [
            f"  grant #{g['id']}: {g['area']} {g['state']} until {g['end_on']}"
            for g in summary["grants"]
        ]
        return "\n".join(lines)

    emit(summary, as_json, text)
