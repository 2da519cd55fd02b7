"""Exemptions by kind, the public-interest test of qualified ones, the refusal notice."""

from __future__ import annotations

from datetime import date

import pytest

from fivesafes.errors import ValidationError
from fivesafes.requests.exemptions import CATALOGUE, exemption, withheld_part
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.notice import refusal_notice

FOI, EIR, SAR = RequestKind.FOI, RequestKind.EIR, RequestKind.SAR


@pytest.mark.parametrize(
    ("kind", "code", "expected", "qualified"),
    [
        (FOI, "s43", "s43", True),
        (FOI, "S41", "s41", False),
        (FOI, "section 22", "s22", True),
        (FOI, "40(2)", "s40(2)", False),
        (EIR, "reg 12(5)(e)", "12(5)(e)", True),
        (EIR, "13", "13", False),
        (SAR, "sch2-p27", "sch2-p27", False),
    ],
)
def test_codes_are_found_in_the_kind_s_law(
    kind: RequestKind, code: str, expected: str, qualified: bool
) -> None:
    found = exemption(kind, code)
    assert (found.code, found.qualified) == (expected, qualified)


def test_an_exemption_of_another_law_is_refused_with_the_list() -> None:
    with pytest.raises(ValidationError, match="not an exemption of a eir") as raised:
        exemption(EIR, "s43")
    assert raised.value.hint is not None and "12(5)(e)" in raised.value.hint


def test_every_eir_exception_but_personal_data_is_qualified() -> None:
    assert {e.code for e in CATALOGUE[EIR].values() if not e.qualified} == {"13"}


def test_a_qualified_exemption_needs_the_public_interest_test() -> None:
    with pytest.raises(ValidationError, match="public-interest test"):
        withheld_part(FOI, "turnover by firm", "s43", "  ")
    assert withheld_part(FOI, "names", "s40(2)", None).public_interest is None


def test_the_refusal_notice_lists_each_part_and_the_test() -> None:
    parts = [
        withheld_part(
            FOI,
            "Turnover of the three largest firms",
            "s43",
            "Disclosure would harm the firms' position; this outweighs transparency.",
        ),
        withheld_part(FOI, "Returns of named businesses", "s41", None),
    ]
    text = refusal_notice(7, FOI, date(2026, 3, 2), parts, in_full=False)
    assert "section 17 of the Freedom of Information Act 2000" in text
    assert "withholding it in part" in text
    assert "1. Turnover of the three largest firms" in text
    assert "s43 of the Freedom of Information Act 2000: commercial interests" in text
    assert "outweighs transparency" in text
    assert "s41" in text and "absolute" in text
    assert "internal review" in text and "section 50" in text
    sar = refusal_notice(
        8, SAR, date(2026, 3, 2), [withheld_part(SAR, "x", "sch2-p16", None)], True
    )
    assert "Article 12(4)" in sar and "internal review" not in sar
