"""``fivesafes backup``: the whole workspace in one signed archive, written all or nothing.

What goes in: the database (an SQLite snapshot, from SQLite or PostgreSQL), config.toml,
keys/, the encrypted area stores, releases/ and the checkpoint file. The checkpoint
file is read *before* the database snapshot: a checkpoint signed in between is then in
the database only (verify notes it), never in the file only (which verify would call a
cut log). Staging folders and the server's uploads (work in progress: plain-text files
sent to it) are left out. The archive holds the keys: keep it where the workspace's keys
may be (docs/workspace.md).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from fivesafes import __version__
from fivesafes.audit.log import chain_head
from fivesafes.errors import ValidationError
from fivesafes.services.context import record
from fivesafes.store.db import backend, current_revisions, make_engine, migrate
from fivesafes.store.models.audit import AuditCheckpoint
from fivesafes.store.snapshot import copy_rows, sqlite_snapshot
from fivesafes.vault.atomic import private_dirs
from fivesafes.workspace import Workspace
from fivesafes.workspace.archive import (
    DATABASE_MEMBER,
    SCRATCH_PREFIX,
    WORKSPACE_PREFIX,
    manifest_bytes,
    running_tag,
    sweep_leftovers,
    write_archive,
)
from fivesafes.workspace.home import CHECKPOINT_LOG_FILE, DATABASE_FILE

BACKUP_ACTION = "workspace.backup"
# Never archived: the live SQLite files (the snapshot replaces them) and work in progress.
_SKIPPED_FILES = {DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"}
_SKIPPED_DIRS = {".staging"}
# Top-level folders of work in progress: the server's uploads hold plain-text files sent
# to it (a dataset to ingest) for the length of one request, never kept.
_SKIPPED_TOP = {"uploads"}


@dataclass(frozen=True)
class BackupReport:
    """What a backup holds."""

    path: str
    files: int
    bytes: int
    audit_events: int
    manifest_sha256: str
    source_backend: str
    swept: tuple[str, ...] = ()  # what killed backups had left beside the archive


def _workspace_files(home: Path) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of every regular file of the workspace to archive, sorted."""
    for root, dirs, files in os.walk(home):
        top = Path(root) == home
        dirs[:] = sorted(
            d for d in dirs if d not in _SKIPPED_DIRS and not (top and d in _SKIPPED_TOP)
        )
        here = Path(root)
        for name in sorted(files):
            path = here / name
            relative = path.relative_to(home).as_posix()
            if relative in _SKIPPED_FILES or relative == CHECKPOINT_LOG_FILE:
                continue
            if path.is_symlink() or not path.is_file():
                raise ValidationError(
                    f"{path} is not a regular file",
                    hint="a workspace holds only plain files; remove the link or device",
                )
            yield WORKSPACE_PREFIX + relative, path


def _snapshot(workspace: Workspace, target: Path) -> None:
    engine = workspace.engine()
    if backend(engine) == "sqlite":
        assert engine.url.database is not None
        sqlite_snapshot(Path(engine.url.database), target)
        return
    copy = make_engine(f"sqlite:///{target}")
    try:
        migrate(copy)
        copy_rows(engine, copy)
    finally:
        copy.dispose()


def create_backup(workspace: Workspace, dest: Path, actor: str) -> BackupReport:
    """Write the workspace to the archive ``dest`` (which must not exist), audited."""
    dest = dest.expanduser().resolve()
    if dest.is_relative_to(workspace.home):
        raise ValidationError(
            f"{dest} is inside the workspace", hint="write the backup outside the workspace"
        )
    if dest.exists():
        raise ValidationError(f"{dest} exists", hint="choose a new file name for the backup")
    private_dirs(dest.parent)  # it will hold the keys: no folder made for it others can write
    swept = sweep_leftovers(dest.parent)  # a killed backup's partial archive holds the keys
    log_path = workspace.checkpoint_log_path
    checkpoints = log_path.read_bytes() if log_path.exists() else b""
    scratch_prefix = f"{SCRATCH_PREFIX}{running_tag()}."
    with tempfile.TemporaryDirectory(prefix=scratch_prefix, dir=dest.parent) as scratch:
        database = Path(scratch) / DATABASE_MEMBER
        _snapshot(workspace, database)
        snap = make_engine(f"sqlite:///{database}")
        try:
            with snap.connect() as connection:
                events, head = _chain_head(connection)
                signed = connection.execute(select(func.count()).select_from(AuditCheckpoint))
                checkpoint_rows = int(signed.scalar() or 0)
            revisions = sorted(current_revisions(snap))
        finally:
            snap.dispose()
        source_backend = backend(workspace.engine())
        header = {
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "fivesafes_version": __version__,
            "workspace_id": workspace.workspace_id,
            "origin": workspace.origin,
            "source_backend": source_backend,
            "schema_revisions": revisions,
            "audit": {"events": events, "head_hash": head, "checkpoints": checkpoint_rows},
        }
        members: list[tuple[str, Path | bytes]] = [
            (DATABASE_MEMBER, database),
            (WORKSPACE_PREFIX + CHECKPOINT_LOG_FILE, checkpoints),
            *_workspace_files(workspace.home),
        ]
        key = workspace.signing_key()
        files = write_archive(dest, members, header, key.sign)
    manifest_sha = hashlib.sha256(manifest_bytes(header, files)).hexdigest()
    report = BackupReport(
        str(dest),
        len(files),
        sum(f.size for f in files),
        events,
        manifest_sha,
        source_backend,
        tuple(p.name for p in swept),
    )
    with workspace.transaction() as session:
        record(
            session,
            actor,
            BACKUP_ACTION,
            details={
                "archive": str(dest),
                "manifest_sha256": manifest_sha,
                "files": report.files,
                "bytes": report.bytes,
                "audit_events": events,
                "swept": list(report.swept),
            },
        )
    return report


def _chain_head(connection: Connection) -> tuple[int, str]:
    """(events, head hash) of the log on ``connection``."""
    with Session(bind=connection) as session:
        seq, head = chain_head(session)
    return int(seq), str(head)


__all__ = ["BACKUP_ACTION", "BackupReport", "create_backup"]
