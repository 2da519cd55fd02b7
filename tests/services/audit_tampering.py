"""What an attacker with direct database (and workspace file) access does to the audit log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

from fivesafes.audit.chain import build_chain
from fivesafes.audit.events import AuditEvent
from fivesafes.audit.log import event_of, query_events
from fivesafes.store.db import session_factory

TABLES = ("audit_log", "audit_checkpoint")
_INSERT = text(
    "INSERT INTO audit_log (seq, at, action, actor, outcome, area, dataset, subject, details, "
    "prev_hash, hash) VALUES (:seq, :at, :action, :actor, :outcome, :area, :dataset, :subject, "
    ":details, :prev_hash, :hash)"
)


def tamper(engine: Engine, *statements: str) -> None:
    """Run SQL as the table owner would: on PostgreSQL, with the append-only triggers off."""
    with engine.begin() as connection:
        pg = connection.dialect.name == "postgresql"
        if pg:
            for table in TABLES:
                connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement in statements:
            connection.exec_driver_sql(statement)
        if pg:
            for table in TABLES:
                connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def stored_events(engine: Engine) -> list[AuditEvent]:
    """Every stored event, in chain order."""
    with session_factory(engine)() as session:
        return [event_of(r) for r in query_events(session)]


def rehash(
    engine: Engine,
    change: Callable[[list[AuditEvent]], list[AuditEvent]],
    *,
    checkpoint_file: Path | None = None,
) -> None:
    """Rewrite the log as ``change`` says, re-hash the whole chain, delete every checkpoint.

    The chain is valid again afterwards; only signed checkpoints (which need the
    private key) kept elsewhere can show it was rewritten.
    """
    events = change(stored_events(engine))
    rows = [
        {
            "seq": entry.seq,
            "at": entry.at,
            "action": entry.action,
            "actor": entry.actor,
            "outcome": entry.outcome,
            "area": entry.area,
            "dataset": entry.dataset,
            "subject": entry.subject,
            "details": entry.details,
            "prev_hash": entry.prev_hash,
            "hash": digest,
        }
        for entry, digest in build_chain(events)
    ]
    tamper(engine, "DELETE FROM audit_log", "DELETE FROM audit_checkpoint")
    with engine.begin() as connection:
        connection.execute(_INSERT, rows)
    if checkpoint_file is not None and checkpoint_file.exists():
        checkpoint_file.write_text("")


def append_unsigned(engine: Engine, *events: AuditEvent) -> None:
    """Append valid chain events by SQL, as fivesafes would, but without any checkpoint."""
    from fivesafes.audit.log import append_event

    with session_factory(engine).begin() as session:  # no checkpointer: nothing signed
        for event in events:
            append_event(session, event)


def drop_checkpoint_lines(path: Path, above: int) -> None:
    """Remove the checkpoint file's lines of checkpoints larger than ``above``."""
    import json

    from fivesafes.audit.checkpoint import parse_checkpoint

    kept = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and parse_checkpoint(json.loads(line)["note"])[0].size <= above
    ]
    path.write_text("".join(f"{line}\n" for line in kept))
