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
``table export --out`` is written the same way (``output_folder(out, ours=export_file)``),
and so is ``demo --out`` (its survey and protected table; an earlier demo's workspace is
recognised whole, ``ours_folder``).

Files that join a folder of other files (``table audit`` beside ``cells.csv``, the
disclosure log) go in with :func:`place_files`: each is written to a temporary file in
that folder and renamed over its earlier version, all of them or none, and nothing
else in the folder is touched. One file (``table show --html``, ``table hierarchy
--out``) goes in with :func:`write_file`. Every file is created readable by its owner
only (0600), and a symbolic link where a file is to go is refused, never followed.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fivesafes.errors import OutputError

# What table protect, table audit (by default beside cells.csv) and table show write
OUTPUT_FILES = frozenset(
    {
        "cells.csv",
        "report.json",
        "population.json",
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
# What table export writes (NAME is the table's): for tau-Argus NAME.tab, NAME.rda and
# NAME_DIM.hrc; for sdcTable NAME_sdctable.csv, NAME_hier_DIM.csv, NAME_fivesafes.csv
_EXPORT_SUFFIXES = (".tab", ".rda", ".hrc", "_sdctable.csv", "_fivesafes.csv")


def output_file(name: str) -> bool:
    """Whether ``name`` is a file that table protect (or audit, show) writes."""
    return name in OUTPUT_FILES


def export_file(name: str) -> bool:
    """Whether ``name`` is a file that table export writes, for either tool (or the audit
    of its NAME_fivesafes.csv, written beside it)."""
    return (
        name.endswith(_EXPORT_SUFFIXES)
        or ("_hier_" in name and name.endswith(".csv"))
        or name in ("audit.csv", "audit.json")
    )


FolderTest = Callable[[Path], bool]


def _foreign(
    folder: Path, ours: Callable[[str], bool], *, depth: int, ours_folder: FolderTest | None
) -> list[str]:
    """Entries of ``folder`` that no fivesafes run wrote (``depth`` levels of table folders)."""
    out = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            out.append(entry.name)
        elif entry.is_dir():
            if ours_folder is not None and ours_folder(entry):
                continue
            if depth == 0 or _foreign(entry, ours, depth=depth - 1, ours_folder=ours_folder):
                out.append(f"{entry.name}/")
        elif not ours(entry.name):
            out.append(entry.name)
    return out


def check_output_folder(
    out: Path,
    *,
    ours: Callable[[str], bool] = output_file,
    depth: int = 1,
    ours_folder: FolderTest | None = None,
) -> None:
    """Raise OutputError when ``out`` cannot become this run's output folder.

    ``ours``: the names of files a run writes there; ``depth``: the levels of folders
    of them it may hold (table protect with several specs: one folder per table);
    ``ours_folder``: whether a folder is one a run made whole (the demo's workspace),
    replaced without a look at each of its files.
    """
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
        foreign = _foreign(target, ours, depth=depth, ours_folder=ours_folder)
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
def output_folder(
    out: Path,
    *,
    ours: Callable[[str], bool] = output_file,
    depth: int = 1,
    ours_folder: FolderTest | None = None,
) -> Iterator[Path]:
    """A staging folder for the outputs, moved into place as ``out`` when the block succeeds.

    Checked and created before the block runs, so a bad ``--out`` is refused before any
    work. On any exception (KeyboardInterrupt too) the staging folder and any parent
    folder created for it are removed and ``out`` is left as it was. ``ours``, ``depth``
    and ``ours_folder``: what an earlier run left there, that may be replaced
    (check_output_folder).
    """
    check_output_folder(out, ours=ours, depth=depth, ours_folder=ours_folder)
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
        # it may have changed while the outputs were written
        _move_into_place(
            staging,
            target,
            out,
            lambda: check_output_folder(out, ours=ours, depth=depth, ours_folder=ours_folder),
        )
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


def _move_into_place(staging: Path, target: Path, out: Path, recheck: Callable[[], None]) -> None:
    """Rename ``staging`` to ``target``; an earlier output folder there is replaced whole
    (when ``recheck`` still finds it one)."""
    try:
        if not target.exists():
            os.rename(staging, target)
            return
        recheck()
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


Writer = Callable[[Path], object]


def text_file(text: str) -> Writer:
    """A writer of ``text`` as UTF-8, its line ends as they are (for :func:`place_files`)."""
    return lambda path: path.write_text(text, encoding="utf-8", newline="")


def check_files_folder(
    folder: Path, names: list[str], *, option: str, link_ok: bool = False
) -> None:
    """Raise OutputError when the files ``names`` cannot be placed in ``folder``.

    The folder may hold other files (they are left alone); it must not be a file (nor a
    symbolic link, unless ``link_ok``: a folder the user did not name, e.g. that of
    ``--cells``), and where one of ``names`` is to go there must be no folder and no
    symbolic link.
    """
    if folder.is_symlink() and not link_ok:
        raise OutputError(
            f"{option} {folder} is a symbolic link",
            hint=f"give the folder itself (or a new folder) with {option}",
        )
    if folder.exists() and not folder.is_dir():
        raise OutputError(
            f"{option} {folder} is a file, not a folder",
            hint=f"give a folder (new or existing) with {option}",
        )
    for name in names:
        _check_file_target(folder / name, option=option)


def _check_file_target(path: Path, *, option: str) -> None:
    if path.is_symlink():
        # replacing it would surprise whoever made it; writing through it would put a
        # confidential file wherever it points
        raise OutputError(
            f"{option}: {path} is a symbolic link",
            hint="remove the link, or give another folder or file",
        )
    if path.is_dir():
        raise OutputError(
            f"{option}: {path} is a folder, where a file is to be written",
            hint="give another folder or file",
        )


def check_file(path: Path, *, option: str) -> None:
    """Raise OutputError when :func:`write_file` cannot write ``path`` (before any work)."""
    if not path.parent.is_dir():
        raise OutputError(
            f"cannot write {path}: the folder {path.parent} does not exist",
            hint=f"create the folder first, or give another path to {option}",
        )
    _check_file_target(path, option=option)


def write_file(path: Path, content: str | bytes, *, option: str) -> Path:
    """Write one file whole: a temporary file beside ``path`` (0600), renamed over it.

    The folder must exist (a mistyped folder is an error, not created); a symbolic link
    or a folder at ``path`` is refused.
    """
    check_file(path, option=option)
    data = content.encode("utf-8") if isinstance(content, str) else content
    written = place_files(
        path.parent, {path.name: lambda p: p.write_bytes(data)}, option=option, link_ok=True
    )
    return written[path.name]


def place_files(
    folder: Path, writers: dict[str, Writer], *, option: str, link_ok: bool = False
) -> dict[str, Path]:
    """Write each file into ``folder`` (created if needed), all of them or none.

    Each writer writes a temporary file in ``folder`` (0600); only when all are written
    are they renamed into place, each over its earlier version, with Ctrl-C and SIGTERM
    held back for those few renames (a failing rename puts the earlier versions back).
    Nothing else in ``folder`` is touched. On any failure the folder is as it was.
    """
    check_files_folder(folder, list(writers), option=option, link_ok=link_ok)
    created = _missing_parents(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_empty(created)
        raise OutputError(
            f"cannot create the folder {folder}: {exc.strerror or exc}",
            hint=f"choose a folder you can write to with {option}",
        ) from exc
    temps: dict[str, Path] = {}
    try:
        for name, writer in writers.items():
            fd, partial = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=STAGING_SUFFIX)
            os.close(fd)
            temps[name] = Path(partial)
            writer(temps[name])
        # changed since?
        check_files_folder(folder, list(writers), option=option, link_ok=link_ok)
        with _signals_held():
            _swap_in(folder, temps)
        return {name: folder / name for name in writers}
    except OSError as exc:
        _remove_empty(created)
        raise OutputError(
            f"cannot write into {folder}: {exc.strerror or exc}",
            hint=f"choose a folder you can write to with {option}",
        ) from exc
    except BaseException:
        _remove_empty(created)
        raise
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


def _swap_in(folder: Path, temps: dict[str, Path]) -> None:
    """Rename every temporary file over its target; on failure, the earlier files back."""
    earlier: dict[Path, Path | None] = {}  # each target replaced so far -> its earlier file
    backups: list[Path] = []
    try:
        for name, tmp in temps.items():
            target = folder / name
            backup = None
            if target.exists():
                fd, kept = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".old")
                os.close(fd)
                backup = Path(kept)
                backups.append(backup)
                os.replace(target, backup)
            earlier[target] = backup
            os.replace(tmp, target)
    except BaseException:
        for target, backup in earlier.items():
            if backup is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(backup, target)
        raise
    finally:
        for backup in backups:
            backup.unlink(missing_ok=True)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends (it only renames files)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
