"""``fivesafes restore``: a backup made live only after everything in it was verified.

Order: every member against the manifest (hashes, names, nothing unlisted), the
manifest's signature (the archive's key, or one pinned with ``--public-key`` that the
archive's key must equal), the audit chain with every checkpoint and the genesis (as
``audit verify`` does), every encrypted object decrypted frame by frame (each frame's
authentication tag) and matched against the register. Only then is the database copied
to PostgreSQL (when asked), the restore audited and signed in the restored log, and the
folder renamed into place. Any failure leaves no workspace behind (a target PostgreSQL
database is touched only after the archive verified).
"""

from __future__ import annotations

import os
import shutil
import tomllib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from fivesafes.audit.checkpoint import verify_checkpoint
from fivesafes.audit.checkpoint_file import read_checkpoint_file
from fivesafes.audit.witness import witness_file
from fivesafes.errors import FivesafesError, IntegrityError, ValidationError, WorkspaceError
from fivesafes.services.audit_log import verify_log
from fivesafes.services.context import record
from fivesafes.services.vault.register import STORED, Vault
from fivesafes.store.db import ensure_schema, make_engine, migrate, read_only
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.governance import AreaRow
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.store.snapshot import copy_rows
from fivesafes.vault import AreaStore, open_data_key
from fivesafes.vault.atomic import fsync_dir, private_dirs
from fivesafes.vault.frames import SealedObject
from fivesafes.vault.manifest import KINDS
from fivesafes.workspace import Workspace
from fivesafes.workspace.archive import (
    DATABASE_MEMBER,
    WORKSPACE_PREFIX,
    extract_archive,
    tampered,
)
from fivesafes.workspace.home import CONFIG_FILE, DATABASE_FILE, render_config
from fivesafes.workspace.keys import atomic_write, load_public_key, public_key_fingerprint
from fivesafes.workspace.settings import DATABASE_URL_ENV, validate_config

RESTORE_ACTION = "workspace.restore"


@dataclass(frozen=True)
class RestoreReport:
    """What was restored and checked."""

    home: str
    database: str
    audit_events: int
    checkpoints_verified: int
    objects_verified: int
    frames_verified: int
    backup_created_at: str


def _target_folder(home: Path) -> None:
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise WorkspaceError(
            f"{home} exists and is not an empty folder",
            hint="restore into a new folder; a live workspace is never overwritten",
        )


def _no_other_database(database_url: str | None) -> None:
    """FIVESAFES_DATABASE_URL outranks config.toml: a restore must not verify, or write
    its event into, whatever database that names (e.g. the live one)."""
    env = os.environ.get(DATABASE_URL_ENV, "").strip()
    if env and env != (database_url or ""):
        raise WorkspaceError(
            f"{DATABASE_URL_ENV} is set: the restored workspace would use that database, not "
            "the one restored",
            hint=f"unset {DATABASE_URL_ENV}, or pass the same URL as --database-url to restore "
            "into it (an empty database)",
        )


def _check_signature(staged: Path, extracted: Any, pinned: Ed25519PublicKey | None) -> Any:
    key_file = staged / "keys" / "workspace-signing.pub"
    try:
        key = load_public_key(key_file)
    except FivesafesError:
        raise tampered("it holds no readable workspace public key") from None
    if pinned is not None and public_key_fingerprint(pinned) != public_key_fingerprint(key):
        raise tampered(
            "its workspace key is not the public key given (--public-key): the archive "
            "was re-signed with another key, or belongs to another workspace"
        )
    try:
        key.verify(extracted.signature, extracted.manifest_bytes)
    except InvalidSignature:
        raise tampered("the manifest's signature does not verify") from None
    return key


