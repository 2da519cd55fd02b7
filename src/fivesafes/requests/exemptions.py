"""Exemptions a withheld part may rely on, by the law of the request's kind.

Qualified exemptions (and every EIR exception, reg 12(1)(b)) apply only when the public
interest in withholding outweighs the public interest in disclosure: their record needs
the public-interest test's reasons. Absolute ones need none. Statistics producers lean
most on FOIA s41 (information provided in confidence), s43 (commercial interests), s44
with the Statistics and Registration Service Act 2007 s39 (prohibited disclosure), s40
(personal data) and s22 (intended for future publication).
"""

from __future__ import annotations

from dataclasses import dataclass

from fivesafes.errors import ValidationError
from fivesafes.requests.kinds import RequestKind


@dataclass(frozen=True)
class Exemption:
    """One exemption: its code, the law it is in, its title, and whether it is qualified."""

    code: str
    law: str
    title: str
    qualified: bool


FOIA = "Freedom of Information Act 2000"
EIR = "Environmental Information Regulations 2004"
DPA = "Data Protection Act 2018"


def _foi(section: str, title: str, qualified: bool) -> Exemption:
    return Exemption(section, FOIA, title, qualified)


def _eir(reg: str, title: str, qualified: bool = True) -> Exemption:
    return Exemption(reg, EIR, title, qualified)


def _dpa(code: str, title: str) -> Exemption:
    # The DPA exemptions carry no public-interest test of the FOI kind (each has its own
    # condition, e.g. "to the extent that complying would prejudice ..."), so not qualified.
    return Exemption(code, DPA, title, False)


FOI_EXEMPTIONS: tuple[Exemption, ...] = (
    _foi("s12", "cost of compliance exceeds the appropriate limit", False),
    _foi("s14", "vexatious or repeated request", False),
    _foi("s21", "information accessible to the applicant by other means", False),
    _foi("s22", "information intended for future publication", True),
    _foi("s22A", "research information intended for future publication", True),
    _foi("s23", "information supplied by, or relating to, bodies dealing with security", False),
    _foi("s24", "national security", True),
    _foi("s27", "international relations", True),
    _foi("s28", "relations within the United Kingdom", True),
    _foi("s29", "the economy", True),
    _foi("s30", "investigations and proceedings", True),
    _foi("s31", "law enforcement", True),
    _foi("s32", "court records", False),
    _foi("s35", "formulation of government policy", True),
    _foi("s36", "prejudice to effective conduct of public affairs", True),
    _foi("s38", "health and safety", True),
    _foi("s40(1)", "the applicant's own personal data", False),
    _foi("s40(2)", "personal data of others", False),
    _foi("s41", "information provided in confidence", False),
    _foi("s42", "legal professional privilege", True),
    _foi("s43", "commercial interests", True),
    _foi("s44", "prohibitions on disclosure (e.g. SRSA 2007 s39)", False),
)

EIR_EXCEPTIONS: tuple[Exemption, ...] = (
    _eir("12(4)(a)", "information not held"),
    _eir("12(4)(b)", "manifestly unreasonable request"),
    _eir("12(4)(c)", "request formulated in too general a manner"),
    _eir("12(4)(d)", "material in the course of completion, unfinished documents"),
    _eir("12(4)(e)", "internal communications"),
    _eir("12(5)(a)", "international relations, defence, national security, public safety"),
    _eir("12(5)(b)", "the course of justice"),
    _eir("12(5)(c)", "intellectual property rights"),
    _eir("12(5)(d)", "confidentiality of proceedings"),
    _eir("12(5)(e)", "confidentiality of commercial or industrial information"),
    _eir("12(5)(f)", "interests of the person who provided the information"),
    _eir("12(5)(g)", "protection of the environment"),
    _eir("13", "personal data of others", qualified=False),
)

SAR_EXEMPTIONS: tuple[Exemption, ...] = (
    _dpa("sch2-p2", "crime and taxation (Schedule 2 paragraph 2)"),
    _dpa("sch2-p5", "disclosure required by law or in legal proceedings (Schedule 2 paragraph 5)"),
    _dpa("sch2-p16", "information about another individual (Schedule 2 paragraph 16)"),
    _dpa("sch2-p19", "legal professional privilege (Schedule 2 paragraph 19)"),
    _dpa("sch2-p22", "management forecasts (Schedule 2 paragraph 22)"),
    _dpa("sch2-p23", "negotiations (Schedule 2 paragraph 23)"),
    _dpa("sch2-p24", "confidential references (Schedule 2 paragraph 24)"),
    _dpa("sch2-p27", "research and statistics (Schedule 2 paragraph 27)"),
    _dpa("sch2-p28", "archiving in the public interest (Schedule 2 paragraph 28)"),
    _dpa("a12(5)", "manifestly unfounded or excessive request (UK GDPR Article 12(5))"),
)

CATALOGUE: dict[RequestKind, dict[str, Exemption]] = {
    RequestKind.FOI: {e.code.lower(): e for e in FOI_EXEMPTIONS},
    RequestKind.EIR: {e.code.lower(): e for e in EIR_EXCEPTIONS},
    RequestKind.SAR: {e.code.lower(): e for e in SAR_EXEMPTIONS},
    # Parliamentary questions and ad hoc requests are answered in the spirit of FOIA.
    RequestKind.PQ: {e.code.lower(): e for e in FOI_EXEMPTIONS},
    RequestKind.AD_HOC: {e.code.lower(): e for e in FOI_EXEMPTIONS},
}


def exemption(kind: RequestKind, code: str) -> Exemption:
    """The exemption ``code`` of ``kind``'s law (``s43``, ``S43``, ``reg 12(5)(e)``)."""
    key = code.strip().lower().removeprefix("reg").removeprefix("section").strip()
    if kind in (RequestKind.FOI, RequestKind.PQ, RequestKind.AD_HOC) and key[:1].isdigit():
        key = "s" + key
    found = CATALOGUE[kind].get(key)
    if found is None:
        known = ", ".join(e.code for e in CATALOGUE[kind].values())
        raise ValidationError(
            f"{code!r} is not an exemption of a {kind.value} request",
            hint=f"use one of: {known}",
        )
    return found


@dataclass(frozen=True)
class WithheldPart:
    """One part of the answer withheld, the exemption it relies on and the test's reasons."""

    part: str
    exemption: Exemption
    public_interest: str | None = None


def withheld_part(
    kind: RequestKind, part: str, code: str, public_interest: str | None
) -> WithheldPart:
    """A checked withheld part: a qualified exemption needs the public-interest reasons."""
    found = exemption(kind, code)
    if not part.strip():
        raise ValidationError(
            "say which part of the answer is withheld", hint="e.g. --part 'figures for 2024'"
        )
    reasons = (public_interest or "").strip() or None
    if found.qualified and reasons is None:
        raise ValidationError(
            f"{found.code} is qualified: it needs the public-interest test",
            hint="give --public-interest with the reasons for and against disclosure and "
            "why withholding wins",
        )
    return WithheldPart(part.strip(), found, reasons)
