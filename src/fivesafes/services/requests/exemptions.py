"""Withheld parts and their exemptions; the refusal notice generated from them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fivesafes.errors import ValidationError
from fivesafes.requests import permissions
from fivesafes.requests.cases import Outcome
from fivesafes.requests.exemptions import WithheldPart, exemption, withheld_part
from fivesafes.requests.kinds import RequestKind
from fivesafes.requests.notice import refusal_notice
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.context import Actor, now, record
from fivesafes.services.requests.cases import CaseView, answering_case, case_row, view_of
from fivesafes.store.models.requests import RequestCaseRow, RequestExemptionRow


def record_exemption(
    session: Session,
    actor: Actor,
    policy: RequestPolicy,
    case_id: int,
    part: str,
    code: str,
    public_interest: str | None = None,
) -> CaseView:
    """Record a withheld part of the answer and the exemption it relies on (case officers)."""
    row = answering_case(session, actor, case_id, "exemptions are recorded")
    withheld = withheld_part(RequestKind(row.kind), part, code, public_interest)
    row.exemptions.append(
        RequestExemptionRow(
            part=withheld.part,
            code=withheld.exemption.code,
            public_interest=withheld.public_interest,
            recorded_by=actor.login,
            recorded_at=now(),
        )
    )
    session.flush()
    record(
        session,
        actor.login,
        "request.exempt",
        area=row.area,
        subject=str(row.id),
        details={
            "code": withheld.exemption.code,
            "qualified": withheld.exemption.qualified,
            "part": withheld.part,
        },
    )
    return view_of(row, policy)


def withheld_parts(row: RequestCaseRow) -> list[WithheldPart]:
    """The withheld parts of a stored case, with their exemptions."""
    kind = RequestKind(row.kind)
    return [
        WithheldPart(e.part, exemption(kind, e.code), e.public_interest) for e in row.exemptions
    ]


def refusal_notice_for(session: Session, actor: Actor, case_id: int) -> str:
    """The refusal notice of a case with withheld parts (the case's officers)."""
    row = case_row(session, case_id)
    kind = RequestKind(row.kind)
    permissions.check_act_on_case(actor.person, kind, row.id, row.opened_by, row.officer)
    parts = withheld_parts(row)
    if not parts:
        raise ValidationError(
            f"request #{case_id} withholds nothing: there is no refusal notice to write",
            hint=f"record a withheld part first: fivesafes request exempt {case_id} --part ...",
        )
    in_full = row.outcome == Outcome.WITHHELD.value
    return refusal_notice(row.id, kind, row.received, parts, in_full)
