"""Destroy and rotation in the right order: the register commits first, files and keys go after.

Before: `dataset destroy` (and `retention run`) shredded the object's files inside the
destroy's transaction, before it committed: a refused commit or a kill in between left
the register saying "stored" for an object whose files were gone. And a rotation killed
between its commit and the destruction of the old area keys left those key files until
the next rotation. Now the register change commits first; the files are shredded and the
retired keys destroyed after it; whatever a kill leaves in between is orphan ciphertext
and retired key files, which the next sweep of the area (an ingest into it, a destroy, a
rotation, `retention run`) destroys and audits. A key still referenced by a data key is
never destroyed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from governance_register import TODAY, Register
from sealed_cases import requester_of
from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.governance.areas import Dataset
from fivesafes.release.sealing import seal
from fivesafes.services.governance import datasets, grants
from fivesafes.services.requests.cases import requester_object_id
from fivesafes.services.vault import ingest, rotation
from fivesafes.services.vault import lifecycle as svc
from fivesafes.store.db import transaction
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.requests import RequestCaseRow
from fivesafes.store.models.vault import VaultObjectRow

Tx = Callable[[], AbstractContextManager[Session]]

SCRIPT = """
import sys
from pathlib import Path
from fivesafes.services.vault import lifecycle as svc
from fivesafes.store.db import make_engine, transaction
from fivesafes.vault import FileKeyProvider
url, areas, keys, what = sys.argv[1:5]
engine = make_engine(url)
vault = svc.Vault(Path(areas), FileKeyProvider(Path(keys)))
tx = lambda: transaction(engine)
if what == "destroy":
    svc.destroy_dataset(tx, vault, "iris", "earnings", "ashe", "survey withdrawn")
else:
    svc.rotate_area_key_for(tx, vault, "iris", "earnings")
print("finished")
"""


def _granted(reg: Register, login: str = "ada") -> None:
    reg.make_ready(login)
    gid = reg.act(login, grants.request_grant, login, "earnings", "LFS tables", today=TODAY).id
    reg.act("iris", grants.approve_grant, gid, None, TODAY)


def _register_lfs(reg: Register, retention: date | None = None) -> None:
    reg.act(
        "iris",
        datasets.register_dataset,
        Dataset("lfs", "earnings", True, True, True, "LFS", "SRSA 2007", retention),
        TODAY,
    )


def _events(reg: Register, action: str) -> list[AuditRecord]:
    with transaction(reg.engine) as s:
        return list(
            s.scalars(
                select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
            )
        )


def _refusing_commit(reg: Register, monkeypatch: pytest.MonkeyPatch, action: str) -> Tx:
    """A ``tx`` whose transaction is refused at its commit once it recorded ``action`` (as
    a database that goes away, or refuses, at COMMIT): everything in it rolls back."""
    seen: list[str] = []
    real = svc.record

    def spy(session: Session, actor: str, act: str, **kw: Any) -> Any:
        seen.append(act)
        return real(session, actor, act, **kw)

    for module in (svc, ingest, rotation):  # every module of the vault's writes
        monkeypatch.setattr(module, "record", spy)

    @contextmanager
    def refusing() -> Iterator[Session]:
        seen.clear()
        with transaction(reg.engine) as session:
            yield session
            if action in seen:
                raise RuntimeError("the database refused the commit")

    return refusing


def _killed_in_a_process(
    reg: Register, vault: svc.Vault, what: str, fault: str = "rotate.committed"
) -> None:
    """Run ``what`` (destroy, rotate) in a process killed (SIGKILL, no cleanup) at the
    crash point ``fault``; by default as the committed rotation starts destroying old keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVESAFES_")}
    env["FIVESAFES_FAULT"] = fault
    reg.engine.dispose()  # the child writes the same SQLite file
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            reg.engine.url.render_as_string(hide_password=False),
            str(vault.areas_dir),
            str(vault.provider.keys_dir),  # type: ignore[attr-defined]
            what,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stdout, done.stderr)


# --- 1. destroy: the register commits first ----------------------------------------------


