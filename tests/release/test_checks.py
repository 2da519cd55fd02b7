"""Automated checks fail closed; file outputs always need a human."""

from __future__ import annotations

import pandas as pd

from fivesafes.release.checks import (
    CheckVerdict,
    audit_check,
    blocking,
    differencing_check,
    file_check,
    rules_check,
)
from fivesafes.release.submission import (
    MAX_FILE_BYTES,
    FileSubmission,
    TableSubmission,
    from_payload,
)
from fivesafes.sdc.differencing import OutputTable
from fivesafes.sdc.hierarchy import Hierarchy


def test_file_check_needs_a_human_and_refuses_unknown_types_and_big_files() -> None:
    assert file_check("chart.png", 100).verdict is CheckVerdict.REVIEW
    assert file_check("dump.sqlite", 100).verdict is CheckVerdict.FAIL
    assert file_check("a.csv", MAX_FILE_BYTES + 1).verdict is CheckVerdict.FAIL
    assert file_check("chart.png", 1).details["human_check_required"] is True


def test_no_rule_set_in_force_fails() -> None:
    result = rules_check({"threshold": 10}, None)
    assert result.verdict is CheckVerdict.FAIL and blocking([result]) == [result]


def test_a_check_that_cannot_run_fails() -> None:
    h = Hierarchy.flat("area", ["a", "b"])
    broken = OutputTable("t", (h,), pd.DataFrame({"area": ["a"], "value": [1.0]}))
    result = differencing_check(broken, [])
    assert result.verdict is CheckVerdict.FAIL and "could not run" in result.summary


def test_file_payload_round_trip() -> None:
    f = FileSubmission("note.md", b"# hello\x00\xff")
    back = from_payload(f.to_payload())
    assert back == f and f.files["note.md"] == back.files["note.md"]


def test_a_failed_audit_does_not_quote_a_cell_value() -> None:
    h = Hierarchy.flat("area", ["a", "b"])
    cells = (
        "area,value,status,lower_protection,upper_protection\n"
        "a,98765x,primary,1,1\nb,5,secondary,0,0\nTotal,98770,safe,0,0\n"
    )
    table = TableSubmission(
        name="t",
        cells_csv=cells,
        report={},
        spec_text="",
        spec_hash="",
        frequency=False,
        a_priori_percent=None,
        hierarchies=(h,),
        files={},
    )
    result = audit_check(table)
    assert result.verdict is CheckVerdict.FAIL and "could not run (DataError)" in result.summary
    assert "98765" not in result.summary + repr(result.details)


def test_a_clash_between_outputs_names_them_and_never_the_values() -> None:
    from fivesafes.release.checks import could_not_run
    from fivesafes.sdc.differencing import InconsistentOutputs

    clash = InconsistentOutputs(
        "the same cell was published with different values: REL-0001: 1361080, new: 493116",
        outputs=("REL-0001", "new"),
    )
    summary = could_not_run("check", clash)
    assert "REL-0001" in summary and "new" in summary and "weight" in summary
    assert "1361080" not in summary and "493116" not in summary
    assert could_not_run("check", ValueError("secret 42")) == (
        "the check could not run (ValueError); run `fivesafes table audit` "
        "on the table inside the area to see why"
    )


def test_a_long_combination_names_every_output_it_draws_on() -> None:
    from fivesafes.release.checks import explain_disclosure
    from fivesafes.sdc import Disclosure

    terms = tuple(("REL-0001", {"area": f"a{i}"}, -1.0) for i in range(6))
    terms += (("request-1-figure-1", {"area": "answer:a2"}, -1.0),)
    d = Disclosure(
        table="REL-0001", codes={"area": "a3"}, value=2.0, attacker_min=2.0,
        attacker_max=2.0, required_lower=1.8, required_upper=2.2, exact=True,
        revealed_by=terms,
    )  # fmt: skip
    text = explain_disclosure(d)
    assert "request-1-figure-1(area=answer:a2)" in text  # shown though it comes last
    assert text.endswith("and 3 more published cell(s) of REL-0001")
    assert "2.0" not in text
