"""Checking checkpoints for ``verify``: the copies outside the database, each signature,
each signed size against the recomputed chain, and the checks that trust nothing in
the workspace (a signed head, what the verifier saw before).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from fivesafes.audit.chain import ChainProblem, ChainResult
from fivesafes.audit.checkpoint import Checkpoint, parse_checkpoint
from fivesafes.audit.checkpoint import verify_checkpoint as verify_note
from fivesafes.audit.checkpoint_file import read_checkpoint_file
from fivesafes.errors import IntegrityError
from fivesafes.store.models.audit import AuditCheckpoint


@dataclass(frozen=True)
class CheckpointSource:
    """One signed note and where it was found ("database", a file name, a witness)."""

    note: str
    origin_label: str  # "database" or the file name


@dataclass(frozen=True)
class VerifyArgs:
    """What verify_chain was asked to check, and with which key."""

    public_key: Ed25519PublicKey | None
    key_name: str | None
    checkpoint_file: Path | None
    parallel: bool
    require_signed: bool
    witness_files: tuple[Path, ...]
    seen: Checkpoint | None


def read_outside(args: VerifyArgs, warnings: list[str]) -> list[tuple[str, list[str]]]:
    """(label, notes) of every checkpoint copy outside the database: file and witnesses."""
    out: list[tuple[str, list[str]]] = []
    if args.checkpoint_file is not None:
        notes, file_warnings = read_checkpoint_file(args.checkpoint_file)
        warnings.extend(file_warnings)
        out.append((args.checkpoint_file.name, notes))
    for path in args.witness_files:
        if not path.exists():
            raise IntegrityError(
                f"witness copy {path} does not exist",
                hint="give the witness's checkpoint file, or the witness folder that holds "
                "<origin>.checkpoints.log",
            )
        notes, file_warnings = read_checkpoint_file(path)
        warnings.extend(file_warnings)
        out.append((f"witness {path}", notes))
    return out


def check_note(
    source: CheckpointSource, args: VerifyArgs, problems: list[ChainProblem]
) -> Checkpoint | None:
    """The note's checkpoint if its signature and origin hold; else a problem and None."""
    try:
        if args.public_key is not None and args.key_name is not None:
            checkpoint = verify_note(source.note, args.public_key, args.key_name)
        else:
            checkpoint = parse_checkpoint(source.note)[0]
    except IntegrityError as exc:
        size = size_hint(source.note)
        problems.append(ChainProblem(size, "checkpoint", f"{source.origin_label}: {exc.message}"))
        return None
    if args.key_name is not None and checkpoint.origin != args.key_name:
        problems.append(
            ChainProblem(
                checkpoint.size,
                "checkpoint",
                f"{source.origin_label}: checkpoint at size {checkpoint.size} is for "
                f"another log ({checkpoint.origin})",
            )
        )
        return None
    return checkpoint


SKIP = ChainProblem(0, "skip", "")


def compare_checkpoint(
    checkpoint: Checkpoint, label: str, result: ChainResult, verified: dict[int, Checkpoint]
) -> ChainProblem | None:
    """None when the chain hashes to ``checkpoint``; the problem, or SKIP, when not."""
    if checkpoint.size > result.head_seq:
        return ChainProblem(
            result.head_seq + 1,
            "missing",
            f"events {result.head_seq + 1}..{checkpoint.size} missing: the chain ends "
            f"at {result.head_seq} but a checkpoint ({label}) signed "
            f"{checkpoint.size} events",
        )
    if checkpoint.size not in result.recomputed_at or (
        result.problems and result.problems[0].seq <= checkpoint.size
    ):
        # The event it signed is gone, or an earlier break of the chain (already
        # reported where it happened) explains why the hashes no longer agree.
        return SKIP
    if result.recomputed_at[checkpoint.size] != checkpoint.head_hash:
        # The earlier checkpoints still match, so the change lies after the last of them.
        start = max((v for v in verified if v < checkpoint.size), default=0) + 1
        return ChainProblem(
            start,
            "checkpoint",
            f"the chain no longer hashes to the checkpoint signed at size "
            f"{checkpoint.size} ({label}): one of events "
            f"{start}..{checkpoint.size} was changed and the chain rehashed after it",
        )
    return None


def trust_checks(
    connection: Connection,
    args: VerifyArgs,
    result: ChainResult,
    verified: dict[int, Checkpoint],
    notes: dict[int, str],
    check_head: bool,
) -> list[ChainProblem]:
    """The checks that trust nothing in the workspace: a signed head, what was seen before.

    ``check_head`` is False without a public key (nothing can be trusted) or when a
    checkpoint beyond the head already showed the tail was cut (reported as such).
    """
    problems: list[ChainProblem] = []
    seen = args.seen
    if seen is not None:
        if result.head_seq < seen.size:
            problems.append(
                ChainProblem(
                    result.head_seq + 1,
                    "missing",
                    f"events {result.head_seq + 1}..{seen.size} missing: the log has "
                    f"{result.head_seq} events but this verifier already verified a signed "
                    f"checkpoint of {seen.size} (its state file)",
                )
            )
        elif seen.size in result.recomputed_at and (
            result.recomputed_at[seen.size] != seen.head_hash
        ):
            problems.append(
                ChainProblem(
                    1,
                    "checkpoint",
                    f"the chain no longer hashes to the checkpoint of {seen.size} events this "
                    "verifier verified before (its state file): history was rewritten",
                )
            )
    if not args.require_signed:
        return problems
    if args.public_key is None or args.key_name is None:
        problems.append(
            ChainProblem(0, "checkpoint", "no public key given: checkpoints cannot be trusted")
        )
        return problems
    if not check_head:
        return problems
    if not verified:
        problems.append(
            ChainProblem(
                1,
                "checkpoint",
                f"no valid signed checkpoint covers the log ({result.head_seq} events): "
                "every checkpoint was deleted, or none was ever signed; the genesis event "
                "cannot be checked",
            )
        )
        return problems
    last = max(verified)
    if result.ok and result.head_seq > last:
        # Re-read: under concurrent writers a checkpoint committed after the table was
        # read may sign the head the chain walk reached (PostgreSQL read committed).
        row = connection.execute(
            select(AuditCheckpoint.note).where(AuditCheckpoint.size == result.head_seq)
        ).first()
        source = CheckpointSource(str(row[0]), "database") if row else None
        latest = check_note(source, args, problems) if source else None
        if latest is not None and latest.head_hash == result.head_hash and source:
            verified[latest.size] = latest
            notes[latest.size] = source.note
        else:
            problems.append(
                ChainProblem(
                    last + 1,
                    "unsigned",
                    f"events {last + 1}..{result.head_seq} are covered by no signed "
                    "checkpoint: they were appended outside fivesafes, the checkpoints "
                    "after them were deleted, or the server was killed (kill -9, power "
                    "cut) before it signed them; if it was, start it again: it signs "
                    "them and records an audit.unsigned_tail event",
                )
            )
    return problems


def parsed_or_none(note: str) -> Checkpoint | None:
    """The note's checkpoint without a signature check, or None when it does not parse."""
    # A malformed note was already reported above; verify goes on to name it, not abort.
    try:
        return parse_checkpoint(note)[0]
    except IntegrityError:
        return None


def size_hint(note: str) -> int:
    """The size a note claims, or 0 when it does not parse."""
    try:
        return parse_checkpoint(note)[0].size
    except IntegrityError:
        return 0
