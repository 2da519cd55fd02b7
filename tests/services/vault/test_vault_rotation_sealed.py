"""A rotation re-wraps every data key sealed under the area key, wherever it is kept.

Before: the requester's details of a request case (a column of the case) and a subject
access case's sealed subject records (``subject-access/case-N.json`` in the area store)
were wrapped under the area key but not re-wrapped by a rotation, which then destroyed
the old key: both were lost for good. Now the rotation re-wraps them (the rows in its
transaction, the files atomically before its commit, while both keys live), and the
destruction of the old keys after the commit keeps any key something still names.

Here the two are sealed in 'earnings' as the services seal them, and the rotation is
killed before its commit, killed after it, or misses one (the safety net).
(tests/services/requests/test_requests_subject.py rotates with each of the four ways.)
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from governance_register import TODAY, Register
from sealed_cases import requester_of
from test_vault_crash_order import Tx, _events, _killed_in_a_process, _seal_a_requester

from fivesafes.release.sealing import seal, unseal
from fivesafes.services.requests import subject
from fivesafes.services.vault import lifecycle as svc

RECORDS = {"earnings/ashe": [{"person": "ID00001", "pay": 101}]}


def _sealed_case(reg: Register, vault: svc.Vault) -> int:
    """A case of 'earnings' with its requester sealed (database) and its subject records
    sealed (a file of the area store), as open_case and search_subject seal them."""
    case_id = _seal_a_requester(reg, vault)
    data, wrapped = seal(
        vault.provider, "earnings", subject.object_id(case_id), json.dumps(RECORDS).encode()
    )
    path = subject.records_path(vault, "earnings", case_id)
    path.parent.mkdir(mode=0o700)
    path.write_text(json.dumps({"sealed": base64.b64encode(data).decode(), "wrapped_key": wrapped}))
    return case_id


def _key_ids(reg: Register, vault: svc.Vault, case_id: int) -> tuple[str, str]:
    """(the requester's key id, the subject records' key id), checking that both open."""
    requester, row_key = requester_of(reg.engine, vault, case_id)
    assert requester == {"requester": "Zed"}
    blob = json.loads(subject.records_path(vault, "earnings", case_id).read_text())
    records = unseal(
        vault.provider,
        "earnings",
        subject.object_id(case_id),
        base64.b64decode(blob["sealed"]),
        blob["wrapped_key"],
    )
    assert json.loads(records) == RECORDS
    return row_key, json.loads(blob["wrapped_key"])["key_id"]


def test_a_rotation_re_wraps_the_sealed_requester_and_subject_records(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    case_id = _sealed_case(reg, vault)
    rotation = svc.rotate_area_key_for(tx, vault, "iris", "earnings")
    assert vault.provider.key_ids("earnings") == ["earnings/v2"]
    assert _key_ids(reg, vault, case_id) == ("earnings/v2", "earnings/v2")
    assert rotation.rewrapped == 3  # the manifest, the requester, the subject records
    assert _events(reg, "area.key_kept") == []
    subject_dir = vault.store("earnings").dir / subject.FOLDER
    assert [p.name for p in subject_dir.iterdir()] == [f"case-{case_id}.json"]  # no temp left


def test_a_rotation_killed_before_its_commit_loses_nothing(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    case_id = _sealed_case(reg, vault)
    _killed_in_a_process(reg, vault, "rotate", "rotate.rewrapped")
    # Not committed: the row is still under v1, the file already under v2 (written before
    # the commit), and both keys live: no committed rotation retired v1.
    assert _events(reg, "area.rotate_key") == []
    assert vault.provider.key_ids("earnings") == ["earnings/v1", "earnings/v2"]
    assert _key_ids(reg, vault, case_id) == ("earnings/v1", "earnings/v2")
    svc.run_retention(tx, vault, "root", TODAY)  # a sweep: v1 is no committed retiree
    assert vault.provider.key_ids("earnings") == ["earnings/v1", "earnings/v2"]
    # The next rotation re-wraps both and retires both old keys.
    svc.rotate_area_key_for(tx, vault, "iris", "earnings")
    assert vault.provider.key_ids("earnings") == ["earnings/v3"]
    assert _key_ids(reg, vault, case_id) == ("earnings/v3", "earnings/v3")


def test_a_rotation_killed_after_its_commit_leaves_only_a_key_the_sweep_destroys(
    reg: Register, tx: Tx, vault: svc.Vault, ashe_csv: Path
) -> None:
    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    case_id = _sealed_case(reg, vault)
    _killed_in_a_process(reg, vault, "rotate", "rotate.committed")
    assert vault.provider.key_ids("earnings") == ["earnings/v1", "earnings/v2"]
    assert _key_ids(reg, vault, case_id) == ("earnings/v2", "earnings/v2")
    svc.run_retention(tx, vault, "root", TODAY)
    (swept,) = _events(reg, "area.key_sweep")
    assert swept.details == {"destroyed_key_ids": ["earnings/v1"], "kept_in_use": []}
    assert _key_ids(reg, vault, case_id) == ("earnings/v2", "earnings/v2")


@pytest.mark.parametrize("missed", ["subject records", "requester"])
def test_a_key_a_rotation_left_something_under_is_kept_not_destroyed(
    reg: Register,
    tx: Tx,
    vault: svc.Vault,
    ashe_csv: Path,
    monkeypatch: pytest.MonkeyPatch,
    missed: str,
) -> None:
    """The safety net: were a sealed data key ever missed by the rotation, the old key is
    kept (audited as area.key_kept), and the next rotation re-wraps and retires it."""
    from fivesafes.services.vault import sealed

    svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    case_id = _sealed_case(reg, vault)
    if missed == "subject records":
        monkeypatch.setattr(sealed, "_rewrap_subject_records", lambda vault, area: 0)
    else:  # the requester rows: re-wrapped to the same key they had
        monkeypatch.setattr(sealed, "requester_object_id", lambda case_id: "not-this-case")
        monkeypatch.setattr(sealed, "_rewrapped", _keeping_requester(sealed._rewrapped))
    svc.rotate_area_key_for(tx, vault, "iris", "earnings")
    assert vault.provider.key_ids("earnings") == ["earnings/v1", "earnings/v2"]
    (kept,) = _events(reg, "area.key_kept")
    assert kept.details == {"destroyed_key_ids": [], "kept_in_use": ["earnings/v1"]}
    assert kept.actor == "iris" and kept.area == "earnings"
    assert "earnings/v1" in _key_ids(reg, vault, case_id)  # still opens
    monkeypatch.undo()
    svc.rotate_area_key_for(tx, vault, "iris", "earnings")
    assert vault.provider.key_ids("earnings") == ["earnings/v3"]
    assert _key_ids(reg, vault, case_id) == ("earnings/v3", "earnings/v3")


def _keeping_requester(real: object) -> object:
    """``sealed._rewrapped`` that leaves a requester's wrapped key as it is (tagged by the
    object id the test gave it), as a rotation that forgot them would."""

    def rewrapped(vault: svc.Vault, area: str, object_id: str, wrapped_json: str) -> str:
        if object_id == "not-this-case":
            return wrapped_json
        return real(vault, area, object_id, wrapped_json)  # type: ignore[operator]

    return rewrapped
