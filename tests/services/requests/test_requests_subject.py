"""Subject access: the system finds one person's rows in every area (raw and pseudonymised
identifier columns), seals them for the case and exports them for sending; the log says
what was searched and found, never the identifier or a value."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pandas as pd
import pytest
from governance_register import TODAY as READY_DAY
from release_world import AREA
from requests_world import RECEIVED, REQUESTER, TODAY
from sqlalchemy import Engine, select
from stored_world import PAY, Stored, build_stored, write_rows

from fivesafes.errors import (
    AccessDenied,
    IntegrityError,
    KeyProviderError,
    NotFoundError,
    ValidationError,
)
from fivesafes.governance.areas import Dataset
from fivesafes.governance.roles import Role
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.governance import areas, datasets, people
from fivesafes.services.requests import cases, moves, subject
from fivesafes.services.vault.lifecycle import ingest_dataset
from fivesafes.store.db import transaction
from fivesafes.store.models.audit import AuditRecord

POLICY = RequestPolicy()
WHO = "a1-p4"  # in 'ashe' as written, and in 'ashe_pseudo' only as a pseudonym


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    """The stored world plus a pseudonymised copy of 'ashe'; dana a trained DPO."""
    s = build_stored(engine, tmp_path)
    reg = s.world.reg
    reg.act(
        "root",
        people.register_person,
        "dana",
        "Dana Dpo",
        [Role.DATA_PROTECTION_OFFICER, Role.FOI_OFFICER],
    )
    reg.act("root", people.register_person, "dave", "Dave Dpo", [Role.DATA_PROTECTION_OFFICER])
    reg.make_ready("dana")
    reg.act("root", areas.create_area, "requests", "iris")
    entry = Dataset("ashe_pseudo", AREA, True, True, True, "survey", "SRSA 2007")
    reg.act("iris", datasets.register_dataset, entry, TODAY)
    src = write_rows(tmp_path / "incoming" / "pseudo.csv", {**PAY, "a1": [*PAY["a1"], 9]})
    ingest_dataset(s.tx, s.vault, "iris", AREA, src, name="ashe_pseudo", pseudonymise=["person"])
    src.unlink()
    return s


def _case(s: Stored, kind: RequestKind = RequestKind.SAR, officer: str = "dana") -> int:
    reg = s.world.reg
    view = reg.act(
        officer, cases.open_case, s.world.provider, POLICY, kind, RECEIVED, REQUESTER, "my data",
        TODAY,
    )  # fmt: skip
    reg.act(officer, moves.assign_case, POLICY, view.id, officer)
    return view.id


def _search(s: Stored, case_id: int, login: str = "dana", **kw: object) -> subject.SubjectSearch:
    return subject.search_subject(s.tx, s.vault, login, case_id, WHO, today=READY_DAY, **kw)  # type: ignore[arg-type]


def test_the_subjects_rows_are_found_in_raw_and_pseudonymised_columns(
    stored: Stored, tmp_path: Path
) -> None:
    case_id = _case(stored)
    found = _search(stored, case_id, columns=["person"])
    assert set(found.searched) == {f"{AREA}/ashe", f"{AREA}/ashe_pseudo"}
    rows = {f.dataset: f.rows for f in found.found}
    assert rows == {"ashe": 1, "ashe_pseudo": 1}
    written = subject.export_subject(stored.tx, stored.vault, "dana", case_id, tmp_path / "out")
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o700
    frames = {p.name: pd.read_csv(p) for p in written}
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = frames[f"{AREA}__ashe.csv"]
    assert raw.to_dict("records") == [{"area": "a1", "person": WHO, "pay": PAY["a1"][4]}]
    assert frames[f"{AREA}__ashe_pseudo.csv"]["pay"].tolist() == [PAY["a1"][4]]


def test_a_value_that_would_start_a_formula_is_exported_as_text(
    stored: Stored, tmp_path: Path
) -> None:
    entry = Dataset("notes", AREA, True, True, True, "survey", "SRSA 2007")
    stored.world.reg.act("iris", datasets.register_dataset, entry, READY_DAY)
    src = tmp_path / "incoming" / "notes.csv"
    src.write_text(f'person,note\n{WHO},"=cmd|' + "' /c calc'!A1\"\n")
    ingest_dataset(stored.tx, stored.vault, "iris", AREA, src, name="notes")
    case_id = _case(stored)
    _search(stored, case_id, columns=["person"])
    out = tmp_path / "out"
    subject.export_subject(stored.tx, stored.vault, "dana", case_id, out)
    text = (out / f"{AREA}__notes.csv").read_text()
    assert "'=cmd|" in text and "\n=cmd" not in text and ",=cmd" not in text


def test_without_a_named_column_only_pseudonymised_columns_are_searched(stored: Stored) -> None:
    found = _search(stored, _case(stored))
    assert found.searched == (f"{AREA}/ashe_pseudo",)
    assert [(f.dataset, f.columns) for f in found.found] == [("ashe_pseudo", ("person",))]


def test_the_log_records_what_was_searched_and_found_but_never_the_identifier(
    stored: Stored, tmp_path: Path
) -> None:
    case_id = _case(stored)
    _search(stored, case_id, columns=["person"])
    subject.export_subject(stored.tx, stored.vault, "dana", case_id, tmp_path / "out")
    with transaction(stored.world.engine) as s:
        events = s.scalars(select(AuditRecord).order_by(AuditRecord.seq)).all()
        text = json.dumps([[e.action, e.subject, e.details_text] for e in events])
        actions = [e.action for e in events]
    assert subject.SEARCH in actions and subject.EXPORT in actions
    assert WHO not in text and "a1-p" not in text
    sealed = stored.vault.store("requests").dir / subject.FOLDER / f"case-{case_id}.json"
    assert WHO.encode() not in sealed.read_bytes()  # sealed on disk, not plain


def test_only_a_qualified_officer_of_a_sar_case_searches(stored: Stored) -> None:
    foi = _case(stored, RequestKind.FOI)
    with pytest.raises(ValidationError, match="only a subject access request"):
        _search(stored, foi)
    sar = _case(stored)
    with pytest.raises(AccessDenied):
        _search(stored, sar, login="dave")  # not the case's officer
    untrained = _case(stored, officer="dave")
    with pytest.raises(AccessDenied):
        _search(stored, untrained, login="dave")  # officer, but no training nor declaration
    with pytest.raises(NotFoundError, match="no subject records"):
        subject.export_subject(stored.tx, stored.vault, "dana", sar, Path("unused"))


def test_a_sealed_export_edited_behind_our_back_does_not_open(
    stored: Stored, tmp_path: Path
) -> None:
    folder = stored.vault.store("requests").dir / subject.FOLDER
    case_id, other = _case(stored), _case(stored)
    for case in (case_id, other):
        _search(stored, case, columns=["person"])
    path = folder / f"case-{case_id}.json"
    blob = json.loads(path.read_text())
    sealed = bytearray(base64.b64decode(blob["sealed"]))
    sealed[-1] ^= 1
    path.write_text(json.dumps({**blob, "sealed": base64.b64encode(sealed).decode()}))
    with pytest.raises(IntegrityError):
        subject.export_subject(stored.tx, stored.vault, "dana", case_id, tmp_path / "o1")
    # another case's sealed rows copied over this case's: bound to their own case
    path.write_text((folder / f"case-{other}.json").read_text())
    with pytest.raises((IntegrityError, KeyProviderError)):
        subject.export_subject(stored.tx, stored.vault, "dana", case_id, tmp_path / "o2")
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_search_and_export_audit_in_every_transaction(
    stored: Stored, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit_walk import spied_transactions

    case_id = _case(stored)
    with spied_transactions(stored.world.engine, monkeypatch) as (tx, spy):
        subject.search_subject(tx, stored.vault, "dana", case_id, WHO, today=READY_DAY)
    assert spy.appends == 2  # the people check for the one area searched, then the search
    with spied_transactions(stored.world.engine, monkeypatch) as (tx, spy):
        subject.export_subject(tx, stored.vault, "dana", case_id, tmp_path / "out")
    assert spy.appends == 1


def test_the_subjects_records_are_shredded_when_the_cases_retention_ends(stored: Stored) -> None:
    from datetime import date

    from fivesafes.requests.cases import Outcome
    from fivesafes.services.requests import retention

    case_id = _case(stored)
    other = _case(stored)  # searched, not closed: kept
    _search(stored, case_id, columns=["person"])
    _search(stored, other, columns=["person"])
    stored.world.reg.act("dana", moves.close_case, POLICY, case_id, Outcome.GRANTED, on=TODAY)
    sealed = subject.records_path(stored.vault, "requests", case_id)
    kept = subject.records_path(stored.vault, "requests", other)
    last_day = date(TODAY.year + 3, TODAY.month, TODAY.day)  # 36 months, the default
    early = retention.shred_expired_records(stored.tx, stored.vault, "dana", last_day)
    assert early.subject_records == () and sealed.is_file()
    done = retention.shred_expired_records(
        stored.tx, stored.vault, "dana", date(last_day.year, last_day.month, last_day.day + 1)
    )
    assert done.subject_records == (case_id,) and case_id in done.requesters
    assert not sealed.exists() and kept.is_file()
    assert not any(p.name.startswith(".") for p in sealed.parent.iterdir())  # nothing left
    with transaction(stored.world.engine) as s:
        events = s.scalars(
            select(AuditRecord).where(AuditRecord.action == retention.SUBJECT_SHRED)
        ).all()
        assert [e.subject for e in events] == [str(case_id)]
        assert WHO not in (events[0].details_text or "")
    again = retention.shred_expired_records(stored.tx, stored.vault, "dana", date(2040, 1, 1))
    assert again.subject_records == ()  # once only
    with pytest.raises(AccessDenied):
        retention.shred_expired_records(stored.tx, stored.vault, "dave", date(2040, 1, 1))


# --- an area key rotation keeps what a case sealed under it ----------------------------


def _rotate_the_area_by(stored: Stored, how: str, tmp_path: Path) -> None:
    """Rotate AREA's key the way ``how`` does it (each destroys the old key at the end)."""
    from datetime import timedelta

    from fivesafes.services.requests import rights
    from fivesafes.services.vault import lifecycle

    reg, tx, vault = stored.world.reg, stored.tx, stored.vault
    if how == "rotate-key":
        lifecycle.rotate_area_key_for(tx, vault, "iris", AREA)
    elif how == "destroy":
        lifecycle.destroy_dataset(tx, vault, "iris", AREA, "ashe_pseudo", "withdrawn")
    elif how == "retention":
        until = READY_DAY + timedelta(days=1)
        entry = Dataset("old", AREA, True, True, True, "survey", "SRSA 2007", until)
        reg.act("iris", datasets.register_dataset, entry, READY_DAY)
        ingest_dataset(tx, vault, "iris", AREA, write_rows(tmp_path / "old.csv", PAY), name="old")
        assert lifecycle.run_retention(tx, vault, "root", until + timedelta(days=1))
    else:  # erasure for another case rewrites a dataset of AREA, then rotates AREA's key
        basis = "UK GDPR Art 6(1)(e) public task"
        entry = Dataset("contacts", AREA, True, True, True, "mailing", basis)
        reg.act("iris", datasets.register_dataset, entry, READY_DAY)
        src = write_rows(tmp_path / "contacts.csv", PAY)
        ingest_dataset(tx, vault, "iris", AREA, src, name="contacts", pseudonymise=["person"])
        done = rights.erase_subject(tx, vault, "dana", _case(stored), WHO, today=READY_DAY)
        assert [o.dataset for o in done if o.done] == ["contacts"]