def _config(staged: Path, manifest: Any) -> dict[str, Any]:
    try:
        config = tomllib.loads((staged / CONFIG_FILE).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        raise tampered("its config.toml is missing or not TOML") from None
    validate_config(config)
    if config.get("workspace_id") != manifest.get("workspace_id"):
        raise tampered("its config.toml names another workspace than its manifest")
    config.pop("database_url", None)
    return config


def _verify_log(staged: Workspace, key: Ed25519PublicKey, manifest: Any) -> tuple[int, int]:
    report = verify_log(staged, public_key=key)
    first = report.first_bad
    if first is not None:
        raise tampered(
            f"its audit log does not verify: {first.message} "
            f"({report.problem_count} problem(s) in all)"
        )
    audit = manifest.get("audit", {})
    if (report.head_seq, report.head_hash) != (audit.get("events"), audit.get("head_hash")):
        raise tampered("its audit log's head is not the one its manifest records")
    return report.events, report.checkpoints_verified


def _against_witnesses(staged: Workspace, key: Ed25519PublicKey, copies: Sequence[Path]) -> None:
    """Every witnessed checkpoint verifies under ``key`` and, within the archive's log, is
    a head of that log."""
    with read_only(staged.engine()).connect() as connection:
        for copy in copies:
            notes, _ = read_checkpoint_file(witness_file(copy, staged.origin))
            if not notes:
                raise ValidationError(
                    f"{copy} holds no checkpoint of {staged.origin}",
                    hint="give the witness copy of this workspace's log",
                )
            for note in notes:
                try:
                    checkpoint = verify_checkpoint(note, key, staged.origin)
                except FivesafesError as exc:
                    # Fail closed: an archive whose log was rewritten from its genesis and
                    # re-signed with a new key of its own makes every witnessed checkpoint
                    # fail here; skipping them would let it through unchallenged.
                    raise tampered(
                        f"a checkpoint of the witness {copy} does not verify under the "
                        f"archive's workspace key ({exc.message}): the archive was re-signed "
                        "with another key, or the witness copy is damaged or of another "
                        "workspace"
                    ) from None
                stored = connection.execute(
                    select(AuditRecord.hash).where(AuditRecord.seq == checkpoint.size)
                ).scalar()
                if stored is not None and stored != checkpoint.head_hash:
                    raise tampered(
                        f"its audit log differs from the witness {copy} at event "
                        f"{checkpoint.size}: the log was rewritten"
                    )


def _authenticate(store: AreaStore, vault: Vault, name: str, kind: str) -> int:
    """Decrypt every frame of one object into a memfd (AEAD tags checked); frames read."""
    manifest = store.manifest(name, kind)
    key = open_data_key(vault.provider, store.area, manifest.object_id, manifest.wrapped_key)
    fd = os.memfd_create(f"fivesafes-verify-{manifest.object_id}", os.MFD_CLOEXEC)
    try:
        with SealedObject(store.data_path(name, kind), key, manifest.object_id) as sealed:
            sealed.allocate(fd)
            sealed.decrypt_into(fd, range(sealed.frame_count))
            return sealed.frame_count
    finally:
        os.close(fd)


def _verify_objects(staged: Workspace) -> tuple[int, int]:
    """Decrypt every encrypted object (each frame authenticated); match the register."""
    vault = Vault.of(staged)
    objects = frames = 0
    on_disk: set[tuple[str, str, str, str]] = set()
    with read_only(staged.engine()).connect() as connection:
        registered = set(connection.execute(select(AreaRow.name)).scalars())
        rows = connection.execute(
            select(AreaRow.name, VaultObjectRow.kind, VaultObjectRow.name, VaultObjectRow.object_id)
            .join(AreaRow, AreaRow.id == VaultObjectRow.area_id)
            .where(VaultObjectRow.state == STORED)
        ).all()
    for sub in ("keys", "areas", "releases"):  # empty folders are not archived
        (staged.home / sub).mkdir(mode=0o700, exist_ok=True)
    for area in sorted(registered | {p.name for p in staged.areas_dir.iterdir()}):
        store = AreaStore(staged.areas_dir, area)
        store.create()
        for kind in KINDS:
            for name in store.names(kind):
                manifest = store.manifest(name, kind)
                frames += _authenticate(store, vault, name, kind)
                on_disk.add((area, kind[:-1], name, manifest.object_id))  # "datasets" -> "dataset"
                objects += 1
    missing = sorted({tuple(r) for r in rows} - on_disk)
    if missing:
        area, kind, name, _ = missing[0]
        raise tampered(
            f"{len(missing)} stored object(s) of the register are not in it "
            f"(first: {kind} {area}/{name})"
        )
    return objects, frames


def restore_backup(
    archive: Path,
    home: Path,
    actor: str,
    *,
    database_url: str | None = None,
    public_key: Ed25519PublicKey | None = None,
    witnesses: Sequence[Path] = (),
) -> RestoreReport:
    """Verify ``archive`` completely, then make it the workspace at ``home`` (audited).

    ``witnesses`` are witness copies of the checkpoints (kept outside the workspace):
    every witnessed checkpoint must verify under the archive's key and, where the
    archive's log reaches it, be a head of that log, so an archive whose log was
    rewritten and re-signed (with the key it carries, or one put in its place) is refused.
    Later checkpoints are the events after the backup, which it cannot hold.
    """
    home = home.expanduser().resolve()
    _target_folder(home)
    _no_other_database(database_url)
    private_dirs(home.parent)  # a parent others can write lets them swap the workspace
    staging = home.parent / f".{home.name}.restoring-{uuid.uuid4().hex[:12]}"
    staging.mkdir(mode=0o700)
    staged: Workspace | None = None
    try:
        extracted = extract_archive(archive.expanduser(), staging)
        tree = staging / WORKSPACE_PREFIX.rstrip("/")
        key = _check_signature(tree, extracted, public_key)
        config = _config(tree, extracted.manifest)
        for item in tree.iterdir():
            item.rename(staging / item.name)
        tree.rmdir()
        (staging / DATABASE_MEMBER).rename(staging / DATABASE_FILE)
        staged = Workspace(home=staging, config=config)
        events, checkpoints = _verify_log(staged, key, extracted.manifest)
        _against_witnesses(staged, key, witnesses)
        objects, frames = _verify_objects(staged)
        ensure_schema(staged.engine())  # an archive of an older version: brought up to date
        if database_url:
            staged = _to_database(staged, config, database_url)
        atomic_write(staging / CONFIG_FILE, render_config(staged.config).encode(), mode=0o600)
        with staged.transaction() as session:
            record(
                session,
                actor,
                RESTORE_ACTION,
                details={
                    "archive": str(archive),
                    "backup_created_at": extracted.manifest.get("created_at"),
                    "source_backend": extracted.manifest.get("source_backend"),
                    "database": "postgresql" if database_url else "sqlite",
                    "objects_verified": objects,
                    "frames_verified": frames,
                },
            )
        staged.close()
        if home.exists():
            home.rmdir()
        staging.rename(home)
        fsync_dir(home.parent)
    except BaseException:
        if staged is not None:
            staged.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return RestoreReport(
        str(home),
        "postgresql" if database_url else "sqlite",
        events,
        checkpoints,
        objects,
        frames,
        str(extracted.manifest.get("created_at")),
    )


def _to_database(staged: Workspace, config: dict[str, Any], url: str) -> Workspace:
    """The verified SQLite copy moved into the database at ``url``, verified there again."""
    target = make_engine(url)
    try:
        migrate(target)
        copy_rows(staged.engine(), target)
    finally:
        target.dispose()
    staged.close()
    for suffix in ("", "-wal", "-shm"):
        (staged.home / f"{DATABASE_FILE}{suffix}").unlink(missing_ok=True)
    moved = Workspace(home=staged.home, config={**config, "database_url": url})
    report = verify_log(moved, public_key=moved.public_key())
    if not report.ok:
        raise IntegrityError(
            f"the copy in {make_engine(url).url.render_as_string(hide_password=True)} does "
            f"not verify: {report.first_bad.message if report.first_bad else '?'}",
            hint="the database now holds a partial copy: drop it (or its schema) and restore again",
        )
    return moved


__all__ = ["RESTORE_ACTION", "RestoreReport", "restore_backup"]
