"""Subject access: one person's records, found in every area, for the case officer to send.

A subject access request (UK GDPR Art. 15) is the one case where records of a named
person leave an area, to that person. The system does the search, not the officer: it
matches the identifier against every dataset's identifier columns (a pseudonymised
column through the area's pseudonym key, which only the system holds; a named column
as written), so the officer never browses an area. The rows found are sealed at once
under the requests area's key; what was searched and how many rows each dataset gave
are recorded in the audit log (never the identifier nor a value), and so is the export
handed to the officer for sending.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import NotFoundError, ValidationError
from fivesafes.release.sealing import seal, unseal
from fivesafes.requests.kinds import RequestKind
from fivesafes.sdc import csv_row
from fivesafes.services.context import record, resolve_actor
from fivesafes.services.governance.qualification import require_qualified
from fivesafes.services.requests.cases import answering_case, case_row
from fivesafes.services.vault.register import Vault
from fivesafes.store.models.governance import AreaRow
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.atomic import atomic_write_bytes
from fivesafes.vault.manifest import Manifest
from fivesafes.vault.pseudonymise import area_pseudonym_key, pseudonym
from fivesafes.vault.reader import open_table
from fivesafes.vault.store import AreaStore

SEARCH = "request.subject_search"
EXPORT = "request.subject_export"
FOLDER = "subject-access"

Transact = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class SubjectFind:
    """Rows of one dataset that belong to the subject (matched on ``columns``)."""

    area: str
    dataset: str
    columns: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class SubjectSearch:
    """What one search looked at and found; the rows themselves are sealed."""

    case_id: int
    searched: tuple[str, ...]  # AREA/NAME of every dataset with an identifier column
    found: tuple[SubjectFind, ...]


def object_id(case_id: int) -> str:
    """The sealed export's object id (its authenticated data binds it to the case)."""
    return f"request-{case_id}-subject-records"


