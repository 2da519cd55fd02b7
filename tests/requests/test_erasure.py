"""Which lawful bases take a dataset out of the rights to erasure and rectification."""

import pytest

from fivesafes.requests.erasure import SubjectRight, refusal_reason


@pytest.mark.parametrize(
    "basis",
    [
        "SRSA 2007",
        "SRSA 2007 s.45",
        "Statistics and Registration Service Act 2007",
        "UK GDPR Art 89 research safeguards",
        "UK GDPR Article 89(1)",
        "scientific research, DPA 2018 Sch 1 para 4",
        "archiving in the public interest",
        "official statistics",
    ],
)
def test_statistics_research_and_archiving_are_refused_with_the_law(basis: str) -> None:
    erase = refusal_reason(SubjectRight.ERASURE, basis)
    rectify = refusal_reason(SubjectRight.RECTIFICATION, basis)
    assert erase is not None and "Art 17(3)(d)" in erase and basis in erase
    assert rectify is not None and "para 27" in rectify


@pytest.mark.parametrize(
    "basis", ["UK GDPR Art 6(1)(e) public task", "consent", "UK GDPR Art 6(1)(c)", "contract"]
)
def test_other_bases_allow_the_right(basis: str) -> None:
    assert refusal_reason(SubjectRight.ERASURE, basis) is None
    assert refusal_reason(SubjectRight.RECTIFICATION, basis) is None
