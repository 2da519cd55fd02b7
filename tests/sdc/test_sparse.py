"""A spec that spans an identifier or a measure makes a huge, empty table: it says so."""

from __future__ import annotations

import pandas as pd

from fivesafes.sdc import DimensionSpec, Recorder, TableSpec, tables


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ent": [f"e{i:03d}" for i in range(n)],
            "band": [f"b{i % 60:02d}" for i in range(n)],
            "region": ["N" if i % 2 else "S" for i in range(n)],
            "y": [float(10 + i) for i in range(n)],
        }
    )


def test_a_dimension_of_identifiers_is_named_in_the_notes_and_the_stage_line() -> None:
    # the enterprise id as a dimension: 201 x 61 cells from 200 rows, nearly all empty
    spec = TableSpec("oops", (DimensionSpec("ent"), DimensionSpec("band")), response="y")
    recorder = Recorder()
    result = tables(spec, _frame(200), secondary="none", progress=recorder)
    (note,) = [n for n in result.report["notes"] if "with any record" in n]
    assert note.startswith("12,261 cells from 200 rows, only ")
    assert "'ent' (200 codes)" in note and "'band'" not in note
    assert "check the spec's [[dimension]] names" in note
    assert any("with any record" in str(event) for event in recorder.events)


def test_a_table_of_classifications_has_no_such_note() -> None:
    spec = TableSpec("fine", (DimensionSpec("region"), DimensionSpec("band")), response="y")
    result = tables(spec, _frame(200), secondary="none")
    assert not any("with any record" in n for n in result.report["notes"])