def identifier_columns(manifest: Manifest, columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """The dataset's columns that may hold the subject's identifier: pseudonymised at
    ingest (matched through the area's pseudonym key), and those named (as written)."""
    names = {c.name for c in manifest.columns}
    pseudonymised = [c for c in manifest.extra.get("pseudonymised", []) if c in names]
    return pseudonymised, [c for c in columns if c in names and c not in pseudonymised]


def subject_mask(table: pa.Table, wanted: Mapping[str, str]) -> pa.ChunkedArray:
    """Which rows hold the subject: any of ``wanted`` {column: identifier or pseudonym}."""
    mask = None
    for column, value in wanted.items():
        hit = pc.equal(pc.cast(table[column], pa.string()), value)
        mask = hit if mask is None else pc.or_(mask, hit)
    return pc.fill_null(mask, False)


def records_path(vault: Vault, requests_area: str, case_id: int) -> Path:
    """Where the case's sealed subject records are kept (until its retention ends)."""
    return vault.store(requests_area).dir / FOLDER / f"case-{case_id}.json"


@dataclass(frozen=True)
class SubjectDataset:
    """A dataset that may hold the subject, and what the subject's rows hold there."""

    area: str
    store: AreaStore
    manifest: Manifest
    pseudonymised: tuple[str, ...]  # identifier columns matched through the pseudonym key
    wanted: Mapping[str, str]  # {column: the identifier, or its pseudonym in this area}


def sar_areas(
    tx: Transact,
    login: str,
    case_id: int,
    today: date | None,
    *,
    doing: str,
    sar_only: str,
    checked_for: str,
) -> tuple[str, list[str]]:
    """(the case's requests area, every other area) for the case's officer acting on a
    subject access case, who passes an analyst's people checks for every one of those
    areas (audited allowed or denied). ``doing``, ``sar_only`` and ``checked_for`` word
    the refusals and the checks."""
    with tx() as session:
        actor = resolve_actor(session, login)
        row = answering_case(session, actor, case_id, doing)
        if RequestKind(row.kind) is not RequestKind.SAR:
            raise ValidationError(
                f"request #{case_id} is a {row.kind} request: {sar_only}",
                hint="open the case with --kind sar",
            )
        requests_area = row.area
        areas = [
            a for a in session.scalars(select(AreaRow.name).order_by(AreaRow.name))
            if a != requests_area
        ]  # fmt: skip
        for area in areas:
            require_qualified(session, actor, area, f"{checked_for} for #{case_id}", today)
    return requests_area, areas


def subject_datasets(
    vault: Vault, areas: Sequence[str], identifier: str, columns: Sequence[str]
) -> Iterator[SubjectDataset]:
    """Every stored dataset of ``areas`` with a column that may hold the subject (each
    area's pseudonym key unwrapped once, when a dataset of it needs it)."""
    for area in areas:
        store = vault.store(area)
        if not store.exists():
            continue
        key: bytes | None = None
        for manifest in store.manifests():
            pseudonymised, named = identifier_columns(manifest, columns)
            if not pseudonymised and not named:
                continue
            wanted = {c: identifier for c in named}
            if pseudonymised:
                key = key or area_pseudonym_key(store, vault.provider)
                wanted |= {c: pseudonym(key, identifier) for c in pseudonymised}
            yield SubjectDataset(area, store, manifest, tuple(pseudonymised), wanted)


def search_subject(
    tx: Transact,
    vault: Vault,
    login: str,
    case_id: int,
    identifier: str,
    *,
    columns: Sequence[str] = (),
    today: date | None = None,
) -> SubjectSearch:
    """Find the subject's rows in every area and seal them for the case (audited)."""
    if not identifier.strip():
        raise ValidationError("the subject's identifier is empty", hint="give --identifier")
    # Whoever sees a person's records passes the same people checks as an analyst, for
    # every area searched.
    requests_area, areas = sar_areas(
        tx,
        login,
        case_id,
        today,
        doing="subject records are searched",
        sar_only="only a subject access request searches a person's records",
        checked_for="search subject records",
    )
    searched: list[str] = []
    found: list[SubjectFind] = []
    records: dict[str, list[dict[str, object]]] = {}
    for d in subject_datasets(vault, areas, identifier, columns):
        label = f"{d.area}/{d.manifest.name}"
        searched.append(label)
        table = open_table(d.store, vault.provider, d.manifest.name)
        rows = table.filter(subject_mask(table, d.wanted))
        if rows.num_rows:
            found.append(
                SubjectFind(d.area, d.manifest.name, tuple(sorted(d.wanted)), rows.num_rows)
            )
            records[label] = rows.to_pylist()
    home = vault.store(requests_area)
    # Sealed and written under the area lock (shared, as an ingest): a rotation of the
    # requests area's key, which re-wraps these files, waits, and never sees a file sealed
    # under the key it is about to destroy. The lock creates the store's folders (0700).
    with area_lock(home, exclusive=False):
        sealed, wrapped = seal(
            vault.provider,
            requests_area,
            object_id(case_id),
            json.dumps(records, default=str, sort_keys=True).encode(),
        )
        path = records_path(vault, requests_area, case_id)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        blob = {"sealed": base64.b64encode(sealed).decode(), "wrapped_key": wrapped}
        atomic_write_bytes(path, json.dumps(blob).encode())
        _record_search(tx, login, requests_area, case_id, searched, found)
    return SubjectSearch(case_id, tuple(searched), tuple(found))


def _record_search(
    tx: Transact,
    login: str,
    requests_area: str,
    case_id: int,
    searched: Sequence[str],
    found: Sequence[SubjectFind],
) -> None:
    with tx() as session:
        record(
            session,
            login,
            SEARCH,
            area=requests_area,
            subject=str(case_id),
            details={
                "searched": searched,
                "found": {f"{f.area}/{f.dataset}": f.rows for f in found},
                "matched_on": {f"{f.area}/{f.dataset}": list(f.columns) for f in found},
            },
        )


def subject_export_files(tx: Transact, vault: Vault, login: str, case_id: int) -> dict[str, str]:
    """The sealed finds as one CSV per dataset (file name -> text), for the case's officer
    to send; the hand-over is audited here, before any file is written anywhere."""
    with tx() as session:
        actor = resolve_actor(session, login)
        answering_case(session, actor, case_id, "subject records are exported")
        area = case_row(session, case_id).area
    path = records_path(vault, area, case_id)
    if not path.is_file():
        raise NotFoundError(
            f"request #{case_id} has no subject records found yet",
            hint=f"run `fivesafes request subject-search {case_id} --identifier ...` first",
        )
    blob = json.loads(path.read_bytes())
    plain = unseal(
        vault.provider,
        area,
        object_id(case_id),
        base64.b64decode(blob["sealed"]),
        blob["wrapped_key"],
    )
    records: dict[str, list[dict[str, object]]] = json.loads(plain)
    files: dict[str, str] = {}
    for source, rows in sorted(records.items()):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        columns = list(rows[0]) if rows else []
        # the officer opens it in a spreadsheet before sending: no text may start a formula
        writer.writerow(csv_row(columns))
        writer.writerows(csv_row([row[c] for c in columns]) for row in rows)
        files[source.replace("/", "__") + ".csv"] = buffer.getvalue()
    with tx() as session:
        record(
            session,
            login,
            EXPORT,
            area=area,
            subject=str(case_id),
            details={"files": list(files), "rows": {
                s: len(r) for s, r in sorted(records.items())
            }},
        )  # fmt: skip
    return files


def write_subject_export(out: Path, files: Mapping[str, str]) -> list[Path]:
    """Write an export's files into the private folder ``out`` (created 0700) where the
    officer runs the command, in process or through the server alike."""
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        # a name from the server is one file's, never a path into another folder
        if Path(name).name != name or not name.endswith(".csv"):
            raise ValidationError(
                f"the export names a file {name!r} that is not a plain CSV file name",
                hint="report it: the server sent an unexpected export",
            )
        target = out / name
        atomic_write_bytes(target, text.encode())
        written.append(target)
    return written


def export_subject(tx: Transact, vault: Vault, login: str, case_id: int, out: Path) -> list[Path]:
    """Write the sealed finds as one CSV per dataset into ``out`` for sending (audited)."""
    return write_subject_export(out, subject_export_files(tx, vault, login, case_id))
