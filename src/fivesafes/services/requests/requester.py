"""The requester's personal details: shown only to the case's officers, shredded at the end
of retention. Every showing is an access decision, audited allowed or denied; the details
themselves never reach the log.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.audit.events import Outcome
from fivesafes.errors import AccessDenied, NotFoundError
from fivesafes.release.sealing import unseal
from fivesafes.requests import permissions
from fivesafes.requests.kinds import RequestKind
from fivesafes.services.context import Actor, now, record, today_or
from fivesafes.services.requests.cases import case_row, requester_object_id
from fivesafes.store.models.requests import RequestCaseRow
from fivesafes.vault.keys import KeyProvider

REVEAL = "request.requester_read"


def reveal_requester(session: Session, actor: Actor, provider: KeyProvider, case_id: int) -> str:
    """The requester's details of case ``case_id``, to one of its officers (audited)."""
    row = case_row(session, case_id)
    kind = RequestKind(row.kind)
    area = row.area  # read now: the row expires when the refusal rolls back
    if not permissions.can_act_on_case(actor.person, kind, row.opened_by, row.officer):
        refused = AccessDenied(
            f"{actor.login} may not see the requester of request #{case_id}",
            reasons=("the requester's details are shown only to the case's officers",),
            hint="only who opened the case or its assigned officer may see them",
        )
        refused.audited_by(
            lambda s: record(
                s, actor.login, REVEAL, outcome=Outcome.DENIED, area=area, subject=str(case_id)
            )
        )
        raise refused
    if row.requester_sealed is None or row.requester_wrapped_key is None:
        raise NotFoundError(
            f"the requester's details of request #{case_id} were shredded on "
            f"{row.shredded_at:%Y-%m-%d}"
            if row.shredded_at
            else f"request #{case_id} has no requester details",
            hint="they are kept only for the retention period",
        )
    plain = unseal(
        provider,
        row.area,
        requester_object_id(row.id),
        row.requester_sealed,
        row.requester_wrapped_key,
    )
    record(
        session, actor.login, REVEAL, outcome=Outcome.ALLOWED, area=row.area, subject=str(row.id)
    )
    return str(json.loads(plain)["requester"])


def shred_expired(session: Session, actor: Actor, today: date | None = None) -> list[int]:
    """Shred the requester details of cases past retention; the case ids shredded."""
    permissions.check_handle(actor.person, RequestKind.FOI)
    day = today_or(today)
    due = session.scalars(
        select(RequestCaseRow)
        .where(RequestCaseRow.retain_until.is_not(None))
        .where(RequestCaseRow.retain_until < day)
        .where(RequestCaseRow.requester_sealed.is_not(None))
        .order_by(RequestCaseRow.id)
    ).all()
    stamp = now()
    for row in due:
        # Both the ciphertext and its wrapped data key go: nothing is left to decrypt.
        row.requester_sealed = None
        row.requester_wrapped_key = None
        row.shredded_at = stamp
        record(
            session,
            actor.login,
            "request.shred",
            area=row.area,
            subject=str(row.id),
            details={"retain_until": row.retain_until.isoformat() if row.retain_until else None},
        )
    return [row.id for row in due]
