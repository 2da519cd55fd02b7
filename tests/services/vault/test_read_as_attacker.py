"""The read path attacked: access revoked while a long job runs, an audit log that cannot be
written, an area that does not exist (both databases). Every read decides again, and a
decision that cannot be audited is not given."""

from __future__ import annotations

from pathlib import Path

import pytest
from release_world import AREA
from sqlalchemy import Engine, select
from stored_world import Stored, build_stored

from fivesafes.audit import log as audit_log
from fivesafes.errors import AccessDenied, NotFoundError
from fivesafes.services.governance import grants
from fivesafes.services.vault.read import open_dataset_for, query_area_for
from fivesafes.store.models.audit import AuditRecord
from fivesafes.store.models.governance import GrantRow


@pytest.fixture
def stored(engine: Engine, tmp_path: Path) -> Stored:
    return build_stored(engine, tmp_path)


def _grant_id(stored: Stored, login: str = "ada") -> int:
    (gid,) = (g.id for g in stored.world.reg.read(grants.list_grants, login, AREA))
    return gid


def _since(stored: Stored, seq: int) -> list[tuple[str, str, str | None]]:
    with stored.tx() as s:
        rows = s.scalars(select(AuditRecord).where(AuditRecord.seq > seq).order_by(AuditRecord.seq))
        return [(r.action, r.outcome, r.actor) for r in rows]


def _seq(stored: Stored) -> int:
    with stored.tx() as s:
        return max(s.scalars(select(AuditRecord.seq)), default=0)


class _RevokeMidway:
    """A progress reporter that revokes ada's grant once the library has started."""

    def __init__(self, stored: Stored) -> None:
        self.stored, self.done = stored, False

    def start(self, stage: str, total: float | None = None) -> None:
        if not self.done and not stage.startswith("read dataset"):
            self.stored.world.reg.act("iris", grants.revoke_grant, _grant_id(self.stored), "ended")
            self.done = True

    def advance(self, stage: str, steps: float = 1.0, detail: str = "") -> None:
        pass

    def finish(self, stage: str, outcome: str = "") -> None:
        pass


def test_access_revoked_during_table_protect_stops_the_next_read_and_the_output_leaving(
    stored: Stored,
) -> None:
    revoker = _RevokeMidway(stored)
    made = stored.shifted(progress=revoker)  # the read was allowed when it was made
    assert revoker.done
    with stored.tx() as s:
        assert s.get(GrantRow, _grant_id(stored)).state == "revoked"  # type: ignore[union-attr]
    seq = _seq(stored)
    with pytest.raises(AccessDenied, match="denied"):
        open_dataset_for(stored.tx, stored.vault, "ada", AREA, "ashe")
    with pytest.raises(AccessDenied):
        stored.shifted(name="again")
    with pytest.raises(AccessDenied, match="grant"):
        stored.submit(f"{AREA}/{made.output.name}")
    assert _since(stored, seq)[:2] == [
        ("access.decide", "denied", "ada"),
        ("access.decide", "denied", "ada"),
    ]


def test_a_read_whose_decision_cannot_be_audited_returns_nothing(
    stored: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert open_dataset_for(stored.tx, stored.vault, "ada", AREA, "ashe").num_rows > 0
    real = audit_log.append_event

    def failing(session, event):  # type: ignore[no-untyped-def]
        if event.action == "access.decide":
            raise RuntimeError("audit log unavailable")
        return real(session, event)

    monkeypatch.setattr(audit_log, "append_event", failing)
    seq = _seq(stored)
    got = []
    with pytest.raises(RuntimeError, match="audit log unavailable"):
        got.append(open_dataset_for(stored.tx, stored.vault, "ada", AREA, "ashe"))
    with pytest.raises(RuntimeError, match="audit log unavailable"):
        got.append(query_area_for(stored.tx, stored.vault, "ada", AREA, "SELECT 1 FROM ashe"))
    assert got == [] and _since(stored, seq) == []
    assert stored.vault.store(AREA).names("outputs") == []


def test_a_query_of_an_area_that_does_not_exist_is_an_audited_denial(stored: Stored) -> None:
    seq = _seq(stored)
    with pytest.raises(NotFoundError, match="nowhere"):
        query_area_for(stored.tx, stored.vault, "ada", "nowhere", "SELECT count(*) FROM ashe")
    with stored.tx() as s:
        (event,) = s.scalars(select(AuditRecord).where(AuditRecord.seq > seq))
        assert (event.action, event.outcome, event.actor, event.area) == (
            "access.decide",
            "denied",
            "ada",
            "nowhere",
        )
        assert event.details["allowed"] is False
