"""The output folder of ``table protect --out``: all of it, or none of it.

Every output is written into a hidden staging folder beside ``--out``; only when all of
them are complete is the staging folder moved into place (``os.rename``). So a failure,
a Ctrl-C or a full disk leaves ``--out`` as it was: no half-written folder, and never a
mix of this run's files with an earlier run's (a stale ``comparison.json`` or
``audit.csv`` beside new cells would describe another table).

An existing ``--out`` is replaced only when it holds nothing but what fivesafes writes
there (an earlier run's outputs, with several specs one folder per table); a folder of
other files (``--out .``, a home folder) is refused before any work, because replacing
it would delete them and writing into it would scatter confidential files among them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fivesafes.errors import OutputError

# What table protect, table audit (by default beside cells.csv) and table show write
OUTPUT_FILES = frozenset(
    {
        "cells.csv",
        "report.json",
        "table.csv",
        "table.xlsx",
        "comparison.json",
        "comparison.csv",
        "comparison.svg",
        "comparison.png",
        "audit.csv",
        "audit.json",
    }
)
STAGING_SUFFIX = ".partial"


def _foreign(folder: Path, *, depth: int = 1) -> list[str]:
    """Entries of ``folder`` that no fivesafes run wrote (one level of table folders)."""
    out = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            out.append(entry.name)
        elif entry.is_dir():
            if depth == 0 or _foreign(entry, depth=depth - 1):
                out.append(f"{entry.name}/")
        elif entry.name not in OUTPUT_FILES:
            out.append(entry.name)
    return out


def check_output_folder(out: Path) -> None:
    """Raise OutputError when ``out`` cannot become this run's output folder."""
    target = Path(os.path.abspath(out))
    if out.is_symlink():
        raise OutputError(
            f"--out {out} is a symbolic link",
            hint="give the folder itself (or a new folder) with --out",
        )
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"--out {out} is a file, not a folder",
            hint="give a new folder (or an earlier run's output folder) with --out",
        )
    cwd = Path.cwd()
    if target == cwd or target in cwd.parents:
        raise OutputError(
            f"--out {out} is the current folder (or one above it)",
            hint="the outputs replace the whole folder: give a folder of their own, e.g. --out out",
        )
    if target.is_dir():
        foreign = _foreign(target)
        if foreign:
            shown = ", ".join(foreign[:5]) + (
                f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
            )
            raise OutputError(
                f"--out {out} already holds files that are not fivesafes outputs: {shown}",
                hint="the outputs replace the whole folder, so it must be new, empty, or an "
                "earlier run's output folder: give another --out, or move those files away",
            )


@contextmanager
def output_folder(out: Path) -> Iterator[Path]:
    """A staging folder for the outputs, moved into place as ``out`` when the block succeeds.

    Checked and created before the block runs, so a bad ``--out`` is refused before any
    work. On any exception (KeyboardInterrupt too) the staging folder and any parent
    folder created for it are removed and ``out`` is left as it was.
    """
    check_output_folder(out)
    target = Path(os.path.abspath(out))
    created = _missing_parents(target.parent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=STAGING_SUFFIX)
        )
    except OSError as exc:
        _remove_empty(created)
        raise OutputError(
            f"cannot create the output folder {out}: {exc.strerror or exc}",
            hint="choose a folder you can write to with --out",
        ) from exc
    try:
        yield staging
        _move_into_place(staging, target, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created)
        raise


def _missing_parents(folder: Path) -> list[Path]:
    """The folders above ``out`` that do not exist yet, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            return


def _move_into_place(staging: Path, target: Path, out: Path) -> None:
    """Rename ``staging`` to ``target``; an earlier output folder there is replaced whole."""
    try:
        if not target.exists():
            os.rename(staging, target)
            return
        check_output_folder(out)  # it may have changed while the tables were protected
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
        os.rename(target, old / target.name)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(old / target.name, target)  # the earlier outputs back, as they were
            raise
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        raise OutputError(
            f"cannot move the outputs into {out}: {exc.strerror or exc}",
            hint="choose a folder you can write to with --out",
        ) from exc
