"""A seal in the database racing what destroys the area key it seals under (both databases).

A request case is opened (its requester sealed under the area's key in the opening
transaction) while `area rotate-key`, `dataset destroy` or `retention run` runs for the
same area: each takes the area lock exclusive, re-wraps the committed rows, commits and
destroys the old key. PostgreSQL runs the two transactions at once: before the fix the
rotation neither saw nor waited for the case's row, which then committed sealed under a
destroyed key, its requester lost ("area key earnings/v1 is missing"). SQLite runs one
writing transaction at a time, so there the rotation always waited.

The fix keeps the documented lock order, the area's file lock before the database: the
sealer's caller holds the area's key for sealing (services/vault/sealing.py: the area
lock shared, from before its transaction begins until it has ended), as the server's
operations do. A rotation then waits for a sealer in flight (it is watched waiting), and
a sealer for a rotation in flight, after which it seals under the new key. (A fix tried
on 2026-12-06, a PostgreSQL advisory lock held shared by the sealers and exclusive by
the rotation, was withdrawn: the rotation takes the file lock first, and a proven
source's checks take it shared inside a sealer's transaction, so the two could wait for
each other for ever; it also deadlocked with the audit log's advisory lock.)

Also here: two rotations at once, a rotation of another area (neither waits), a sealer
killed mid-transaction (kill -9: the kernel frees its lock, the database rolls it back),
a rotation killed before its commit (a case opened after it loses nothing), a sealer
facing a rotation that never ends (it gives up, nothing done), and a seal under an area
other than the one held (refused). The submission's, the publication's and the
figure's races are in tests/services/release/test_release_seal_race.py and
tests/services/requests/test_requests_figure_seal_race.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from governance_register import TODAY, Register
from seal_race import WAIT, Paused, Running
from sealed_cases import requester_of
from sqlalchemy import func, select
from test_vault_crash_order import Tx, _killed_in_a_process

import fivesafes
from fivesafes.errors import ConflictError, NotFoundError
from fivesafes.governance.areas import Dataset
from fivesafes.governance.roles import Role
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.governance import areas, datasets, people
from fivesafes.services.requests import cases
from fivesafes.services.vault import lifecycle as svc
from fivesafes.services.vault import rotation, sealing
from fivesafes.store.models.requests import RequestCaseRow
from fivesafes.vault.area_lock import area_lock


@pytest.fixture
def fiona(reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path) -> Register:
    """'ashe' stored in 'earnings' (its key earnings/v1), fiona an FOI officer, ready."""
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    reg.act("root", people.register_person, "fiona", "Fiona Foi", [Role.FOI_OFFICER])
    reg.make_ready("fiona")
    return reg


def open_case(reg: Register, tx: Tx, vault: svc.Vault, held: str | None = "earnings") -> int:
    """A case of area 'earnings' opened as the server opens it: the key held for sealing
    (of area ``held``) around the opening transaction."""
    with sealing.key_held_for_sealing(tx, vault, held):
        return reg.act(
            "fiona", cases.open_case, vault.provider, RequestPolicy(area="earnings"),
            RequestKind.FOI, TODAY, "Zed", "pay by region", TODAY,
        ).id  # fmt: skip


def _rotate(reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path) -> Callable[[], Any]:
    return lambda: rotation.rotate_area_key_for(tx, vault, "iris", "earnings")


def _destroy(reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path) -> Callable[[], Any]:
    return lambda: svc.destroy_dataset(tx, vault, "iris", "earnings", "ashe", "withdrawn")


def _retention(reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path) -> Callable[[], Any]:
    entry = Dataset("old", "earnings", True, True, True, "survey", "SRSA 2007", date(2026, 7, 1))
    reg.act("iris", datasets.register_dataset, entry, TODAY)
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="old")
    return lambda: svc.run_retention(tx, vault, "root", date(2026, 7, 2))


DESTROYERS = {"rotate-key": _rotate, "dataset destroy": _destroy, "retention run": _retention}


@pytest.mark.parametrize("destroyer", list(DESTROYERS))
def test_a_case_sealed_while_the_area_key_is_destroyed_keeps_its_requester(
    fiona: Register,
    tx: Tx,
    vault: svc.Vault,
    ashe_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
    destroyer: str,
) -> None:
    destroy = DESTROYERS[destroyer](fiona, tx, vault, ashe_csv)
    sealed = Paused(monkeypatch, cases, "seal")  # sealed under earnings/v1, not committed
    opening = Running(lambda: open_case(fiona, tx, vault))
    sealed.wait()
    rotating = Running(destroy)
    # Before the fix, on PostgreSQL, the rotation ran to its end here, the old key
    # destroyed under the uncommitted case.
    assert rotating.waiting(), "the rotation did not wait for the case being opened"
    sealed.go()
    case_id = opening.outcome()
    rotating.outcome()
    assert vault.provider.key_ids("earnings") == ["earnings/v2"]
    assert requester_of(fiona.engine, vault, case_id) == ({"requester": "Zed"}, "earnings/v2")


def test_a_case_opened_during_a_rotation_waits_and_is_sealed_under_the_new_key(
    fiona: Register, tx: Tx, vault: svc.Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the rotation paused with the area lock held and the committed rows re-wrapped
    rewrapped = Paused(monkeypatch, rotation, "rewrap_sealed")
    rotating = Running(lambda: rotation.rotate_area_key_for(tx, vault, "iris", "earnings"))
    rewrapped.wait()
    sealed = Paused(monkeypatch, cases, "seal")
    sealed.go()  # counted, not paused
    opening = Running(lambda: open_case(fiona, tx, vault))
    assert opening.waiting(), "the case was opened during the rotation"
    assert sealed.calls == 0, "sealed under the key the rotation is destroying"
    rewrapped.go()
    rotating.outcome()
    case_id = opening.outcome()
    assert vault.provider.key_ids("earnings") == ["earnings/v2"]
    assert requester_of(fiona.engine, vault, case_id) == ({"requester": "Zed"}, "earnings/v2")


def test_two_rotations_and_a_case_at_once_lose_nothing(
    fiona: Register, tx: Tx, vault: svc.Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed = Paused(monkeypatch, cases, "seal")
    opening = Running(lambda: open_case(fiona, tx, vault))
    sealed.wait()
    rotations = [
        Running(lambda: rotation.rotate_area_key_for(tx, vault, "iris", "earnings"))
        for _ in range(2)
    ]
    assert all(r.waiting() for r in rotations)
    sealed.go()
    case_id = opening.outcome()
    made = sorted(r.outcome().new_key_id for r in rotations)
    assert made == ["earnings/v2", "earnings/v3"]  # one after the other, each re-wrapped
    assert vault.provider.key_ids("earnings") == ["earnings/v3"]
    assert requester_of(fiona.engine, vault, case_id) == ({"requester": "Zed"}, "earnings/v3")


def test_a_rotation_of_another_area_neither_waits_for_a_sealer_nor_holds_it_up(
    fiona: Register, tx: Tx, vault: svc.Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fiona.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time, whatever the area")
    fiona.act("root", areas.create_area, "prices", "iris", [])
    vault.provider.create_key("prices")
    sealed = Paused(monkeypatch, cases, "seal")
    opening = Running(lambda: open_case(fiona, tx, vault))
    sealed.wait()
    # the case of 'earnings' is still open: the rotation of 'prices' does not wait for it
    Running(lambda: rotation.rotate_area_key_for(tx, vault, "iris", "prices")).outcome()
    sealed.go()
    opening.outcome()
    # and a rotation of 'prices' in flight does not hold up a case of 'earnings'
    rewrapped = Paused(monkeypatch, rotation, "rewrap_sealed")
    rotating = Running(lambda: rotation.rotate_area_key_for(tx, vault, "iris", "prices"))
    rewrapped.wait()
    case_id = Running(lambda: open_case(fiona, tx, vault)).outcome()
    assert requester_of(fiona.engine, vault, case_id)[1] == "earnings/v1"
    rewrapped.go()
    rotating.outcome()
    assert vault.provider.key_ids("prices") == ["prices/v3"]
    assert vault.provider.key_ids("earnings") == ["earnings/v1"]


_KILLED_SEALER = """
import sys, time
from datetime import date
from pathlib import Path
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.context import resolve_actor
from fivesafes.services.requests import cases
from fivesafes.services.vault.register import Vault
from fivesafes.services.vault.sealing import key_held_for_sealing
from fivesafes.store.db import make_engine, transaction
from fivesafes.vault import FileKeyProvider

