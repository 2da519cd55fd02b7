"""The refusal notice, generated from the withheld parts (FOIA s17, EIR reg 14, UK GDPR
Art 12(4)). It names no requester: the officer adds the salutation when sending it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fivesafes.requests.exemptions import WithheldPart
from fivesafes.requests.kinds import RequestKind

_LAW = {
    RequestKind.FOI: "section 17 of the Freedom of Information Act 2000",
    RequestKind.EIR: "regulation 14 of the Environmental Information Regulations 2004",
    RequestKind.SAR: "Article 12(4) of the UK GDPR",
    RequestKind.PQ: "the Freedom of Information Act 2000, in its spirit",
    RequestKind.AD_HOC: "the Freedom of Information Act 2000, in its spirit",
}

_REGULATOR = {
    RequestKind.SAR: (
        "You may complain to the Information Commissioner's Office (ico.org.uk) and you "
        "may seek to enforce your rights through the courts."
    ),
}
_DEFAULT_REGULATOR = (
    "If you are not content with the outcome of the internal review, you may apply to the "
    "Information Commissioner's Office (ico.org.uk) for a decision (FOIA section 50)."
)


def refusal_notice(
    case_id: int,
    kind: RequestKind,
    received: date,
    parts: Sequence[WithheldPart],
    in_full: bool,
) -> str:
    """The notice's text: what is withheld, under which exemption, and the public interest."""
    extent = "in full" if in_full else "in part"
    lines = [
        f"Request #{case_id} ({kind.value.upper()}), received {received:%d %B %Y}",
        "",
        f"This is a refusal notice under {_LAW[kind]}. We hold information within the scope "
        f"of your request and are withholding it {extent}, as set out below.",
        "",
    ]
    for number, part in enumerate(parts, start=1):
        e = part.exemption
        lines.append(f"{number}. {part.part}")
        lines.append(f"   Withheld under {e.code} of the {e.law}: {e.title}.")
        if e.qualified:
            lines.append(
                "   This exemption is qualified. We have weighed the public interest: "
                f"{part.public_interest}"
            )
        else:
            lines.append("   This exemption is absolute: no public interest test applies.")
        lines.append("")
    if kind is not RequestKind.SAR:
        lines.append(
            "If you are dissatisfied with this response you may ask for an internal review "
            "within 40 working days of this notice."
        )
    lines.append(_REGULATOR.get(kind, _DEFAULT_REGULATOR))
    return "\n".join(lines) + "\n"
