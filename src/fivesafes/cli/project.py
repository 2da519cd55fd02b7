"""``fivesafes project``: approved research projects and their change requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from fivesafes.cli.acting import DATE, as_date, call, emit, json_option
from fivesafes.errors import ValidationError
from fivesafes.governance.research import STATISTICAL_PURPOSE
from fivesafes.governance.research_changes import ChangeKind
from fivesafes.governance.research_projects import ProjectStatus


def _line(p: dict[str, Any]) -> str:
    return (
        f"{p['reference']:<16} {p['status']:<9} {p['start']}..{p['end']} "
        f"lead {p['lead']:<12} {p['title']}"
    )


def _change_line(c: dict[str, Any]) -> str:
    fields = ", ".join(
        f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in sorted(c["payload"].items())
    )
    decided = f" by {c['decided_by']}" if c["decided_by"] else ""
    return (
        f"#{c['id']:<4} {c['kind']:<12} {c['status']:<9}{decided:<12} "
        f"requested by {c['requested_by']}: {c['reason']}{' (' + fields + ')' if fields else ''}"
    )


def _details(p: dict[str, Any]) -> str:
    lines = [
        f"{p['reference']}: {p['title']}",
        f"  status: {p['status']} (stored {p['stored_status']})",
        f"  dates: {p['start']} to {p['end']} (inclusive)",
        f"  purpose ({p['purpose_category']}): {p['purpose']}",
        f"  public benefit: {p['public_benefit']}",
        f"  lead: {p['lead']}; members: {', '.join(p['members']) or '-'}",
        f"  datasets: {', '.join(p['datasets'])}",
        f"  proposed by {p['proposed_by']}; decided by {p['decided_by'] or '-'}",
    ]
    if p["former_members"] or p["former_datasets"]:
        lines.append(
            f"  former members: {', '.join(p['former_members']) or '-'}; "
            f"former datasets: {', '.join(p['former_datasets']) or '-'}"
        )
    lines.append("  change requests:")
    lines += [f"    {_change_line(c)}" for c in p["changes"]] or ["    none"]
    return "\n".join(lines)


@click.group()
def project() -> None:
    """Approved research projects: purpose, public benefit, datasets, dates and team.

    \b
    States: proposed -> approved | rejected; approved -> closed. An approved
    project is "active" from its start to its end date (inclusive), "ended" after
    it until closed or extended; researchers
    reach data only through an active project that includes them and the dataset.
    The head of profession, or the information asset owner of every area in
    scope, approves - never the lead or a member. Changes (extend, change-scope,
    change-team, close) are requested by the lead and decided by an approver.

    \b
    Examples:
      fivesafes project propose PRJ-2026-001 --title "Earnings by region" \\
          --purpose "Regional earnings distributions" \\
          --public-benefit "Better local labour-market statistics" \\
          --dataset ashe --start 2026-07-01 --end 2027-06-30 --member rob
      fivesafes project approve PRJ-2026-001 --note "meets the criteria"
      fivesafes project request-change PRJ-2026-001 --kind extend --new-end 2027-12-31 \\
          --reason "fieldwork delayed"
      fivesafes project decide-change 1 approve --note "agreed"
      fivesafes project show PRJ-2026-001
    """


@project.command("propose")
@click.argument("reference")
@click.option("--title", required=True, help="Short title.")
@click.option("--purpose", required=True, help="The statistical purpose, in a sentence or two.")
@click.option(
    "--purpose-category",
    default=STATISTICAL_PURPOSE,
    show_default=True,
    help="Only 'statistical' is lawful.",
)
@click.option("--public-benefit", required=True, help="The public-benefit statement.")
@click.option("--dataset", "datasets", multiple=True, required=True, help="Dataset in scope.")
@click.option("--start", type=DATE, required=True, help="First day of the project.")
@click.option("--end", type=DATE, required=True, help="Last day of the project (inclusive).")
@click.option("--lead", help="LOGIN of the lead (default: you).")
@click.option("--member", "members", multiple=True, help="LOGIN of a team member (repeat).")
@json_option
def propose(
    reference: str,
    title: str,
    purpose: str,
    purpose_category: str,
    public_benefit: str,
    datasets: tuple[str, ...],
    start: datetime,
    end: datetime,
    lead: str | None,
    members: tuple[str, ...],
    as_json: bool,
) -> None:
    """Propose project REFERENCE (the lead; or an administrator/head of profession for them).

    \b
    Example:
      fivesafes project propose PRJ-2026-001 --title "Earnings by region" \\
          --purpose "Regional earnings" --public-benefit "Local policy" \\
          --dataset ashe --start 2026-07-01 --end 2027-06-30
    """
    view = call(
        "project.propose",
        reference=reference,
        title=title,
        purpose=purpose,
        purpose_category=purpose_category,
        public_benefit=public_benefit,
        datasets=list(datasets),
        start=start.date(),
        end=end.date(),
        lead=lead,
        members=list(members),
    )
    emit(view, as_json, lambda: f"proposed {_line(view)}")


@project.command("approve")
@click.argument("reference")
@click.option("--note", help="Note kept with the decision.")
@json_option
def approve(reference: str, note: str | None, as_json: bool) -> None:
    """Approve proposed project REFERENCE (head of profession or the datasets' asset owner).

    \b
    Example:
      fivesafes project approve PRJ-2026-001 --note "public benefit clear"
    """
    view = call("project.approve", reference=reference, note=note)
    emit(view, as_json, lambda: f"approved {_line(view)}")


@project.command("reject")
@click.argument("reference")
@click.option("--reason", required=True, help="Why (kept with the decision).")
@json_option
def reject(reference: str, reason: str, as_json: bool) -> None:
    """Reject proposed project REFERENCE (head of profession or the datasets' asset owner).

    \b
    Example:
      fivesafes project reject PRJ-2026-002 --reason "not a statistical purpose"
    """
    view = call("project.reject", reference=reference, reason=reason)
    emit(view, as_json, lambda: f"rejected {_line(view)}")


@project.command("request-change")
@click.argument("reference")
@click.option(
    "--kind",
    required=True,
    type=click.Choice([k.value for k in ChangeKind]),
    help="What to change.",
)
@click.option("--reason", required=True, help="Why the change is needed.")
@click.option("--new-end", type=DATE, help="extend: the new last day.")
@click.option("--add-dataset", "add_datasets", multiple=True, help="change-scope: add.")
@click.option("--remove-dataset", "remove_datasets", multiple=True, help="change-scope: remove.")
@click.option("--add-member", "add_members", multiple=True, help="change-team: add LOGIN.")
@click.option("--remove-member", "remove_members", multiple=True, help="change-team: remove.")
@json_option
def request_change(
    reference: str,
    kind: str,
    reason: str,
    new_end: datetime | None,
    add_datasets: tuple[str, ...],
    remove_datasets: tuple[str, ...],
    add_members: tuple[str, ...],
    remove_members: tuple[str, ...],
    as_json: bool,
) -> None:
    """Request a change to approved project REFERENCE (the lead or an approver).

    \b
    Examples:
      fivesafes project request-change PRJ-2026-001 --kind extend \\
          --new-end 2027-12-31 --reason "fieldwork delayed"
      fivesafes project request-change PRJ-2026-001 --kind change-scope \\
          --add-dataset idbr --reason "link business register"
      fivesafes project request-change PRJ-2026-001 --kind change-team \\
          --add-member tom --remove-member rob --reason "rob moved on"
      fivesafes project request-change PRJ-2026-001 --kind close --reason "finished"
    """
    change_kind = ChangeKind(kind)
    given = {
        "--new-end": new_end is not None,
        "--add-dataset/--remove-dataset": bool(add_datasets or remove_datasets),
        "--add-member/--remove-member": bool(add_members or remove_members),
    }
    allowed = {
        ChangeKind.EXTEND: "--new-end",
        ChangeKind.CHANGE_SCOPE: "--add-dataset/--remove-dataset",
        ChangeKind.CHANGE_TEAM: "--add-member/--remove-member",
        ChangeKind.CLOSE: None,
    }[change_kind]
    stray = [name for name, present in given.items() if present and name != allowed]
    if stray:
        raise ValidationError(
            f"{', '.join(stray)} do not belong to a {kind} request",
            hint=f"a {kind} request takes {allowed or 'only --reason'}",
        )
    view = call(
        "project.request_change",
        reference=reference,
        kind=change_kind,
        reason=reason,
        new_end=as_date(new_end),
        add_datasets=list(add_datasets),
        remove_datasets=list(remove_datasets),
        add_members=list(add_members),
        remove_members=list(remove_members),
    )
    emit(view, as_json, lambda: f"requested {_change_line(view)}")


@project.command("decide-change")
@click.argument("change_id", type=int)
@click.argument("decision", type=click.Choice(["approve", "reject"]))
@click.option("--note", help="Note kept with the decision.")
@json_option
def decide_change(change_id: int, decision: str, note: str | None, as_json: bool) -> None:
    """Approve or reject change request CHANGE_ID (an approver, never the lead).

    \b
    Examples:
      fivesafes project decide-change 3 approve --note "agreed at panel"
      fivesafes project decide-change 4 reject --note "use aggregates"
    """
    view = call("project.decide_change", change_id=change_id, decision=decision, note=note)
    emit(view, as_json, lambda: f"decided {_change_line(view)}")


@project.command("close")
@click.argument("reference")
@click.option("--reason", required=True, help="Why the project closes.")
@json_option
def close(reference: str, reason: str, as_json: bool) -> None:
    """Close approved project REFERENCE now (an approver); the lead uses request-change.

    \b
    Example:
      fivesafes project close PRJ-2026-001 --reason "outputs published"
    """
    view = call("project.close", reference=reference, reason=reason)
    emit(view, as_json, lambda: f"closed {_line(view)}")


@project.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in ProjectStatus]),
    help="Only projects with this status today.",
)
@json_option
def list_(status: str | None, as_json: bool) -> None:
    """List projects with their status today.

    \b
    Example:
      fivesafes project list --status active
    """
    found = call("project.list", status=status)
    emit(found, as_json, lambda: "\n".join(_line(p) for p in found) or "no projects")


@project.command("show")
@click.argument("reference")
@json_option
def show(reference: str, as_json: bool) -> None:
    """Show project REFERENCE with its team, scope and change history.

    \b
    Example:
      fivesafes project show PRJ-2026-001 --json
    """
    found = call("project.show", reference=reference)
    emit(found, as_json, lambda: _details(found))
