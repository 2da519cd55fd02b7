"""The vault services: ingest, the audited read path, query, destroy, rotate, retention."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from governance_register import TODAY, Register
from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import (
    AccessDenied,
    ConflictError,
    DataError,
    IdentityError,
    NotFoundError,
    ValidationError,
)
from fivesafes.governance.areas import Dataset
from fivesafes.services.governance import datasets, grants, people
from fivesafes.services.vault import ingest
from fivesafes.services.vault import lifecycle as svc
from fivesafes.store.db import transaction
from fivesafes.store.models.audit import AuditRecord

Tx = Callable[[], AbstractContextManager[Session]]


@pytest.fixture
def ashe_rows() -> int:
    return 200  # the conftest's CSV, with 200 people


def _granted(reg: Register, login: str = "ada") -> None:
    reg.make_ready(login)
    gid = reg.act(login, grants.request_grant, login, "earnings", "LFS tables", today=TODAY).id
    reg.act("iris", grants.approve_grant, gid, None, TODAY)


def _actions(reg: Register, since: int) -> list[tuple[str, str]]:
    with transaction(reg.engine) as s:
        rows = s.scalars(
            select(AuditRecord).where(AuditRecord.seq > since).order_by(AuditRecord.seq)
        )
        return [(r.action, r.outcome) for r in rows]


def test_ingest_registers_provenance_and_audits(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    before = reg.audit_count()
    stored = svc.ingest_dataset(
        tx, vault, "iris", "earnings", ashe_csv, name="ashe", pseudonymise=["person_id"]
    )
    assert stored.rows == 200 and stored.state == svc.STORED and stored.ingested_by == "iris"
    assert stored.columns == (("person_id", "string"), ("region", "string"), ("pay", "int64"))
    assert stored.source == "ashe.csv" and len(stored.source_sha256) == 64
    assert _actions(reg, before) == [("area.key_create", "done"), ("dataset.ingest", "done")]
    assert reg.last_event().details["sha256"] == stored.source_sha256
    assert svc.list_stored(tx, "earnings") == [stored]
    assert vault.store("earnings").names() == ["ashe"]


def test_bad_ingests_change_nothing(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    snapshot = reg.snapshot()
    with pytest.raises(AccessDenied):
        svc.ingest_dataset(tx, vault, "ada", "earnings", ashe_csv, name="ashe")
    with pytest.raises(NotFoundError):
        svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="unregistered")
    assert reg.snapshot() == snapshot and not vault.store("earnings").names()
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    snapshot = reg.snapshot()
    with pytest.raises(ConflictError):
        svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    assert reg.snapshot() == snapshot


def test_failed_registration_shreds_the_new_object(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ingest.record

    def failing(session: Session, actor: str, action: str, **kw: object) -> None:
        if action == "dataset.ingest":
            raise RuntimeError("database went away")
        real(session, actor, action, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest, "record", failing)
    with pytest.raises(RuntimeError):
        svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    assert vault.store("earnings").names() == [] and svc.list_stored(tx) == []


def test_orphan_of_a_killed_ingest_is_shredded_on_the_next(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    from fivesafes.vault import ingest_file

    # Files complete, registration never committed (the process died in between).
    vault.provider.create_key("earnings")
    store = vault.store("earnings")
    store.create()
    ingest_file(store, vault.provider, ashe_csv, name="ashe", ingested_by="iris")
    before = reg.audit_count()
    stored = svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    assert _actions(reg, before) == [("vault.orphan_shred", "done"), ("dataset.ingest", "done")]
    assert store.manifest("ashe").object_id == stored.object_id
    # retention run reconciles too, and leaves registered objects alone
    ingest_file(store, vault.provider, ashe_csv, name="stray", ingested_by="iris")
    svc.run_retention(tx, vault, "root", TODAY)
    assert store.names() == ["ashe"]


def test_read_path_denies_with_reasons_and_audits(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    before = reg.audit_count()
    with pytest.raises(AccessDenied) as info:
        svc.open_dataset_for(tx, vault, "ada", "earnings", "ashe", today=TODAY)
    assert len(info.value.reasons) >= 2  # training, declaration, grant...
    assert any("grant" in r for r in info.value.reasons)
    # The denial was committed to the audit log even though the call raised.
    assert _actions(reg, before) == [("access.decide", "denied")]
    _granted(reg)
    before = reg.audit_count()
    table = svc.open_dataset_for(tx, vault, "ada", "earnings", "ashe", today=TODAY)
    assert table.equals(pacsv.read_csv(ashe_csv))
    assert _actions(reg, before) == [("access.decide", "allowed")]
    with pytest.raises(AccessDenied):
        svc.open_dataset_for(tx, vault, "ada", "earnings", "ashe", "commercial", today=TODAY)
    cols = svc.open_dataset_for(tx, vault, "ada", "earnings", "ashe", today=TODAY, columns=["pay"])
    assert cols.column_names == ["pay"]


def test_unregistered_or_leaver_attempt_is_an_audited_denial(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    _granted(reg, "bob")
    reg.act("root", people.mark_leaver, "bob")
    sql = "SELECT count(*) FROM ashe"
    for login in ("mallory", "bob"):
        before = reg.audit_count()
        with pytest.raises(IdentityError):
            svc.open_dataset_for(tx, vault, login, "earnings", "ashe", today=TODAY)
        with pytest.raises(IdentityError):
            svc.query_area_for(tx, vault, login, "earnings", sql, today=TODAY)
        assert _actions(reg, before) == [("access.decide", "denied")] * 2
        event = reg.last_event()
        assert (event.actor, event.subject, event.dataset) == (login, login, "ashe")
        assert event.details["allowed"] is False and event.details["reasons"]
    assert vault.store("earnings").names("outputs") == []


def test_query_is_decided_audited_and_stored_encrypted(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    sql = "SELECT region, count(*) AS n, sum(pay) AS pay FROM ashe GROUP BY region ORDER BY region"
    with pytest.raises(AccessDenied):
        svc.query_area_for(tx, vault, "bob", "earnings", sql, today=TODAY)
    assert vault.store("earnings").names("outputs") == []
    _granted(reg)
    before = reg.audit_count()
    out = svc.query_area_for(tx, vault, "ada", "earnings", sql, today=TODAY)
    assert out.table.column("n").to_pylist() == [100, 100]
    assert out.output.kind == svc.OUTPUT and out.output.rows == 2 and out.output.source == sql
    assert _actions(reg, before) == [("access.decide", "allowed"), ("area.query", "done")]
    assert vault.store("earnings").names("outputs") == [out.output.name]
    before = reg.audit_count()
    with pytest.raises(NotFoundError, match="nope"):
        svc.query_area_for(tx, vault, "ada", "earnings", "SELECT * FROM nope", today=TODAY)
    # Naming a table the area does not store is an attempted access: an audited denial.
    assert _actions(reg, before) == [("access.decide", "denied")]
    assert (reg.last_event().dataset, reg.last_event().actor) == ("nope", "ada")
    with pytest.raises(ValidationError):
        svc.query_area_for(tx, vault, "ada", "earnings", "SELECT 1", today=TODAY)


def test_destroy_crypto_shreds_and_keeps_the_facts(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    stored = svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    with pytest.raises(AccessDenied):
        svc.destroy_dataset(tx, vault, "ada", "earnings", "ashe", "not mine")
    with pytest.raises(ValidationError):
        svc.destroy_dataset(tx, vault, "iris", "earnings", "ashe", " ")
    before = reg.audit_count()
    gone = svc.destroy_dataset(tx, vault, "iris", "earnings", "ashe", "survey withdrawn")
    assert gone.state == svc.DESTROYED and gone.destroyed_by == "iris"
    assert gone.rows == stored.rows and gone.source_sha256 == stored.source_sha256
    assert _actions(reg, before) == [("dataset.destroy", "done"), ("area.rotate_key", "done")]
    assert vault.store("earnings").names() == []
    assert vault.provider.key_ids("earnings") == ["earnings/v2"]
    assert svc.list_stored(tx, "earnings") == []
    assert [o.state for o in svc.list_stored(tx, "earnings", include_destroyed=True)] == [
        "destroyed"
    ]
    _granted(reg)
    with pytest.raises(NotFoundError, match="holds no data"):
        svc.open_dataset_for(tx, vault, "ada", "earnings", "ashe", today=TODAY)
    # The register entry stays; the data can be ingested again.
    again = svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    assert again.object_id != stored.object_id


def test_rotate_key(reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path) -> None:
    with pytest.raises(NotFoundError):
        svc.rotate_area_key_for(tx, vault, "iris", "earnings")
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    with pytest.raises(AccessDenied):
        svc.rotate_area_key_for(tx, vault, "ada", "earnings")
    r = svc.rotate_area_key_for(tx, vault, "root", "earnings")
    assert r.new_key_id == "earnings/v2" and r.rewrapped == 1
    assert [o.key_id for o in svc.list_stored(tx)] == ["earnings/v2"]
    assert reg.last_event().action == "area.rotate_key"
    _granted(reg)
    assert svc.open_dataset_for(tx, vault, "ada", "earnings", "ashe", today=TODAY).num_rows == 200


def test_retention_run(reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path) -> None:
    reg.act(
        "iris",
        datasets.register_dataset,
        Dataset("lfs", "earnings", True, True, True, "LFS", "SRSA 2007", date(2026, 7, 1)),
        TODAY,
    )
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="lfs")
    with pytest.raises(AccessDenied):
        svc.run_retention(tx, vault, "iris", date(2026, 8, 1))
    assert svc.run_retention(tx, vault, "root", date(2026, 7, 1)) == []
    done = svc.run_retention(tx, vault, "root", date(2026, 7, 2))
    assert [(d.name, d.state) for d in done] == [("lfs", "destroyed")]
    assert "retention" in (done[0].destroy_reason or "")
    assert vault.store("earnings").names() == ["ashe"]
    assert [o.name for o in svc.list_stored(tx)] == ["ashe"]


def test_open_dataset_ref_in_a_workspace(workspace: object, tmp_path: Path) -> None:
    from fivesafes.services.context import resolve_actor
    from fivesafes.services.governance import people

    ws = workspace
    with ws.transaction() as s:  # type: ignore[attr-defined]
        people.bootstrap_administrator(s, "root", "Root")
    with ws.transaction() as s:  # type: ignore[attr-defined]
        from fivesafes.governance.roles import Role
        from fivesafes.services.governance import areas

        root = resolve_actor(s, "root")
        people.register_person(s, root, "iris", "Iris", [Role.INFORMATION_ASSET_OWNER])
        areas.create_area(s, root, "survey", "iris")
    with ws.transaction() as s:  # type: ignore[attr-defined]
        datasets.register_dataset(
            s, resolve_actor(s, "root"), Dataset("lfs", "survey", True, True, True, "LFS", "SRSA")
        )
    src = tmp_path / "lfs.csv"
    src.write_text("a,b\n1,2\n3,4\n")
    svc.ingest_dataset(ws.transaction, svc.Vault.of(ws), "root", "survey", src, name="lfs")  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="AREA/NAME"):
        svc.open_dataset_ref(ws, "lfs", login="root")
    # root is an administrator but holds no grant, training or declaration: denied.
    with pytest.raises(AccessDenied) as info:
        svc.open_dataset_ref(ws, "survey/lfs", login="root")
    assert info.value.reasons


def test_ingest_and_rotation_at_once_neither_waits_for_ever(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    import threading

    reg.act(
        "iris",
        datasets.register_dataset,
        Dataset("lfs", "earnings", True, True, True, "LFS", "SRSA 2007"),
        TODAY,
    )
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    errors: list[BaseException] = []

    def run(fn: Callable[[], object]) -> threading.Thread:
        def body() -> None:
            try:
                fn()
            except BaseException as exc:  # reported below
                errors.append(exc)

        t = threading.Thread(target=body)
        t.start()
        return t

    threads = [
        run(lambda: svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="lfs")),
        run(lambda: svc.rotate_area_key_for(tx, vault, "iris", "earnings")),
        run(lambda: svc.rotate_area_key_for(tx, vault, "root", "earnings")),
    ]
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a lock waited for ever"
    assert errors == []
    _granted(reg)
    for name in ("ashe", "lfs"):
        assert svc.open_dataset_for(tx, vault, "ada", "earnings", name, today=TODAY).num_rows == 200
    assert [o.key_id for o in svc.list_stored(tx)] == ["earnings/v3", "earnings/v3"]


def test_referenced_datasets() -> None:
    names = ["lfs-2024", "ashe", "aps"]
    sql = "WITH x AS (SELECT * FROM ashe) SELECT * FROM x, lfs_2024"
    assert svc.referenced_datasets(sql, names) == ["ashe", "lfs-2024"]
    # From the parse tree alone (nothing bound): JOIN ... USING names exactly its tables.
    assert svc.referenced_datasets("SELECT * FROM ashe JOIN aps USING (id)", names) == [
        "aps",
        "ashe",
    ]
    # A CTE named like a dataset still counts as reading the dataset (stricter).
    assert svc.referenced_datasets("WITH aps AS (SELECT 1) SELECT * FROM aps, ashe", names) == [
        "aps",
        "ashe",
    ]
    for outside in ("read_csv('/etc/passwd')", "'x.csv'", "other.main.t", "duckdb_settings()"):
        with pytest.raises((ValidationError, NotFoundError), match=r"outside|names|store"):
            svc.referenced_datasets(f"SELECT * FROM ashe, {outside}", names)
    with pytest.raises(ValidationError, match="parse"):
        svc.referenced_datasets("SELEC nonsense", names)
    with pytest.raises(NotFoundError, match="secret"):
        svc.referenced_datasets("SELECT * FROM secret", names)


@pytest.mark.parametrize(
    "sql",
    [
        # error() raises with a message the query builds: the whole column in one error
        "SELECT count(*) AS n FROM ashe "
        "WHERE error((SELECT string_agg(person_id || '=' || pay, ',') FROM ashe)) IS NULL",
        "SELECT count(*) AS n FROM ashe WHERE CAST(person_id AS INTEGER) > 0",
        "SELECT count(*) AS n FROM ashe WHERE json(person_id || '{') IS NULL",
        "SELECT count(*) AS n FROM ashe WHERE strptime(person_id, '%Y') IS NULL",
        "SELECT sum(CAST(pay AS TINYINT)) AS n FROM ashe",
    ],
)
def test_a_failing_query_never_quotes_the_rows_in_its_error(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path, sql: str
) -> None:
    """Error-based exfiltration: the row-level policy withholds rows from what is shown,
    but DuckDB's error messages quote the values that made a query fail, and error(...)
    raises any text the query computes. The error says what kind of failure it was and
    never a value; the attempt is audited."""
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    _granted(reg)
    before = reg.audit_count()
    with pytest.raises(DataError) as caught:
        svc.query_area_for(tx, vault, "ada", "earnings", sql, today=TODAY)
    text = f"{caught.value.message} {caught.value.hint}"
    assert "ID0" not in text and "128" not in text, text
    assert "withheld" in caught.value.message
    assert ("access.decide", "allowed") in _actions(reg, before)


def test_a_query_naming_an_unknown_column_still_says_which(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    """Errors found before any row is read (parser, binder) keep their message."""
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    _granted(reg)
    with pytest.raises((DataError, ValidationError, NotFoundError), match="wage"):
        svc.query_area_for(
            tx, vault, "ada", "earnings", "SELECT sum(wage) AS n FROM ashe", today=TODAY
        )
