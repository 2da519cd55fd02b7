"""Known open: a seal in the database racing a rotation of the same area key (PostgreSQL).

A request case is opened (its requester sealed under the area's key in the opening
transaction) while `area rotate-key` runs. The rotation re-wraps the committed rows,
commits and destroys the old key unless a committed row names it; on PostgreSQL it
neither sees nor waits for the case's row, which then commits sealed under a destroyed
key: the requester is lost ("area key earnings/v1 is missing"). SQLite runs one writing
transaction at a time (BEGIN IMMEDIATE), so there the rotation waits and the case is
re-wrapped.

The PostgreSQL case is a strict expected failure: it fails while the defect stands and
fails the suite (XPASS) once it is fixed, so the marker goes with the fix. A fix tried
on 2026-12-06 (a PostgreSQL advisory lock, held shared by the sealers and exclusive by the
rotation) was withdrawn: the rotation takes the area's file lock first, and a proven
source's checks take it (shared) inside a sealer's transaction, so the two could wait
for each other for ever. A fix must keep the documented order, the area's file lock
before the database: e.g. the sealers' callers taking it shared before the transaction
begins, as ingest does.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from governance_register import TODAY, Register
from sealed_cases import requester_of
from test_vault_crash_order import Tx

from fivesafes.errors import KeyProviderError
from fivesafes.governance.roles import Role
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.governance import people
from fivesafes.services.requests import cases
from fivesafes.services.vault import lifecycle as svc
from fivesafes.services.vault import rotation

WAIT = 30.0  # seconds: far longer than either needs


def test_a_case_sealed_while_the_area_key_rotates_keeps_its_requester(
    reg: Register,
    tx: Tx,
    vault: svc.Vault,
    ashe_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if reg.engine.dialect.name == "postgresql":
        request.applymarker(
            pytest.mark.xfail(
                strict=True,
                raises=KeyProviderError,  # the old key is gone: nothing else may fail
                reason="known open: a rotation neither sees nor waits for a row sealed under "
                "the old key and not yet committed (the note of the stop of 2026-12-06)",
            )
        )
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")  # the area key
    reg.act("root", people.register_person, "fiona", "Fiona Foi", [Role.FOI_OFFICER])
    reg.make_ready("fiona")
    sealed, go = threading.Event(), threading.Event()
    real = cases.seal

    def seal_then_pause(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        sealed.set()  # sealed under earnings/v1, not committed
        go.wait(WAIT)
        return out

    monkeypatch.setattr(cases, "seal", seal_then_pause)
    opened: dict[str, int] = {}
    errors: list[BaseException] = []

    def open_case() -> None:
        try:
            opened["case"] = reg.act(
                "fiona", cases.open_case, vault.provider, RequestPolicy(area="earnings"),
                RequestKind.FOI, TODAY, "Zed", "pay by region", TODAY,
            ).id  # fmt: skip
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    def rotate() -> None:
        try:
            rotation.rotate_area_key_for(tx, vault, "iris", "earnings")
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    opening = threading.Thread(target=open_case, daemon=True)
    opening.start()
    assert sealed.wait(WAIT)
    rotating = threading.Thread(target=rotate, daemon=True)
    rotating.start()
    # On PostgreSQL the rotation runs to its end, the old key destroyed, before the case
    # commits (the defect; a fix would make it wait, and this join end after WAIT). On
    # SQLite it waits for the case's transaction: a short look is enough there.
    rotating.join(WAIT if reg.engine.dialect.name == "postgresql" else 2.0)
    go.set()
    opening.join(WAIT)
    rotating.join(WAIT)
    assert not errors, errors
    assert vault.provider.key_ids("earnings") == ["earnings/v2"]
    requester, _ = requester_of(reg.engine, vault, opened["case"])
    assert requester == {"requester": "Zed"}
