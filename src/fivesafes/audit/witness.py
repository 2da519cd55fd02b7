"""Witnesses: copies of every signed checkpoint kept where the workspace's owner cannot reach.

A witness is a folder (on another mount, or owned by another account that lets the
service account append only) or a command that ships the checkpoint elsewhere (e.g.
``logger -t fivesafes-audit`` to syslog). Whoever later verifies the log compares it
with a witness copy (``fivesafes audit verify --witness PATH``): a rewritten or cut
log no longer matches checkpoints that were already sent away.

A delivery happens after the commit (a rolled-back checkpoint must never reach a
witness), so it cannot undo the transaction; a failed delivery is reported on stderr
and in the log of the ``fivesafes.audit`` logger, and the next checkpoint, which
commits to every earlier event, makes up for it.
"""

from __future__ import annotations

import json
import logging
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fivesafes.audit.checkpoint_file import append_checkpoint_line
from fivesafes.errors import WorkspaceError

COMMAND_PREFIX = "command:"
COMMAND_TIMEOUT_S = 10.0
LOG = logging.getLogger("fivesafes.audit")


@dataclass(frozen=True)
class Witness:
    """A folder that receives checkpoint lines, or a command that gets each note on stdin."""

    folder: Path | None = None
    command: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How messages name this witness."""
        return str(self.folder) if self.folder is not None else " ".join(self.command)


def parse_witness(spec: str) -> Witness:
    """A witness from its setting text: an absolute folder path, or ``command:<command>``."""
    text = spec.strip()
    if text.startswith(COMMAND_PREFIX):
        argv = tuple(shlex.split(text[len(COMMAND_PREFIX) :]))
        if not argv:
            raise WorkspaceError(
                f"witness {spec!r} names no command",
                hint="write e.g. 'command:logger -t fivesafes-audit' in audit_witnesses",
            )
        return Witness(command=argv)
    folder = Path(text).expanduser()
    if not folder.is_absolute():
        raise WorkspaceError(
            f"witness folder {spec!r} is not an absolute path",
            hint="give an absolute path (on another mount or owned by another account) "
            "or 'command:<command>' in audit_witnesses",
        )
    return Witness(folder=folder)


def witness_file_name(origin: str) -> str:
    """The file a folder witness keeps for the log ``origin`` (one per workspace)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", origin) + ".checkpoints.log"


def witness_file(path: Path, origin: str) -> Path:
    """The witness copy at ``path``: the file itself, or the log's file in a witness folder."""
    return path / witness_file_name(origin) if path.is_dir() else path


def deliver(witness: Witness, origin: str, line: dict[str, Any]) -> None:
    """Append one checkpoint line to ``witness`` (raises OSError or CalledProcessError)."""
    if witness.folder is not None:
        append_checkpoint_line(witness.folder / witness_file_name(origin), line)
        return
    payload = json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n"
    subprocess.run(  # noqa: S603 - the command is the operator's own setting, not user input
        witness.command,
        input=payload,
        text=True,
        check=True,
        timeout=COMMAND_TIMEOUT_S,
        capture_output=True,
    )


def deliver_to_witnesses(witnesses: Iterable[Witness], origin: str, line: dict[str, Any]) -> None:
    """Deliver ``line`` to every witness; report, never raise, a failed delivery."""
    for witness in witnesses:
        try:
            deliver(witness, origin, line)
        except (OSError, subprocess.SubprocessError) as exc:
            detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else exc
            message = (
                f"warning: audit witness {witness.label} did not receive the checkpoint "
                f"({detail}); the change itself is committed. Fix the witness (a folder "
                "the service account can append to, or a command that exits 0): the next "
                "checkpoint covers this one"
            )
            LOG.warning(message)
            print(message, file=sys.stderr)
