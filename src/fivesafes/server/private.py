"""Before serving: the workspace, its keys and signing key must be the service account's alone.

A server that starts on a workspace others can read would promise what it cannot keep
(anyone could open the keys or rewrite the database behind it), so it refuses to start.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fivesafes.errors import KeyProviderError, WorkspaceError


def check_private(home: Path, *, uid: int | None = None) -> None:
    """Refuse (WorkspaceError) unless everything in ``home`` is owned by ``uid`` and private."""
    uid = os.geteuid() if uid is None else uid
    problems: list[str] = []
    for folder, dirs, files in os.walk(home):
        for name in [".", *dirs, *files]:
            path = Path(folder) / name if name != "." else Path(folder)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                problems.append(f"{path} is a symbolic link")
            elif info.st_uid != uid:
                problems.append(f"{path} belongs to uid {info.st_uid}, not the server's {uid}")
            elif stat.S_IMODE(info.st_mode) & 0o077:
                problems.append(f"{path} has mode {stat.S_IMODE(info.st_mode):o}")
    if problems:
        error = WorkspaceError(
            f"the workspace {home} is not the service account's alone: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            hint=f"as the service account: chown -R $(id -un) {home} && chmod -R go= {home}",
        )
        raise error


def read_passphrases(fd: int) -> dict[str, str]:
    """Per-area passphrases from an open file descriptor: one ``AREA=PASSPHRASE`` per line."""
    with os.fdopen(fd, "r", encoding="utf-8", closefd=True) as stream:
        text = stream.read()
    phrases: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        area, sep, phrase = line.partition("=")
        if not sep or not area.strip() or not phrase:
            raise KeyProviderError(
                f"line {number} of the passphrase input is not AREA=PASSPHRASE",
                hint="give one line per area, e.g. printf 'earnings=...\\n' on the descriptor",
            )
        phrases[area.strip()] = phrase
    return phrases
