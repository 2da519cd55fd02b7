"""Submitting an outputs session's folder sent as a tar: the same service as in process.

The folder (``Session.finalise``'s ``tables/<output>/``, with its ``source.json``) comes
whole, every regular file at its top level, because the claim's digests cover them all;
the server unpacks it in a private scratch folder and runs ``submit_session_folder``,
which computes the table again from the dataset. Its messages name the caller's folder,
never the scratch path.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path
from typing import Any

from pydantic import Field

from fivesafes.app import App
from fivesafes.errors import FivesafesError
from fivesafes.server.operation import plain
from fivesafes.server.operations_release import Submit
from fivesafes.server.upload import UploadOperation, scratch_folder, unpack_files

# what a session's folder sent for submission is called (a plain tar of its files)
SESSION_SUFFIX = ".fivesafes-session.tar"
MAX_FILES = 200


class SubmitSession(Submit):
    area: str | None = Field(default=None, min_length=1, max_length=64)
    # the folder as the caller named it: a label for messages, never a path used here
    folder: str = Field(min_length=1, max_length=1000)


def session_tar(folder: Path, into: Path) -> Path:
    """Every regular file at the top of ``folder`` (source.json too) as a plain tar."""
    archive = into / f"{folder.resolve().name}{SESSION_SUFFIX}"
    with tarfile.open(archive, "w:") as tar:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                tar.add(path, arcname=path.name, recursive=False)
    return archive


def _unpack(archive: Path, into: Path) -> Path:
    """The folder sent: regular files with plain names at its top level, nothing else."""
    return unpack_files(
        archive,
        into / (archive.name.removesuffix(SESSION_SUFFIX) or "folder"),
        refuse=lambda name, plain: None,  # any plain file (the default refuses the rest)
        max_files=MAX_FILES,
        hint="submit the folder `Session.finalise` wrote, unchanged",
    )


def _relabelled(exc: FivesafesError, scratch: Path, label: str) -> FivesafesError:
    # the service names the folder it read: say the caller's, not the server's scratch path
    exc.message = exc.message.replace(str(scratch), label)
    if exc.hint is not None:
        exc.hint = exc.hint.replace(str(scratch), label)
    exc.args = (exc.message,)
    return exc


def _submit_session(app: App, login: str, p: SubmitSession, path: Path) -> Any:
    # imported here: the outputs' tabulation (pandas, DuckDB) is not for every operation
    from fivesafes.services.release.session_folder import submit_session_folder

    scratch = scratch_folder(app.workspace.home)
    try:
        folder = _unpack(path, scratch)
        try:
            view = submit_session_folder(
                app.transaction,
                app.vault(),
                login,
                folder,
                p.context(),
                area=p.area,
                title=p.title,
                source=p.source,
                rule_set=p.rule_set,
                request_id=p.request_id,
            )
        except FivesafesError as exc:
            raise _relabelled(exc, folder, p.folder) from None
        return plain(view)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


SESSION_UPLOADS = (
    UploadOperation(
        "release.submit_session",
        SubmitSession,
        _submit_session,
        "Submit an outputs session's folder sent (its source computed again).",
    ),
)

__all__ = ["SESSION_SUFFIX", "SESSION_UPLOADS", "session_tar"]