@pytest.mark.parametrize("how", ["rotate-key", "destroy", "retention", "erasure"])
def test_a_rotation_of_the_area_key_keeps_the_cases_sealed_requester_and_records(
    stored: Stored, tmp_path: Path, how: str
) -> None:
    """A case whose requests area is AREA seals its requester (in the database) and its
    subject records (a file in AREA's store) under AREA's key. Every rotation of that key
    destroys the old key: both must have been re-wrapped first, or they are lost."""
    from fivesafes.services.requests import requester

    reg, provider = stored.world.reg, stored.world.provider
    victim = reg.act(
        "dana", cases.open_case, provider, RequestPolicy(area=AREA), RequestKind.SAR, RECEIVED,
        REQUESTER, "my data", TODAY,
    ).id  # fmt: skip
    reg.act("dana", moves.assign_case, RequestPolicy(area=AREA), victim, "dana")
    _search(stored, victim)
    before = provider.key_ids(AREA)
    _rotate_the_area_by(stored, how, tmp_path)
    after = provider.key_ids(AREA)
    assert len(after) == 1 and not set(before) & set(after)  # every old key destroyed
    assert reg.act("dana", requester.reveal_requester, provider, victim) == REQUESTER
    assert subject.subject_export_files(stored.tx, stored.vault, "dana", victim) == {}
    sealed = json.loads(subject.records_path(stored.vault, AREA, victim).read_text())
    assert sealed["wrapped_key"].count(after[0]) == 1
