"""A submission's source: proven from a stored output, or declared and checked (pure)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fivesafes.errors import NotFoundError, ValidationError
from fivesafes.release.checks import CheckVerdict
from fivesafes.release.source import (
    UNVERIFIED,
    SourceOrigin,
    declared_source,
    proven_source,
    same_request_source,
    source_check,
    split_source,
)
from fivesafes.release.submission import FileSubmission, TableSubmission
from fivesafes.sdc.hierarchy import Hierarchy


def _table(spec_text: str) -> TableSubmission:
    return TableSubmission(
        name="pay",
        cells_csv="area,value,status\nTotal,1,safe\n",
        report={},
        spec_text=spec_text,
        spec_hash=hashlib.sha256(spec_text.encode()).hexdigest(),
        frequency=False,
        a_priori_percent=None,
        hierarchies=(Hierarchy.flat("area", [], total="Total"),),
        files={},
    )


PAY = _table('[table]\nname = "pay"\nresponse = "pay"\n\n[[dimension]]\nname = "area"\n')
COUNT = _table('[table]\nname = "n"\n\n[[dimension]]\nname = "area"\n')
ANSWER = _table("one figure, worked out by hand")  # no TOML spec: measure unknown
PROVEN = SourceOrigin("ashe:pay", True, "earnings/t-1", "ab" * 16)

part = st.text(st.characters(categories=("L", "N"), include_characters="_-."), min_size=1)


@given(part, part)
def test_a_source_is_dataset_colon_measure(dataset: str, measure: str) -> None:
    assert split_source(f"{dataset}:{measure}") == (dataset, measure)
    for bad in (dataset, f"{dataset}:", f":{measure}", f"{dataset}:{measure}:x"):
        with pytest.raises(ValidationError, match="not DATASET:MEASURE"):
            split_source(bad)


def test_a_declared_source_names_a_registered_dataset_and_the_tables_measure() -> None:
    origin = declared_source("ashe:pay", PAY, ["ashe"], "earnings")
    assert origin == SourceOrigin("ashe:pay", verified=False)
    assert declared_source("ashe:count", COUNT, ["ashe"], "earnings").source == "ashe:count"
    assert declared_source("ashe:pay", ANSWER, ["ashe"], "earnings").verified is False
    chart = FileSubmission("chart.png", b"png")
    assert declared_source("ashe:chart", chart, ["ashe"], "earnings").source == "ashe:chart"
    with pytest.raises(ValidationError, match="say which dataset") as missing:
        declared_source(None, PAY, ["ashe", "lfs"], "earnings")
    assert "ashe, lfs" in str(missing.value.hint) and "--output" in str(missing.value.hint)
    with pytest.raises(NotFoundError, match="no registered dataset 'other'") as unknown:
        declared_source("other:pay", PAY, ["ashe"], "earnings")
    assert "earnings: ashe" in str(unknown.value.hint)
    with pytest.raises(ValidationError, match="tabulates 'pay'") as wrong:
        declared_source("ashe:income", PAY, ["ashe"], "earnings")
    assert "ashe:pay" in str(wrong.value.hint)


def test_a_proven_source_refuses_a_contradicting_one() -> None:
    assert proven_source(PROVEN, None) is PROVEN
    assert proven_source(PROVEN, "ashe:pay") is PROVEN
    with pytest.raises(ValidationError, match="contradicts the provenance of earnings/t-1"):
        proven_source(PROVEN, "other:pay")


def test_a_new_version_keeps_its_requests_source() -> None:
    same_request_source(PROVEN, "ashe:pay", 3)
    with pytest.raises(ValidationError, match="request #3 is about lfs:pay"):
        same_request_source(PROVEN, "lfs:pay", 3)


def test_the_source_check_passes_only_a_proven_source() -> None:
    proven = source_check(PROVEN)
    assert proven.verdict is CheckVerdict.PASS and "earnings/t-1" in proven.summary
    declared = source_check(SourceOrigin("ashe:pay", verified=False))
    assert declared.verdict is CheckVerdict.REVIEW and declared.summary.startswith(UNVERIFIED)
    assert declared.details == {
        "source": "ashe:pay",
        "verified": False,
        "output": None,
        "object_id": None,
    }
    # a declared source is never a PASS, whatever else it claims
    forged = SourceOrigin("ashe:pay", False, "earnings/t-1", "ab" * 16)
    assert source_check(forged).verdict is CheckVerdict.REVIEW
