"""``Session.finalise``: every output, ACRO's results.json, the checks, and the submissions.

The folder (which must not exist, as in ACRO) gets: ``results.json`` and one file per
table or plot (ACRO's layout, readable by SACRO-viewer and by ``read_results``),
``config.json`` (the rules, ACRO's names), ``checks.json`` (each output's status,
what was hidden and why, the protection and differencing evidence, and how to
submit it), ``checksums/`` (SHA-256 per file) and, for each count or sum table whose
protection passed its audit, ``tables/<output>/``: a folder that
``fivesafes release submit FOLDER/tables/<output>`` accepts. A session opened on an
area's dataset (``Session(area=..., dataset=...)``) adds ``source.json`` to each: the
columns and measure, and the folder's digests; ``release submit`` then computes the
table again from the dataset and marks the source verified (without them the source
is declared with ``--area AREA --source DATASET:MEASURE``, not verified).
Everything is written to a temporary folder beside it and renamed into place at the
end, so a failure leaves nothing half-written. Every file in it is its owner's alone
(0600, every folder 0700), so a copy or a move out of the folder keeps it so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fivesafes import __version__
from fivesafes.errors import OutputError
from fivesafes.outputs.acro_json import RESULTS, output_files, results_document
from fivesafes.outputs.claim import CLAIM, SessionClaim, folder_digests
from fivesafes.outputs.record import Output, TableEvidence
from fivesafes.outputs.submission import write_table_folder

if TYPE_CHECKING:
    from fivesafes.outputs.session import Session

CHECKS = "checks.json"
CONFIG = "config.json"
TABLES = "tables"


def finalise(session: Session, folder: Path) -> Path:
    """Write the session's outputs into ``folder`` (all or nothing); returns the folder."""
    if folder.exists():
        raise OutputError(
            f"{folder} already exists", hint="finalise into a new folder (ACRO does the same)"
        )
    _private_parents(folder.parent)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        _write(session, work)
        _owner_only(work)
        os.replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder


def _private_parents(path: Path) -> None:
    """Make ``path`` and its missing parents 0700, whatever the umask (existing folders
    keep their mode).

    ``mkdir(parents=True)`` gives the folders it makes the umask's mode: under umask 0,
    folders anyone may list, and create or rename entries in, beside a session's outputs.
    (As vault.atomic.private_dirs, which this layer cannot import.)
    """
    missing = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for made in reversed(missing):
        try:
            made.mkdir(mode=0o700)
        except FileExistsError:  # another process made it meanwhile: its mode is its own
            continue
        os.chmod(made, 0o700)  # mkdir's mode is masked by the umask


def _owner_only(work: Path) -> None:
    """Every folder under ``work`` 0700 and every file 0600, whatever the umask gave them.

    The files (ACRO's CSVs, the plots copied in, the checks) are written by pandas,
    matplotlib and shutil with the umask's mode; mkdtemp's 0700 covers them only while
    they stay in the folder. (As demo.served.make_private, which this layer cannot import.)
    """
    for folder, _dirs, files in os.walk(work):  # a link to a folder is not walked into
        os.chmod(folder, 0o700)
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                path.chmod(0o600)


def _write(session: Session, work: Path) -> None:
    outputs = list(session.outputs.values())
    files = {o.uid: output_files(o, work) for o in outputs}
    _json(work / RESULTS, results_document(outputs, files))
    _json(work / CONFIG, {**session.rules.as_acro_config(), "suppress": session.suppress})
    checks = {
        "fivesafes_version": __version__,
        "format": "fivesafes.outputs.checks/1",
        "dataset": session.dataset,
        "area": session.area,
        "suppress": session.suppress,
        "rules": session.rules.as_acro_config(),
        "outputs": {o.uid: _checks(session, o, work, files[o.uid]) for o in outputs},
    }
    _json(work / CHECKS, checks)
    _checksums(work)


def _checks(session: Session, output: Output, work: Path, files: list[str]) -> dict[str, Any]:
    submissions: list[dict[str, Any]] = []
    for evidence in output.tables:
        sub = Path(TABLES) / (
            output.uid if len(output.tables) == 1 else f"{output.uid}-{evidence.measure}"
        )
        write_table_folder(
            work / sub,
            sub.name,
            evidence,
            session.rules,
            session.suppression,
            source={
                "kind": "fivesafes.outputs.Session",
                "dataset": session.dataset,
                "area": session.area,
            },
        )
        measure = evidence.measure if not evidence.frequency else "count"
        verifiable = bool(session.area and session.dataset)
        if verifiable:
            _claim(work / sub, session, evidence, measure)
        submissions.append(
            {
                "kind": "table",
                "folder": sub.as_posix(),
                "measure": measure,
                "source": f"{session.dataset or 'DATASET'}:{measure}",
                # verifiable: release submit reads the dataset and computes the table again
                "source_verified_at_submission": verifiable,
                "submit": f"fivesafes release submit FOLDER/{sub.as_posix()} --purpose PURPOSE"
                if verifiable
                else f"fivesafes release submit FOLDER/{sub.as_posix()} --area "
                f"{session.area or 'AREA'} --source {session.dataset or 'DATASET'}:{measure} "
                "--purpose PURPOSE",
            }
        )
    if not submissions:
        submissions = [
            {"kind": "file", "files": files, "submit": "fivesafes release submit FOLDER/<file> ..."}
        ]
    return {
        "status": output.status.text,
        "type": output.output_type,
        "summary": output.summary,
        "exception": output.exception,
        "comments": list(output.comments),
        "files": files,
        "checks": output.checks,
        "submissions": submissions,
    }


def _claim(folder: Path, session: Session, evidence: TableEvidence, measure: str) -> None:
    """source.json: where the table comes from, and the digests of the folder as written
    (release submit computes the table again from the dataset to prove it)."""
    claim = SessionClaim(
        area=str(session.area),
        dataset=str(session.dataset),
        measure=measure,
        dimensions=tuple(d for d, _ in evidence.total_codes),
        values=None if evidence.frequency else evidence.measure,
        files=folder_digests(folder),
    )
    _json(folder / CLAIM, claim.to_dict())


def _json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, indent=2, default=_plain) + "\n", encoding="utf-8")


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _checksums(work: Path) -> None:
    sums = work / "checksums"
    sums.mkdir()
    for path in sorted(p for p in work.iterdir() if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        (sums / f"{path.name}.txt").write_text(digest, encoding="utf-8")