def test_a_destroy_whose_commit_is_refused_leaves_the_object_stored_and_whole(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    refusing = _refusing_commit(reg, monkeypatch, "dataset.destroy")
    with pytest.raises(RuntimeError, match="refused the commit"):
        svc.destroy_dataset(refusing, vault, "iris", "earnings", "ashe", "survey withdrawn")
    # The register still says stored, and it is: the files are there and they open.
    assert [(o.name, o.state) for o in svc.list_stored(tx, "earnings")] == [("ashe", "stored")]
    assert vault.store("earnings").names() == ["ashe"]
    assert vault.store("earnings").manifest("ashe").object_id == stored.object_id
    assert _events(reg, "dataset.destroy") == []
    _granted(reg)
    assert svc.open_dataset_for(tx, vault, "ada", "earnings", "ashe", today=TODAY).num_rows == 50
    # And the destroy can simply be retried.
    svc.destroy_dataset(tx, vault, "iris", "earnings", "ashe", "survey withdrawn")
    assert vault.store("earnings").names() == [] and svc.list_stored(tx) == []
    # (the refused rotation's key v2 was made; the retry retired it with v1)
    assert vault.provider.key_ids("earnings") == ["earnings/v3"]


def test_a_retention_run_whose_commit_is_refused_leaves_the_objects_stored(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register_lfs(reg, date(2026, 7, 1))
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="lfs")
    refusing = _refusing_commit(reg, monkeypatch, "dataset.retention_destroy")
    with pytest.raises(RuntimeError, match="refused the commit"):
        svc.run_retention(refusing, vault, "root", date(2026, 7, 2))
    assert sorted(o.name for o in svc.list_stored(tx, "earnings")) == ["ashe", "lfs"]
    assert vault.store("earnings").names() == ["ashe", "lfs"]
    _granted(reg)
    assert svc.open_dataset_for(tx, vault, "ada", "earnings", "lfs", today=TODAY).num_rows == 50
    done = svc.run_retention(tx, vault, "root", date(2026, 7, 2))
    assert [d.name for d in done] == ["lfs"] and vault.store("earnings").names() == ["ashe"]


def test_a_destroy_killed_after_its_commit_leaves_only_orphans_the_next_sweep_destroys(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    _killed_in_a_process(reg, vault, "destroy", "destroy.committed")
    # Committed: the register says destroyed (and the rotation with it); the files and
    # the retired key are what the kill left.
    assert svc.list_stored(tx, "earnings") == []
    assert [e.details["object_id"] for e in _events(reg, "dataset.destroy")]
    assert vault.store("earnings").names() == ["ashe"]
    assert vault.provider.key_ids("earnings") == ["earnings/v1", "earnings/v2"]
    # The orphan was not re-wrapped by the destroy's rotation: only the retired key opens it.
    assert vault.store("earnings").manifest("ashe").wrapped_key.key_id == "earnings/v1"

    # The next ingest into the area sweeps it (the same name can be stored again).
    again = svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    (orphan,) = _events(reg, "vault.orphan_shred")
    assert orphan.details["name"] == "ashe" and orphan.area == "earnings"
    (swept,) = _events(reg, "area.key_sweep")
    assert swept.details["destroyed_key_ids"] == ["earnings/v1"]
    assert vault.provider.key_ids("earnings") == ["earnings/v2"]
    assert vault.store("earnings").manifest("ashe").object_id == again.object_id


@pytest.mark.parametrize("sweep", ["destroy", "rotate", "retention"])
def test_every_sweep_of_the_area_finds_what_a_killed_destroy_left(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path, sweep: str
) -> None:
    _register_lfs(reg)
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="lfs")
    _killed_in_a_process(reg, vault, "destroy", "destroy.committed")
    assert vault.store("earnings").names() == ["ashe", "lfs"]
    if sweep == "destroy":
        svc.destroy_dataset(tx, vault, "iris", "earnings", "lfs", "done with it")
        assert vault.store("earnings").names() == []
    elif sweep == "rotate":
        svc.rotate_area_key_for(tx, vault, "iris", "earnings")
        assert vault.store("earnings").names() == ["lfs"]
    else:
        svc.run_retention(tx, vault, "root", TODAY)
        assert vault.store("earnings").names() == ["lfs"]
    assert [e.details["name"] for e in _events(reg, "vault.orphan_shred")] == ["ashe"]
    assert "earnings/v1" not in vault.provider.key_ids("earnings")


# --- 2. rotation: old keys retired after the commit, swept after a crash -----------------


def test_a_rotation_killed_after_its_commit_leaves_old_keys_the_next_sweep_destroys(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    _register_lfs(reg)
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    _killed_in_a_process(reg, vault, "rotate")
    (rotated,) = _events(reg, "area.rotate_key")
    assert rotated.details["destroyed_key_ids"] == ["earnings/v1"]
    assert vault.provider.key_ids("earnings") == ["earnings/v1", "earnings/v2"]
    # Nothing wrapped under v1 is left: the sweep of the next ingest destroys it, audited.
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="lfs")
    assert vault.provider.key_ids("earnings") == ["earnings/v2"]
    (swept,) = _events(reg, "area.key_sweep")
    assert swept.details == {"destroyed_key_ids": ["earnings/v1"], "kept_in_use": []}
    assert swept.actor == "iris" and swept.area == "earnings"
    _granted(reg)
    for name in ("ashe", "lfs"):
        assert svc.open_dataset_for(tx, vault, "ada", "earnings", name, today=TODAY).num_rows == 50
    # A sweep with nothing to do records nothing.
    svc.run_retention(tx, vault, "root", TODAY)
    assert len(_events(reg, "area.key_sweep")) == 1


def test_a_rotation_whose_commit_is_refused_keeps_every_old_key(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    refusing = _refusing_commit(reg, monkeypatch, "area.rotate_key")
    with pytest.raises(RuntimeError, match="refused the commit"):
        svc.rotate_area_key_for(refusing, vault, "iris", "earnings")
    # The register still says v1: no committed rotation retired it, so no sweep takes it.
    assert [o.key_id for o in svc.list_stored(tx)] == ["earnings/v1"]
    svc.run_retention(tx, vault, "root", TODAY)
    assert "earnings/v1" in vault.provider.key_ids("earnings")
    assert _events(reg, "area.key_sweep") == []


def _seal_a_requester(reg: Register, vault: svc.Vault) -> int:
    """A request case whose requester is sealed under the area's current key (in the
    database: the wrapped data key is a column of the case)."""
    stamp = datetime.now(UTC)
    row = RequestCaseRow(
        kind="foi",
        state="open",
        received=TODAY,
        calendar="working-days",
        summary="a request",
        opened_by="root",
        area="earnings",
        created_at=stamp,
        updated_at=stamp,
    )
    with transaction(reg.engine) as s:
        s.add(row)
        s.flush()
        row.requester_sealed, row.requester_wrapped_key = seal(
            vault.provider, "earnings", requester_object_id(row.id), b'{"requester": "Zed"}'
        )
        return row.id


def _requester_key(reg: Register, case_id: int | None) -> str | None:
    if case_id is None:
        return None
    with transaction(reg.engine) as s:
        case = s.get(RequestCaseRow, case_id)
        return case.requester_wrapped_key if case is not None else None


@pytest.mark.parametrize("reference", ["register row", "sealed in the database", "manifest"])
def test_the_sweep_never_destroys_a_key_a_data_key_still_needs(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path, reference: str
) -> None:
    """A committed rotation says it retired v1, but something still wrapped under v1 is
    found (in the register, in the database, on disk): the sweep keeps v1 and says so."""
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    store = vault.store("earnings")
    manifest_v1 = store.manifest("ashe")
    case_id = _seal_a_requester(reg, vault) if reference == "sealed in the database" else None
    requester_v1 = _requester_key(reg, case_id)
    _killed_in_a_process(reg, vault, "rotate")
    assert vault.provider.key_ids("earnings") == ["earnings/v1", "earnings/v2"]
    if reference == "register row":
        with transaction(reg.engine) as s:
            s.scalars(select(VaultObjectRow)).one().key_id = "earnings/v1"
    elif case_id is not None:  # as if the rotation had not re-wrapped it
        with transaction(reg.engine) as s:
            case = s.get(RequestCaseRow, case_id)
            assert case is not None and case.requester_wrapped_key != requester_v1
            case.requester_wrapped_key = requester_v1
    elif reference == "manifest":
        store.save_manifest(manifest_v1)  # as if its re-wrap had not reached the disk
    svc.run_retention(tx, vault, "root", TODAY)
    assert vault.provider.key_ids("earnings") == ["earnings/v1", "earnings/v2"]
    (swept,) = _events(reg, "area.key_sweep")
    assert swept.details == {"destroyed_key_ids": [], "kept_in_use": ["earnings/v1"]}
    if case_id is not None:
        assert requester_of(reg.engine, vault, case_id)[0] == {"requester": "Zed"}
    if reference == "manifest":
        _granted(reg)
        assert svc.open_dataset_for(tx, vault, "ada", "earnings", "ashe", today=TODAY).num_rows
