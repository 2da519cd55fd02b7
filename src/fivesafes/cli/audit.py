"""``fivesafes audit``: verify the tamper-evident log, read it, sign a checkpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fivesafes.cli.acting import call, opened, server
from fivesafes.errors import ValidationError

if TYPE_CHECKING:  # the database's code: imported where a command runs, not for --help
    from fivesafes.services.audit_log import VerifyReport
    from fivesafes.services.context import Actor
    from fivesafes.workspace import Workspace

WHEN = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])


@contextmanager
def _as_registered_person() -> Iterator[tuple[Workspace, Actor]]:
    # Every audit command needs a registered, active person; reading events needs more
    # (services/audit_log.py).
    with opened() as (app, login):
        yield app.workspace, app.actor(login)


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit log: verify it, read it, sign a checkpoint.

    \b
    Examples:
      fivesafes audit verify
      fivesafes audit log --person alice --since 2026-01-01
      fivesafes audit checkpoint
    """


def _render_report(report: VerifyReport) -> str:
    lines = []
    if report.ok:
        lines.append(
            f"audit log OK: {report.events} events, head {report.head_hash[:16]}..., "
            f"{report.checkpoints_verified} checkpoint(s) verified"
            + ("" if report.signatures_checked else " (signatures NOT checked)")
        )
    else:
        first = report.first_bad
        assert first is not None
        lines.append(
            f"audit log BROKEN: {report.problem_count} problem(s) in {report.events} events"
        )
        lines.append(f"first bad event: {first.seq}: {first.message}")
        for problem in sorted(report.problems, key=lambda p: p.seq)[:20]:
            if problem is not first:
                lines.append(f"  event {problem.seq} [{problem.kind}]: {problem.message}")
    lines.extend(f"warning: {w}" for w in report.warnings)
    return "\n".join(lines)


