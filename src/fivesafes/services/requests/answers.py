"""Table answers: a published release attached to a case.

A table in an answer goes through the release workflow itself (``table protect
--dataset`` inside the area, ``release submit``, two output checkers, ``release
publish``): the same protection, the register-aware differencing check and two-person
checking as any release. The case then records which releases answer it; the
disclosure log lists them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fivesafes.errors import ConflictError, NotFoundError
from fivesafes.requests.policy import RequestPolicy
from fivesafes.services.context import Actor, now, record
from fivesafes.services.requests.cases import CaseView, answering_case, view_of
from fivesafes.store.models.release import PublishedReleaseRow
from fivesafes.store.models.requests import RequestReleaseRow


def attach_release(
    session: Session, actor: Actor, policy: RequestPolicy, case_id: int, release_id: str
) -> CaseView:
    """Record that published release ``release_id`` is part of the case's answer."""
    row = answering_case(session, actor, case_id, "releases are attached")
    published = session.scalars(
        select(PublishedReleaseRow).where(PublishedReleaseRow.release_id == release_id)
    ).one_or_none()
    if published is None:
        raise NotFoundError(
            f"no published release {release_id!r}",
            hint="a table answer is published first: table protect --dataset, release submit, "
            "two approvals, release publish; then attach its release id",
        )
    if release_id in released_for(session, case_id):
        raise ConflictError(
            f"release {release_id} is already part of request #{case_id}'s answer",
            hint="nothing to do",
        )
    session.add(
        RequestReleaseRow(
            case_id=row.id, release_id=release_id, attached_by=actor.login, attached_at=now()
        )
    )
    session.flush()
    record(
        session,
        actor.login,
        "request.attach_release",
        area=published.area.name,
        subject=str(row.id),
        details={"release": release_id, "source": published.source},
    )
    return view_of(row, policy)


def released_for(session: Session, case_id: int) -> list[str]:
    """The release ids attached to case ``case_id``, in the order attached."""
    return list(
        session.scalars(
            select(RequestReleaseRow.release_id)
            .where(RequestReleaseRow.case_id == case_id)
            .order_by(RequestReleaseRow.id)
        )
    )
