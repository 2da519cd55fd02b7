"""`table protect --dataset`: the protected table stays in the area, encrypted, with its
provenance registered and audited; reading it back proves its source (both databases)."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

import pytest
from release_world import AREA
from sqlalchemy import Engine, select
from stored_world import PAY, Stored, build_stored, spec_text

from fivesafes.errors import (
    AccessDenied,
    ConflictError,
    IntegrityError,
    NotFoundError,
    ValidationError,
)
from fivesafes.sdc import Recorder
from fivesafes.sdc.spec import load_spec
from fivesafes.services.vault.read import query_area_for
from fivesafes.services.vault.tables import TABLE_FORMAT, output_names, stored_table
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.governance import DatasetRow
from fivesafes.store.models.vault import VaultObjectRow


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    return build_stored(engine, tmp_path)


def _events(stored: Stored, since: int) -> list[AuditRecord]:
    with stored.tx() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.seq > since)))


def _last_seq(stored: Stored) -> int:
    with stored.tx() as s:
        return max(s.scalars(select(AuditRecord.seq)), default=0)


def test_a_protected_table_is_stored_encrypted_with_its_provenance(stored: Stored) -> None:
    since = _last_seq(stored)
    made = stored.shifted()
    assert made.source == "ashe:pay" and made.by_status["primary"] == 1
    assert made.by_status["secondary"] >= 1 and made.audit == "every primary cell protected"
    assert made.output.kind == "output" and made.output.ingested_by == "ada"
    with stored.tx() as s:
        row = s.scalars(
            select(VaultObjectRow).where(VaultObjectRow.object_id == made.output.object_id)
        ).one()
        ashe = s.scalars(select(DatasetRow).where(DatasetRow.name == "ashe")).one()
        assert (row.source, row.source_format) == ("ashe:pay", TABLE_FORMAT)
        assert row.dataset_id == ashe.id
    events = [(e.action, e.outcome) for e in _events(stored, since)]
    assert events == [("access.decide", "allowed"), ("table.protect", "done")]
    protect = _events(stored, since)[-1]
    details = json.loads(protect.details_text)
    spec = (stored.folder / "specs" / "shifted.toml").read_bytes()
    assert details["datasets"] == ["ashe"] and details["measure"] == "pay"
    assert details["spec_sha256"] == hashlib.sha256(spec).hexdigest()
    assert protect.actor == "ada" and details["output"] == made.output.name
    with stored.tx() as s:
        table, origin = stored_table(s, stored.vault, AREA, made.output.name)
    assert origin.verified and origin.source == "ashe:pay"
    assert origin.output == f"{AREA}/{made.output.name}"
    cells = table.cells.set_index("area")
    assert cells.loc["a3", "status"] == "primary" and cells.loc["a3", "value"] == 2.0
    assert cells.loc["Total", "value"] == sum(sum(v) for v in PAY.values())
    assert table.report["source"]["dataset"] == "ashe" and table.measure == "pay"


def _scan(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for folder, _dirs, files in os.walk(root):
        for f in files:
            p = Path(folder) / f
            if p.is_file() and needle in p.read_bytes():
                hits.append(p)
    return hits


def test_no_cell_code_or_value_is_written_in_plain_text(stored: Stored, tmp_path: Path) -> None:
    marker = f"MARKER{secrets.token_hex(6)}"
    pay = {f"{marker}{i}": [100 + i] * (1 if i == 0 else 8) for i in range(4)}
    stored.add_dataset("marked", pay)
    text = spec_text("pay by marked area", None, method="none")
    (made,) = stored.protect(stored.spec("marked", text), dataset="marked")
    assert made.by_status["primary"] == 1 and made.source == "marked:pay"
    with stored.tx() as s:
        table, _ = stored_table(s, stored.vault, AREA, made.output.name)
    assert marker in table.cells_csv  # the codes are in the table...
    assert _scan(tmp_path, marker.encode()) == []  # ...and nowhere on disk in plain text


def test_progress_hears_every_stage_and_never_a_code(stored: Stored) -> None:
    marker = f"MARKER{secrets.token_hex(6)}"
    stored.add_dataset(
        "marked", {f"{marker}{i}": [100 + i] * (1 if i == 0 else 8) for i in range(4)}
    )
    recorder = Recorder()
    text = spec_text("pay by marked area", None, method="fast")
    (made,) = stored.protect(stored.spec("marked", text), dataset="marked", progress=recorder)
    assert made.by_status["secondary"] >= 1
    started = recorder.stages()
    assert started[0] == f"read dataset {AREA}/marked"
    assert started[-1] == "store outputs (encrypted)"
    for name in ("tabulate", "primary rules", "secondary suppression", "audit"):
        assert name in started
    finished = {s: outcome for kind, s, _, outcome in recorder.events if kind == "finish"}
    assert set(finished) == set(started)  # every stage closed
    assert finished["audit"].startswith("safe")
    assert finished["store outputs (encrypted)"] == f"1 output(s) in {AREA}"
    assert marker not in repr(recorder.events)  # a reporter may print: codes never reach it


def test_a_refused_read_closes_its_stage_and_starts_no_other(stored: Stored) -> None:
    recorder = Recorder()
    with pytest.raises(AccessDenied):
        stored.protect(stored.spec("pay", spec_text("pay", None)), login="bob", progress=recorder)
    assert recorder.events == [
        ("start", f"read dataset {AREA}/ashe", None, ""),
        ("finish", f"read dataset {AREA}/ashe", None, "stopped"),
    ]


def test_a_person_refused_access_stores_nothing(stored: Stored) -> None:
    text = spec_text("pay", None, method="none")
    before = stored.world.reg.snapshot()
    with pytest.raises(AccessDenied):
        stored.protect(stored.spec("pay", text), login="bob")
    after = stored.world.reg.snapshot()
    assert after["vault_objects"] == before["vault_objects"]
    assert after["audit_log"] == before["audit_log"] + 1  # the denial, audited
    assert stored.vault.store(AREA).names("outputs") == []


def test_names_are_checked_and_a_taken_name_is_refused_before_any_access(
    stored: Stored,
) -> None:
    text = spec_text("pay", None, method="none")
    other = spec_text("pay_2", None, method="none")
    specs = [stored.spec("pay", text), stored.spec("pay_2", other)]
    made = stored.protect(*specs, name="bulletin")
    assert [m.output.name for m in made] == ["bulletin-pay", "bulletin-pay_2"]
    before = stored.world.reg.snapshot()
    with pytest.raises(ConflictError, match="bulletin-pay"):
        stored.protect(*specs, name="bulletin")
    assert stored.world.reg.snapshot() == before  # not even an access decision
    with pytest.raises(ValidationError, match="not allowed"):
        output_names([load_spec(specs[0])], "../x")


def test_a_tampered_register_row_or_a_query_output_is_not_proven(stored: Stored) -> None:
    (made,) = stored.protect(stored.spec("pay", spec_text("pay", None, method="none")))
    name = made.output.name
    with stored.tx() as s:
        row = s.scalars(select(VaultObjectRow).where(VaultObjectRow.name == name)).one()
        row.source_sha256 = "0" * 64
    with stored.tx() as s, pytest.raises(IntegrityError, match="content"):
        stored_table(s, stored.vault, AREA, name)
    with stored.tx() as s:
        row = s.scalars(select(VaultObjectRow).where(VaultObjectRow.name == name)).one()
        row.source_sha256 = made.output.source_sha256
        row.source = "ashe:count"
    with stored.tx() as s, pytest.raises(IntegrityError, match="provenance says 'count'"):
        stored_table(s, stored.vault, AREA, name)
    query = query_area_for(stored.tx, stored.vault, "ada", AREA, "SELECT count(*) FROM ashe")
    with stored.tx() as s, pytest.raises(NotFoundError, match="not a protected table"):
        stored_table(s, stored.vault, AREA, query.output.name)
    with stored.tx() as s, pytest.raises(NotFoundError, match="no stored output"):
        stored_table(s, stored.vault, AREA, "nothing-here")