@audit.command("verify")
@click.option(
    "--public-key",
    "public_key_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Verify checkpoint signatures with this copy of keys/workspace-signing.pub "
    "(keep one outside the workspace: a key replaced inside it proves nothing).",
)
@click.option(
    "--parallel",
    is_flag=True,
    help="Verify a large chain (over 200,000 events) in up to 4 processes; faster only "
    "on an otherwise idle multi-core machine.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The verifier's own state file, kept OUTSIDE the workspace: pins the log's key on "
    "first use and remembers the last verified checkpoint, so a log cut below it (even "
    "with every checkpoint deleted) fails. Updated after a clean run.",
)
@click.option(
    "--witness",
    "witnesses",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A witness copy of the checkpoints (the file, or the witness folder); the chain "
    "must match every checkpoint in it. Repeatable.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(
    public_key_path: Path | None,
    parallel: bool,
    state_path: Path | None,
    witnesses: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Check every event, every signed checkpoint and the genesis event.

    Detects any modified, deleted, inserted or reordered event and names the
    first bad one; checks each checkpoint's signature and that the chain still
    hashes to it (in the database, in audit-checkpoints.log and in every
    --witness copy). Fails when no signed checkpoint covers the log, when
    events follow the last one, when event 1 is not this workspace's signed
    creation, and when the log is shorter than the checkpoint --state saw.
    Exit status 0 when intact, 7 when not.

    \b
    Examples:
      fivesafes audit verify
      fivesafes audit verify --public-key /secure/copy/workspace-signing.pub --json
      fivesafes audit verify --state /secure/verifier/ws.json --witness /mnt/witness
    """
    if server() is not None:
        report = _verify_through_server(public_key_path, parallel, state_path, witnesses)
    else:
        from fivesafes.services.audit_log import verify_log
        from fivesafes.workspace import load_public_key

        with _as_registered_person() as (workspace, _actor):
            public_key = load_public_key(public_key_path) if public_key_path else None
            report = verify_log(
                workspace,
                public_key=public_key,
                parallel=parallel,
                state_path=state_path,
                witnesses=witnesses,
            )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(_render_report(report))
    report.raise_if_bad()


def _verify_through_server(
    public_key_path: Path | None,
    parallel: bool,
    state_path: Path | None,
    witnesses: tuple[Path, ...],
) -> VerifyReport:
    # The verifier's state and the witness copies are the caller's own, kept away from
    # the workspace: checked against a report the server computes they would prove no
    # more than the server's word, so they stay with a verifier on a copy of the log.
    if state_path is not None or witnesses:
        raise ValidationError(
            "--state and --witness are not available through the server: they check the "
            "log against copies the server must not be trusted with",
            hint="run `fivesafes audit verify --state ... --witness ...` on the server's "
            "machine (or on a restored backup) with FIVESAFES_SERVER unset",
        )
    public_key = None
    if public_key_path is not None:
        from fivesafes.workspace import load_public_key

        load_public_key(public_key_path)  # checked here first: the same error as in process
        public_key = public_key_path.read_bytes().decode(errors="replace")
    from fivesafes.services.audit_log import VerifyReport

    return VerifyReport.from_dict(call("audit.verify", public_key=public_key, parallel=parallel))


def _render_event(row: dict[str, Any]) -> str:
    where = "/".join(x for x in (row["area"], row["dataset"]) if x)
    parts = [
        f"{row['seq']:>7}",
        row["at"][:19].replace("T", " "),
        row["actor"],
        row["action"],
        row["outcome"],
    ]
    if where:
        parts.append(f"in {where}")
    if row["subject"]:
        parts.append(f"on {row['subject']}")
    if row["details"]:
        parts.append(json.dumps(row["details"], sort_keys=True, ensure_ascii=False))
    return "  ".join(parts)


@audit.command("log")
@click.option("--person", help="Events where this login is the actor or the subject.")
@click.option("--actor", help="Events done by this login.")
@click.option("--subject", help="Events done to this person or thing.")
@click.option("--area", help="Events in this restricted area.")
@click.option("--dataset", help="Events on this dataset.")
@click.option("--action", help="This action, e.g. grant.approve; 'grant.*' for a prefix.")
@click.option("--since", type=WHEN, help="From this UTC date/time (inclusive).")
@click.option("--until", type=WHEN, help="Before this UTC date/time (exclusive).")
@click.option(
    "--limit", type=click.IntRange(min=1), default=100, show_default=True, help="Newest N."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines for scripts.")
def log(
    person: str | None,
    actor: str | None,
    subject: str | None,
    area: str | None,
    dataset: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """Show audit events, oldest first, filtered by person, area, action and time.

    Only an auditor or an administrator may read events; every read, allowed or
    refused, is itself recorded in the log (action audit.read).

    \b
    Examples:
      fivesafes audit log --person alice
      fivesafes audit log --area census --action 'access.*' --since 2026-01-01
      fivesafes audit log --actor bob --until 2026-02-01T12:00 --json
    """
    # an auditor or an administrator only; the decision is audited either way
    records = call(
        "audit.log",
        person=person,
        actor=actor,
        subject=subject,
        area=area,
        dataset=dataset,
        action=action,
        since=since,
        until=until,
        limit=limit,
    )
    for record in records:
        click.echo(json.dumps(record, ensure_ascii=False) if as_json else _render_event(record))
    if not records and not as_json:
        click.echo("no matching events", err=True)


@audit.command("checkpoint")
@click.option("--json", "as_json", is_flag=True, help="Print the checkpoint as JSON.")
def checkpoint(as_json: bool) -> None:
    """Sign the current head of the chain now (also done at every commit that appends).

    The signed note goes to the audit_checkpoint table and to
    audit-checkpoints.log in the workspace; copy that file elsewhere too, so a
    rewrite of the whole database remains detectable.

    \b
    Examples:
      fivesafes audit checkpoint
      fivesafes audit checkpoint --json
    """
    # any registered, active person, in process and through the server alike
    signed = call("audit.checkpoint")
    if signed is None:
        click.echo("the audit log is empty: nothing to sign", err=True)
        return
    if as_json:
        click.echo(json.dumps(signed, indent=2))
    else:
        click.echo(f"checkpoint at event {signed['size']}:\n{signed['note']}", nl=False)