url, root, day = sys.argv[1], Path(sys.argv[2]), date.fromisoformat(sys.argv[3])
engine = make_engine(url)
vault = Vault(root / "areas", FileKeyProvider(root / "keys"))
with key_held_for_sealing(lambda: transaction(engine), vault, "earnings"):
    with transaction(engine) as s:
        cases.open_case(
            s, resolve_actor(s, "fiona"), vault.provider, RequestPolicy(area="earnings"),
            RequestKind.FOI, day, "Zed", "pay by region", day,
        )
        s.flush()
        print("sealed", flush=True)
        time.sleep(600)
"""


def test_a_sealer_killed_mid_transaction_leaves_the_rotation_free(
    fiona: Register, tx: Tx, vault: svc.Vault, tmp_path: Path
) -> None:
    # kill -9 between the seal and the commit: the kernel frees the area lock with the
    # process, the database rolls its transaction back; the rotation goes on at once
    script = tmp_path / "sealer.py"
    script.write_text(textwrap.dedent(_KILLED_SEALER))
    url = fiona.engine.url.render_as_string(hide_password=False)
    src = str(Path(fivesafes.__file__).resolve().parents[1])
    child = subprocess.Popen(
        [sys.executable, str(script), url, str(tmp_path), TODAY.isoformat()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": src},
    )
    try:
        said = Running(lambda: child.stdout.readline() if child.stdout else "").outcome(WAIT)
        with area_lock(vault.store("earnings"), exclusive=True, wait=False) as alone:
            held = not alone
    finally:
        child.send_signal(signal.SIGKILL)
        _out, err = child.communicate(timeout=WAIT)
    assert said.strip() == "sealed", err
    assert held, "the sealer did not hold the area lock"
    Running(lambda: rotation.rotate_area_key_for(tx, vault, "iris", "earnings")).outcome()
    assert vault.provider.key_ids("earnings") == ["earnings/v2"]
    with tx() as s:
        assert s.scalar(select(func.count()).select_from(RequestCaseRow)) == 0


def test_a_case_opened_after_a_rotation_killed_before_its_commit_loses_nothing(
    fiona: Register, tx: Tx, vault: svc.Vault
) -> None:
    # kill -9 of the rotation instead: its lock is freed, its transaction rolled back, both
    # keys live; a case opened then seals under the newest, which the next rotation
    # re-wraps with everything else before it retires both
    _killed_in_a_process(fiona, vault, "rotate", "rotate.rewrapped")
    case_id = open_case(fiona, tx, vault)
    assert requester_of(fiona.engine, vault, case_id)[1] == "earnings/v2"
    rotation.rotate_area_key_for(tx, vault, "iris", "earnings")
    assert vault.provider.key_ids("earnings") == ["earnings/v3"]
    assert requester_of(fiona.engine, vault, case_id) == ({"requester": "Zed"}, "earnings/v3")


def test_a_sealer_does_not_wait_for_ever_on_a_rotation_that_never_ends(
    fiona: Register, tx: Tx, vault: svc.Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sealing, "SEAL_WAIT_SECONDS", 0.5)
    before = fiona.snapshot()
    with area_lock(vault.store("earnings"), exclusive=True):  # a rotation stuck holding it
        opening = Running(lambda: open_case(fiona, tx, vault))
        with pytest.raises(ConflictError, match="earnings's key is being changed") as raised:
            opening.outcome()
    assert "nothing was done" in raised.value.message and raised.value.hint
    assert fiona.changes(before) == {}  # no case, no audit event


def test_a_seal_under_an_area_other_than_the_one_held_is_refused(
    fiona: Register, tx: Tx, vault: svc.Vault
) -> None:
    fiona.act("root", areas.create_area, "prices", "iris", [])
    before = fiona.snapshot()
    # the area read before the transaction is not the one sealed under: refused, not
    # sealed unlocked
    with pytest.raises(ConflictError, match="earnings's key is not held for sealing"):
        open_case(fiona, tx, vault, held="prices")
    # an area the register does not know: nothing locked, no store made for the name,
    # and nothing may be sealed within
    with pytest.raises(ConflictError, match="read as no area"):
        open_case(fiona, tx, vault, held="nowhere")
    assert not vault.store("nowhere").dir.exists()
    assert fiona.changes(before) == {}
    # held for no area at all: the opening's own lookup refuses an unknown area first
    with (
        sealing.key_held_for_sealing(tx, vault, "nowhere"),
        pytest.raises(NotFoundError, match="nowhere"),
    ):
        fiona.act(
            "fiona", cases.open_case, vault.provider, RequestPolicy(area="nowhere"),
            RequestKind.FOI, TODAY, "Zed", "pay by region", TODAY,
        )  # fmt: skip
