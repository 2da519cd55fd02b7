"""Erasure and rectification: carried out where the lawful basis allows (a new encrypted
version of the dataset, the old one shredded), refused with the reason where it does not
(statistics and research); the log has counts and reasons, never the identifier or a value."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from governance_register import TODAY as READY_DAY
from release_world import AREA
from requests_world import RECEIVED, REQUESTER, TODAY
from seal_race import Paused, Running
from sqlalchemy import Engine, select
from stored_world import PAY, Stored, build_stored, write_rows

from fivesafes.errors import AccessDenied, ValidationError
from fivesafes.governance.areas import Dataset
from fivesafes.governance.roles import Role
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.governance import areas, datasets, people
from fivesafes.services.requests import cases, moves, rights
from fivesafes.services.vault import rotation
from fivesafes.services.vault.lifecycle import ingest_dataset
from fivesafes.store.db import transaction
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.vault import VaultObjectRow
from fivesafes.vault import rewrite
from fivesafes.vault.reader import open_table

POLICY = RequestPolicy()
WHO = "a1-p4"


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    """'ashe' (statistics, SRSA) and 'contacts' (a public task), both holding WHO."""
    s = build_stored(engine, tmp_path)
    reg = s.world.reg
    roles = [Role.DATA_PROTECTION_OFFICER, Role.FOI_OFFICER]
    reg.act("root", people.register_person, "dana", "Dana Dpo", roles)
    reg.make_ready("dana")
    reg.act("root", areas.create_area, "requests", "iris")
    entry = Dataset(
        "contacts", AREA, True, True, True, "mailing", "UK GDPR Art 6(1)(e) public task"
    )
    reg.act("iris", datasets.register_dataset, entry, TODAY)
    src = write_rows(tmp_path / "incoming" / "contacts.csv", PAY)
    ingest_dataset(s.tx, s.vault, "iris", AREA, src, name="contacts", pseudonymise=["person"])
    src.unlink()
    return s


def _case(s: Stored, kind: RequestKind = RequestKind.SAR) -> int:
    reg = s.world.reg
    view = reg.act(
        "dana", cases.open_case, s.world.provider, POLICY, kind, RECEIVED, REQUESTER, "erase me",
        TODAY,
    )  # fmt: skip
    reg.act("dana", moves.assign_case, POLICY, view.id, "dana")
    return view.id


def _rows(s: Stored, name: str) -> list[dict[str, object]]:
    return open_table(s.vault.store(AREA), s.vault.provider, name).to_pylist()


def _events(s: Stored, action: str) -> list[AuditRecord]:
    with transaction(s.world.engine) as session:
        found = session.scalars(select(AuditRecord).where(AuditRecord.action == action)).all()
        session.expunge_all()
        return list(found)


def test_erasure_rewrites_what_the_basis_allows_and_refuses_statistics_with_the_reason(
    stored: Stored,
) -> None:
    store = stored.vault.store(AREA)
    old_object = store.manifest("contacts").object_id
    case_id = _case(stored)
    done = rights.erase_subject(
        stored.tx, stored.vault, "dana", case_id, WHO, columns=["person"], today=READY_DAY
    )
    by_name = {o.dataset: o for o in done}
    assert by_name["contacts"].done and by_name["contacts"].rows == 1
    assert not by_name["ashe"].done and "Art 17(3)(d)" in (by_name["ashe"].reason or "")
    # contacts: a new version without the row (its person column holds a pseudonym)
    after = _rows(stored, "contacts")
    assert len(after) == sum(map(len, PAY.values())) - 1
    assert (4 in [r["pay"] for r in after if r["area"] == "a1"]) is True  # other a1 rows stay
    manifest = store.manifest("contacts")
    assert manifest.object_id != old_object and manifest.rows == len(after)
    assert manifest.extra["rewrites"] == [{"request": case_id, "erasure": 1, "columns": []}]
    # the old version is gone from the area (crypto-shredded), nothing left in staging
    assert not any(old_object in p.read_text() for p in store.dir.rglob("manifest.json"))
    # ashe: untouched
    assert WHO in [r["person"] for r in _rows(stored, "ashe")]
    with transaction(stored.world.engine) as s:
        row = s.scalars(select(VaultObjectRow).where(VaultObjectRow.name == "contacts")).one()
        assert row.object_id == manifest.object_id and row.rows == len(after)
    assert len(_events(stored, "area.rotate_key")) == 1  # old wrapped keys open no more
    (event,) = _events(stored, "request.erase")
    details = json.loads(event.details_text or "{}")
    assert details["datasets"][f"{AREA}/contacts"] == {"rows": 1, "done": True, "reason": None}
    assert details["datasets"][f"{AREA}/ashe"]["done"] is False
    assert WHO not in (event.details_text or "") and "a1-p" not in (event.details_text or "")


def test_rectification_replaces_the_named_columns_in_the_subjects_rows_only(
    stored: Stored,
) -> None:
    case_id = _case(stored)
    done = rights.rectify_subject(
        stored.tx, stored.vault, "dana", case_id, WHO, {"pay": "7"}, columns=["person"],
        today=READY_DAY,
    )  # fmt: skip
    assert [(o.dataset, o.done) for o in done] == [("ashe", False), ("contacts", True)]
    pays = [r["pay"] for r in _rows(stored, "contacts") if r["area"] == "a1"]
    assert sorted(pays) == sorted([*PAY["a1"][:4], *PAY["a1"][5:], 7])
    (event,) = _events(stored, "request.rectify")
    assert json.loads(event.details_text or "{}")["columns"] == ["pay"]
    assert '"7"' not in (event.details_text or "") and WHO not in (event.details_text or "")
    with pytest.raises(ValidationError, match="not a int64"):
        rights.rectify_subject(
            stored.tx, stored.vault, "dana", case_id, WHO, {"pay": "seven"}, columns=["person"],
            today=READY_DAY,
        )  # fmt: skip
    # nothing changed by the refused correction, and the dataset still opens
    assert sorted(r["pay"] for r in _rows(stored, "contacts") if r["area"] == "a1") == sorted(pays)
    pseudo = rights.rectify_subject(
        stored.tx, stored.vault, "dana", case_id, WHO, {"person": "x"}, today=READY_DAY
    )
    assert [(o.dataset, o.done) for o in pseudo] == [("contacts", False)]
    assert "pseudonyms" in (pseudo[0].reason or "")


def test_only_a_sar_cases_officer_asks_and_a_failed_record_puts_the_old_version_back(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    foi = _case(stored, RequestKind.FOI)
    with pytest.raises(ValidationError, match="subject access case"):
        rights.erase_subject(stored.tx, stored.vault, "dana", foi, WHO, today=READY_DAY)
    case_id = _case(stored)
    with pytest.raises(AccessDenied):
        rights.erase_subject(stored.tx, stored.vault, "ada", case_id, WHO, today=READY_DAY)
    before = stored.vault.store(AREA).manifest("contacts").object_id

    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(rights, "_record", broken)
    with pytest.raises(RuntimeError):
        rights.erase_subject(stored.tx, stored.vault, "dana", case_id, WHO, today=READY_DAY)
    assert stored.vault.store(AREA).manifest("contacts").object_id == before
    assert WHO not in [r["person"] for r in _rows(stored, "contacts")]  # a pseudonym, as before
    assert len(_rows(stored, "contacts")) == sum(map(len, PAY.values()))


def test_two_erasures_at_once_on_one_dataset_both_hold(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each erasure reads the dataset, changes it in memory and swaps it in: run together,
    the second swap must not bring back the rows the first erased. The barrier lets both
    read the old version before either swaps, unless the erasures run one at a time (then
    the second waits outside and the first's wait times out)."""
    first, second = _case(stored), _case(stored)
    barrier = threading.Barrier(2, timeout=3)
    real_change = rights._change

    def change_together(*args: object, **kw: object) -> Callable[[pa.Table], pa.Table]:
        change = real_change(*args, **kw)  # type: ignore[arg-type]

        def wait_then(table: pa.Table) -> pa.Table:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
            return change(table)

        return wait_then

    monkeypatch.setattr(rights, "_change", change_together)
    errors: list[BaseException] = []

    def erase(case_id: int, who: str) -> None:
        try:
            rights.erase_subject(
                stored.tx, stored.vault, "dana", case_id, who, columns=["person"],
                today=READY_DAY,
            )  # fmt: skip
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [
        threading.Thread(target=erase, args=(first, WHO)),
        threading.Thread(target=erase, args=(second, "a2-p1")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    left = _rows(stored, "contacts")
    assert len(left) == sum(map(len, PAY.values())) - 2
    assert len(_events(stored, "request.erase")) == 2


def test_an_erasure_while_the_area_key_rotates_keeps_the_new_version(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new version's data key is wrapped under the area's key when it is written; the
    manifest is swapped in and the register records that key after. A rotation between
    the two swept the new object as an orphan (or re-wrapped it), then the erasure wrote
    its manifest back under the key the rotation had destroyed. Now the erasure holds the
    area's key for sealing from before its first read to its record's commit, and the
    rotation waits (watched waiting)."""
    case_id = _case(stored)
    written = Paused(monkeypatch, rewrite, "_out_of_sight", before=True)  # written, not swapped

    def erase() -> object:
        return rights.erase_subject(
            stored.tx, stored.vault, "dana", case_id, WHO, columns=["person"], today=READY_DAY
        )

    erasing = Running(erase)
    written.wait()
    rotating = Running(lambda: rotation.rotate_area_key_for(stored.tx, stored.vault, "iris", AREA))
    assert rotating.waiting(), "the rotation did not wait for the erasure"
    written.go()
    done = {o.dataset: o for o in erasing.outcome()}
    rotating.outcome()
    assert done["contacts"].done
    assert len(_rows(stored, "contacts")) == sum(map(len, PAY.values())) - 1
    assert stored.vault.provider.key_ids(AREA) == [f"{AREA}/v3"]  # the erasure's, then ours
    with transaction(stored.world.engine) as s:
        row = s.scalars(select(VaultObjectRow).where(VaultObjectRow.name == "contacts")).one()
        assert row.key_id == f"{AREA}/v3"
        assert row.object_id == stored.vault.store(AREA).manifest("contacts").object_id
