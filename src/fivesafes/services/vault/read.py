"""The only read path to confidential data: open a dataset, or query an area, for an
actor and a purpose; decided, audited, refused with every reason (see
services/vault/lifecycle.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.errors import AccessDenied, IdentityError, NotFoundError, ValidationError
from fivesafes.governance.access import Decision, decide_access
from fivesafes.governance.grants import STATISTICAL
from fivesafes.services.context import record, resolve_actor, today_or
from fivesafes.services.governance.access import check_access, decision_details, gather_facts
from fivesafes.services.governance.lookup import area_row, dataset_row
from fivesafes.services.vault.register import (
    DATASET,
    OUTPUT,
    STORED,
    QueryOutcome,
    Transact,
    Vault,
    object_of,
    row_from_manifest,
    stored_row,
)
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.vault import (
    AreaStore,
    open_table,
    shred,
)
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.query import query_area, sql_name
from fivesafes.vault.row_level import is_summary, shown
from fivesafes.vault.sql_parse import parse_select

# --- the read path ----------------------------------------------------------------------


def _denied(what: str, decisions: dict[str, Decision]) -> AccessDenied:
    reasons = tuple(
        f"{ds}: {reason.message}" if len(decisions) > 1 else reason.message
        for ds, d in decisions.items()
        for reason in d.reasons
    )
    return AccessDenied(
        f"access to {what} is denied",
        reasons=reasons,
        hint="see `fivesafes access check` for what is missing; every attempt is audited",
    )


def _decide(
    tx: Transact,
    login: str,
    area: str,
    names: Sequence[str],
    purpose: str,
    today: date | None,
    project_ref: str | None,
) -> dict[str, Decision]:
    """Decide and audit access to each dataset, committed before anyone acts on it."""
    with tx() as session:
        try:
            actor = resolve_actor(session, login)
        except IdentityError as exc:
            refused = exc
        else:
            return {
                n: check_access(session, actor, login, n, purpose, today, project_ref)
                for n in names
            }
    # An unregistered login or a leaver still attempted an access: that attempt is
    # audited as a denial (the login as actor, committed on its own) before refusing.
    with tx() as session:
        for n in names:
            _audit_refused(session, login, n, purpose, today, project_ref)
    raise refused


def _audit_refused(
    session: Session,
    login: str,
    name: str,
    purpose: str,
    today: date | None,
    project_ref: str | None,
) -> None:
    day = today_or(today)
    facts = gather_facts(session, login, name, purpose, day, project_ref)
    decision = decide_access(facts, day)
    details = decision_details(facts, decision) | {"project": project_ref}
    # Fail closed: whatever the register says, a login that cannot act is denied.
    details["allowed"] = False
    record(
        session,
        login,
        "access.decide",
        outcome=Outcome.DENIED,
        area=facts.dataset_area,
        dataset=name,
        subject=login,
        details=details,
    )


def _stored_dataset(tx: Transact, area: str, name: str) -> None:
    with tx() as session:
        area_id = area_row(session, area).id
        ds = dataset_row(session, name)
        if ds.area_id != area_id:
            raise NotFoundError(
                f"dataset {name!r} is not in area {area!r} (it is in {ds.area.name!r})",
                hint=f"use {ds.area.name}/{name}",
            )
        if stored_row(session, area_id, DATASET, name) is None:
            raise NotFoundError(
                f"dataset {area}/{name} is registered but holds no data",
                hint=f"ingest it: fivesafes dataset ingest {area} FILE --name {name}",
            )


def open_dataset_for(
    tx: Transact,
    vault: Vault,
    login: str,
    area: str,
    name: str,
    purpose: str = STATISTICAL,
    *,
    today: date | None = None,
    project_ref: str | None = None,
    columns: Sequence[str] | None = None,
    record_keys: bool = False,
) -> pa.Table:
    """Open dataset AREA/NAME for ``login`` and ``purpose``: decided, audited, else denied.

    The record keys drawn at ingest come only with ``record_keys=True`` (the table
    protection's read): whoever holds them can undo a perturbed table's noise."""
    decisions = _decide(tx, login, area, [name], purpose, today, project_ref)
    if not decisions[name].allowed:
        raise _denied(f"dataset {area}/{name}", decisions)
    _stored_dataset(tx, area, name)
    store = vault.store(area)
    return open_table(store, vault.provider, name, columns=columns, record_keys=record_keys)


def _tables_read(sql: str, available: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """(datasets of ``available`` the query reads, other tables it names, what it may not call).

    From the parse tree alone (:mod:`fivesafes.vault.sql_parse`): nothing is bound or
    read, so this is safe to run before the access decision.
    """
    parsed = parse_select(sql)
    by_sql = {sql_name(n): n for n in available}
    # A CTE named like a dataset still counts as reading it (stricter, never looser).
    names = sorted(by_sql[t] for t in parsed.tables if t in by_sql)
    unknown = sorted(t for t in parsed.outside() if t not in by_sql)
    return names, unknown, list(parsed.forbidden)


def _not_stored(unknown: Sequence[str], available: Sequence[str]) -> NotFoundError:
    return NotFoundError(
        f"the query reads {', '.join(unknown)}, which the area does not store",
        hint="the area's datasets are: " + (", ".join(sorted(available)) or "none"),
    )


def _forbidden(names: Sequence[str]) -> ValidationError:
    return ValidationError(
        f"the query names {', '.join(names)}: an area query reads only the area's datasets",
        hint="name datasets by their plain name in FROM; files, other databases and table "
        "functions (other than range, generate_series, unnest) are not reachable",
    )


def _no_dataset() -> ValidationError:
    return ValidationError(
        "the query reads no dataset of the area",
        hint='name a dataset in FROM, e.g. "SELECT count(*) FROM survey"',
    )


def referenced_datasets(sql: str, available: Sequence[str]) -> list[str]:
    """The datasets (of ``available``) a query reads, from DuckDB's own parser (no binding)."""
    names, unknown, forbidden = _tables_read(sql, available)
    if forbidden:
        raise _forbidden(forbidden)
    if unknown:
        raise _not_stored(unknown, available)
    if not names:
        raise _no_dataset()
    return names


def _audit_refused_query(
    tx: Transact,
    login: str,
    area: str,
    purpose: str,
    refusals: Sequence[tuple[str | None, str, str]],
) -> None:
    """A refused query is an attempted access: one denial per (dataset, code, message)."""
    with tx() as session:
        for name, code, message in refusals:
            record(
                session,
                login,
                "access.decide",
                outcome=Outcome.DENIED,
                area=area,
                dataset=name,
                subject=login,
                details={
                    "person": login,
                    "purpose": purpose,
                    "allowed": False,
                    "reasons": [{"code": code, "message": message}],
                },
            )


def _classified(
    tx: Transact, login: str, area: str, sql: str, purpose: str, stored: Sequence[str]
) -> list[str]:
    """The datasets ``sql`` reads; anything else is refused and the refusal audited."""
    try:
        names, unknown, forbidden = _tables_read(sql, stored)
    except ValidationError as exc:
        _audit_refused_query(tx, login, area, purpose, [(None, "not_one_select", exc.message)])
        raise
    if forbidden:
        message = f"the query names {', '.join(forbidden)}, outside the area's datasets"
        _audit_refused_query(tx, login, area, purpose, [(None, "not_allowed", message)])
        raise _forbidden(forbidden)
    if unknown:
        refusals = [(n, "not_stored", f"area {area} stores no dataset {n}") for n in unknown]
        _audit_refused_query(tx, login, area, purpose, refusals)
        raise _not_stored(unknown, stored)
    if not names:
        _audit_refused_query(tx, login, area, purpose, [(None, "no_dataset", "reads no dataset")])
        raise _no_dataset()
    return names


def query_area_for(
    tx: Transact,
    vault: Vault,
    login: str,
    area: str,
    sql: str,
    purpose: str = STATISTICAL,
    *,
    today: date | None = None,
    project_ref: str | None = None,
    memory_limit: str | None = None,
    show: int = 0,
) -> QueryOutcome:
    """Run SQL over the area's datasets for ``login``; the result is stored encrypted.

    The SQL is classified from its parse tree only, access is decided (and audited),
    and only then does the query meet the data, on a locked connection. At most
    ``show`` rows are shown (``QueryOutcome.shown``), within the area's row-level
    policy (:mod:`fivesafes.vault.row_level`); the audit event of the query records
    how many rows were shown and the SHA-256 of exactly what was.
    """
    try:
        with tx() as session:
            found = area_row(session, area)
            area_id, max_rows = found.id, found.max_rows or 0
            stored = session.scalars(
                select(VaultObjectRow.name).where(
                    VaultObjectRow.area_id == area_id,
                    VaultObjectRow.kind == DATASET,
                    VaultObjectRow.state == STORED,
                )
            ).all()
    except NotFoundError as exc:
        # Probing for areas by name is an attempted access too: audited, as a denial.
        _audit_refused_query(tx, login, area, purpose, [(None, "unknown_area", exc.message)])
        raise
    names = _classified(tx, login, area, sql, purpose, list(stored))
    decisions = _decide(tx, login, area, names, purpose, today, project_ref)
    if not all(d.allowed for d in decisions.values()):
        raise _denied(f"area {area} ({', '.join(names)})", decisions)
    view = _View(show, is_summary(sql), max_rows)
    store = vault.store(area)
    with area_lock(store, exclusive=False):
        return _query_locked(
            tx, vault, login, store, area_id, sql, purpose, names, memory_limit, view
        )


@dataclass(frozen=True)
class _View:
    """What the caller asked to see and what the area allows."""

    wanted: int
    summary: bool
    max_rows: int


def _query_locked(
    tx: Transact,
    vault: Vault,
    login: str,
    store: AreaStore,
    area_id: int,
    sql: str,
    purpose: str,
    names: list[str],
    memory_limit: str | None,
    view: _View,
) -> QueryOutcome:
    area = store.area
    result = query_area(
        store,
        vault.provider,
        sql,
        run_by=login,
        datasets=names,
        memory_limit=memory_limit or vault.memory_limit,
    )
    seen = shown(result.table, view.summary, view.max_rows, view.wanted, area)
    try:
        with tx() as session:
            session.add(row_from_manifest(area_id, OUTPUT, result.output, None))
            session.flush()
            record(
                session,
                login,
                "area.query",
                area=area,
                subject=result.output.name,
                details={
                    "sql": sql,
                    "purpose": purpose,
                    "datasets": names,
                    "output": result.output.name,
                    "rows": result.output.rows,
                    "sha256": result.output.provenance.sha256,
                    "summary": seen.summary,
                    "shown_rows": len(seen.rows),
                    "shown_sha256": seen.sha256,
                    "withheld": seen.withheld,
                },
            )
            row = stored_row(session, area_id, OUTPUT, result.output.name)
            assert row is not None
            return QueryOutcome(object_of(row), result.table, seen)
    except BaseException:
        shred(store, result.output.name, kind="outputs")
        raise


def split_dataset_ref(ref: str) -> tuple[str, str]:
    """(area, name) of ``AREA/NAME``; ValidationError otherwise."""
    area, sep, name = ref.partition("/")
    if not sep or not area or not name or "/" in name:
        raise ValidationError(
            f"--dataset {ref!r} is not AREA/NAME", hint="e.g. --dataset earnings/ashe"
        )
    return area, name


def open_dataset_ref(
    workspace: Any,
    ref: str,
    purpose: str = STATISTICAL,
    *,
    login: str | None = None,
    project_ref: str | None = None,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """Open ``AREA/NAME`` in ``workspace`` for the acting login, in memory only."""
    area, name = split_dataset_ref(ref)
    if login is None:
        from fivesafes.workspace.identity import current_login

        login = current_login(workspace)
    return open_dataset_for(
        workspace.transaction,
        Vault.of(workspace),
        login,
        area,
        name,
        purpose,
        project_ref=project_ref,
        columns=columns,
    )
