"""``fivesafes access``: decide (and audit) an access to a dataset."""

from __future__ import annotations

import click

from fivesafes.cli.acting import call, emit, json_option
from fivesafes.cli.colour import paint
from fivesafes.errors import AccessDenied


@click.group()
def access() -> None:
    """Access decisions: allowed only when every condition holds; every decision is audited.

    \b
    Examples:
      fivesafes access check ada ashe --purpose statistical
      fivesafes access check rex ashe --purpose statistical --project P-2026-001 --json
    """


@access.command("check")
@click.argument("person")
@click.argument("dataset")
@click.option("--purpose", required=True, help="Only 'statistical' is ever allowed.")
@click.option("--project", "project_ref", help="Approved project (approved researchers).")
@json_option
def check(person: str, dataset: str, purpose: str, project_ref: str | None, as_json: bool) -> None:
    """Decide whether PERSON may use DATASET now; print every reason that denies.

    Exit status 0 when allowed, 6 when denied (the decision is audited either way).

    \b
    Example:
      fivesafes access check ada ashe --purpose statistical
    """
    payload = call(
        "access.check", person=person, dataset=dataset, purpose=purpose, project=project_ref
    )

    def text() -> str:
        verdict = paint("ALLOWED" if payload["allowed"] else "DENIED")
        head = f"{verdict}: {person} -> {dataset} ({purpose})"
        return "\n".join([head, *(f"  - {r['message']}" for r in payload["reasons"])])

    emit(payload, as_json, text)
    if not payload["allowed"]:
        click.get_current_context().exit(AccessDenied.exit_status)
