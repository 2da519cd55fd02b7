"""`table protect --dataset`: a data error raised on an area's rows quotes none of them.

The standalone library's errors name bad values and row numbers (a statistician on her
own file needs them); tabulating stored data, the same errors name the problem and the
columns only, in their message, their hint and the audit, whatever the spec asks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from governance_register import TODAY
from release_world import AREA
from sqlalchemy import Engine, select
from stored_world import SHIFTED_CSV, Stored, build_stored

from fivesafes.errors import DataError, FivesafesError, HierarchyError, SpecError
from fivesafes.governance.areas import Dataset
from fivesafes.sdc import tables
from fivesafes.sdc.spec import load_spec
from fivesafes.services.governance import datasets
from fivesafes.services.vault import tables as vault_tables
from fivesafes.services.vault.lifecycle import ingest_dataset
from fivesafes.store.models.audit import AuditRecord

SECRET = "SECRET123"
# Every value of the confidential columns holds SECRET: a message quoting any shows it.
ROWS = pd.DataFrame(
    {
        "area": ["a1", "a1", "a2", "a2", "a3", "a4"],
        "person": [f"{SECRET}p{i}" for i in range(6)],
        "pay": ["2", "3", "4", "5", "6", "7"],
        "note": [f"{SECRET}n{i % 2}" for i in range(6)],  # text, shared by several persons
    }
)
HEAD = '[table]\nname = "t"\n'
SPECS = {
    # 'note' of several persons: "contributor(s) ... belong to more than one holding, e.g."
    "holding": HEAD + 'response = "pay"\ncontributor = "note"\nholding = "person"\n\n'
    '[[dimension]]\nname = "area"\n',
    # a text column as the response: "not a number in N row(s): [values]"
    "numbers": HEAD + 'response = "note"\n\n[[dimension]]\nname = "area"\n',
    # persons as codes of a hierarchy of areas: "code(s) [...] are not in hierarchy"
    "codes": HEAD + 'response = "pay"\n\n[[dimension]]\nname = "person"\n'
    'hierarchy = "codes-area.csv"\n',
    # a value the column does not take: "not among its values [every value]"
    "where": HEAD + 'response = "pay"\nwhere = { person = ["nobody"] }\n\n'
    '[[dimension]]\nname = "area"\n',
}
# What each error says in the library (the rows' values) and in the area (no value).
LOCAL = {
    "holding": f"e.g. ['{SECRET}n0', '{SECRET}n1'] (the first at rows 1, 3 and 5)",
    "numbers": f"not a number in 6 row(s): ['{SECRET}n0', '{SECRET}n1'] (at rows 1, 2",
    "codes": f"are not in hierarchy 'person': ['{SECRET}p0', '{SECRET}p1'",
    "where": f"are not among its values ['{SECRET}p0', '{SECRET}p1'",
}
IN_AREA = {
    "holding": "some contributors in 'note' belong to more than one holding in 'person'",
    "numbers": "response column 'note' is not a number in some rows",
    "codes": "dimension 'person': some codes in the data are not in hierarchy 'person'",
    "where": "a value kept of 'person' is not among the values it takes",
}
KIND = {"holding": DataError, "numbers": DataError, "codes": DataError, "where": SpecError}


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    stored = build_stored(engine, tmp_path)
    entry = Dataset("leaky", AREA, True, True, True, "survey", "SRSA 2007")
    stored.world.reg.act("iris", datasets.register_dataset, entry, TODAY)
    src = tmp_path / "incoming" / "leaky.csv"
    ROWS.to_csv(src, index=False)
    ingest_dataset(stored.tx, stored.vault, "iris", AREA, src, name="leaky")
    src.unlink()
    return stored


def _spec(stored: Stored, case: str) -> Path:
    return stored.spec(case, SPECS[case], SHIFTED_CSV if case == "codes" else None)


def _audit_since(stored: Stored, seq: int) -> list[AuditRecord]:
    with stored.tx() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.seq > seq)))


def _last_seq(stored: Stored) -> int:
    with stored.tx() as s:
        return max(s.scalars(select(AuditRecord.seq)), default=0)


def _shown(exc: FivesafesError) -> str:
    return f"{exc.message}\n{exc.hint}\n{exc}"


@pytest.mark.parametrize("case", sorted(SPECS))
def test_a_data_error_on_stored_rows_quotes_no_value_or_row(stored: Stored, case: str) -> None:
    since = _last_seq(stored)
    with pytest.raises(KIND[case]) as raised:
        stored.protect(_spec(stored, case), dataset="leaky")
    exc = raised.value
    assert SECRET not in _shown(exc) and "row 1" not in exc.message
    assert "rows 1" not in exc.message and "at row" not in exc.message
    assert exc.message == IN_AREA[case]
    # the kind of the error and its own hint stay; the hint says where to look, in the area
    assert exc.code == KIND[case].code and exc.hint is not None
    assert f"fivesafes query {AREA}" in exc.hint and "FROM leaky" in exc.hint
    # nothing chained to it carries the library's message either
    assert exc.__cause__ is None and exc.__suppress_context__
    events = _audit_since(stored, since)
    assert events and all(SECRET not in (e.details_text or "") for e in events)
    assert all(SECRET not in json.dumps([e.subject, e.dataset, e.area]) for e in events)
    assert [e.action for e in events] == ["access.decide"]  # the read, and no table


@pytest.mark.parametrize("case", sorted(SPECS))
def test_the_library_on_a_local_frame_keeps_the_examples(tmp_path: Path, case: str) -> None:
    spec = tmp_path / f"{case}.toml"
    spec.write_text(SPECS[case])
    (tmp_path / "codes-area.csv").write_text(SHIFTED_CSV)
    with pytest.raises(KIND[case]) as raised:
        tables(load_spec(spec), ROWS)
    assert LOCAL[case] in raised.value.message
    # and it can say what it quotes: its text without them is the area's
    assert raised.value.redacted == IN_AREA[case] and not raised.value.value_free


def test_an_error_not_known_to_be_value_free_keeps_its_kind_only(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deny by default: an error of the tabulation that does not say what it quotes is
    withheld whole (its hint too, which might quote as well)."""

    def quoting(*_args: object, **_kw: object) -> None:
        raise HierarchyError(f"bad code {SECRET}p0", hint=f"see row 3: {SECRET}")

    monkeypatch.setattr(vault_tables, "protect_all", quoting)
    with pytest.raises(HierarchyError) as raised:
        stored.protect(_spec(stored, "numbers"), dataset="leaky")
    exc = raised.value
    assert SECRET not in _shown(exc) and "row 3" not in _shown(exc)
    assert exc.message.startswith(f"tabulating {AREA}/leaky failed (hierarchy error)")
    assert exc.code == "hierarchy" and exc.hint is not None and "fivesafes query" in exc.hint


def test_a_value_free_error_is_told_as_it_is(stored: Stored) -> None:
    text = HEAD + 'response = "wage"\n\n[[dimension]]\nname = "area"\n'
    with pytest.raises(DataError) as raised:
        stored.protect(stored.spec("wage", text), dataset="leaky")
    assert raised.value.value_free
    assert "the data have no column for response 'wage'" in raised.value.message
    assert "the data's columns are" in (raised.value.hint or "")


def test_withheld_keeps_the_class_and_its_fields() -> None:
    error = DataError("x in rows 1 and 2: ['a']", hint="fix x", redacted="x is bad in some rows")
    error.after_rollback.append(lambda _s: None)
    safe = error.withheld("tabulating A/B", "look in the area")
    assert type(safe) is DataError and safe is not error
    assert (safe.message, safe.hint, str(safe.args[0])) == (
        "x is bad in some rows",
        "fix x; look in the area",
        "x is bad in some rows",
    )
    assert safe.value_free and len(safe.after_rollback) == 1
    assert error.message == "x in rows 1 and 2: ['a']"  # the library's own is unchanged
    free = DataError("no column 'x'", value_free=True)
    assert free.withheld("t", "h") is free
