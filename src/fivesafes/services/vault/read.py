"""The only read path to confidential data: open a dataset, or query an area, for an
actor and a purpose; decided, audited, refused with every reason (see
services/vault/lifecycle.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb
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
from fivesafes.vault.query import query_area, sql_name
from fivesafes.vault.writer import area_lock

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
) -> pa.Table:
    """Open dataset AREA/NAME for ``login`` and ``purpose``: decided, audited, else denied."""
    decisions = _decide(tx, login, area, [name], purpose, today, project_ref)
    if not decisions[name].allowed:
        raise _denied(f"dataset {area}/{name}", decisions)
    _stored_dataset(tx, area, name)
    return open_table(vault.store(area), vault.provider, name, columns=columns)


def _tables_read(sql: str, available: Sequence[str]) -> tuple[list[str], list[str]]:
    """(datasets of ``available`` the query reads, other table names it reads)."""
    by_sql = {sql_name(n): n for n in available}
    try:
        tables = duckdb.get_table_names(sql, qualified=False)
    except duckdb.ParserException as exc:
        raise ValidationError(f"the query does not parse: {exc}", hint="fix the SQL") from None
    except duckdb.Error:
        # Some valid queries (JOIN ... USING) need binding to list their tables: then
        # every dataset of the area counts as read (stricter, never looser).
        tables = set(by_sql)
    unknown = sorted(t for t in tables if t not in by_sql)
    return sorted(by_sql[t] for t in tables if t in by_sql), unknown


def _not_stored(unknown: Sequence[str], available: Sequence[str]) -> NotFoundError:
    return NotFoundError(
        f"the query reads {', '.join(unknown)}, which the area does not store",
        hint="the area's datasets are: " + (", ".join(sorted(available)) or "none"),
    )


def referenced_datasets(sql: str, available: Sequence[str]) -> list[str]:
    """The datasets (of ``available``) a query reads, from DuckDB's own parser."""
    names, unknown = _tables_read(sql, available)
    if unknown:
        raise _not_stored(unknown, available)
    if not names:
        raise ValidationError(
            "the query reads no dataset of the area",
            hint='name a dataset in FROM, e.g. "SELECT count(*) FROM survey"',
        )
    return names


def _audit_not_stored(
    tx: Transact, login: str, area: str, unknown: Sequence[str], purpose: str
) -> None:
    """A query naming tables the area does not store is an attempted access: deny, audit."""
    with tx() as session:
        for name in unknown:
            reason = {"code": "not_stored", "message": f"area {area} stores no dataset {name}"}
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
                    "reasons": [reason],
                },
            )


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
) -> QueryOutcome:
    """Run SQL over the area's datasets for ``login``; the result is stored encrypted."""
    with tx() as session:
        area_id = area_row(session, area).id
        stored = session.scalars(
            select(VaultObjectRow.name).where(
                VaultObjectRow.area_id == area_id,
                VaultObjectRow.kind == DATASET,
                VaultObjectRow.state == STORED,
            )
        ).all()
    names, unknown = _tables_read(sql, list(stored))
    if unknown:
        _audit_not_stored(tx, login, area, unknown, purpose)
        raise _not_stored(unknown, list(stored))
    names = referenced_datasets(sql, list(stored))  # refuses a query that reads nothing
    decisions = _decide(tx, login, area, names, purpose, today, project_ref)
    if not all(d.allowed for d in decisions.values()):
        raise _denied(f"area {area} ({', '.join(names)})", decisions)
    store = vault.store(area)
    with area_lock(store, exclusive=False):
        return _query_locked(tx, vault, login, store, area_id, sql, purpose, names, memory_limit)


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
) -> QueryOutcome:
    area = store.area
    result = query_area(
        store, vault.provider, sql, run_by=login, datasets=names, memory_limit=memory_limit
    )
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
                },
            )
            row = stored_row(session, area_id, OUTPUT, result.output.name)
            assert row is not None
            return QueryOutcome(object_of(row), result.table)
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
