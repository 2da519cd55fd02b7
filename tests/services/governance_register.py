"""Governance service helpers: a small register on a migrated database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select, text

from fivesafes.governance.areas import Dataset
from fivesafes.governance.roles import Role
from fivesafes.services.context import resolve_actor
from fivesafes.services.governance import areas, datasets, declarations, people, training
from fivesafes.store.base import Base
from fivesafes.store.db import transaction
from fivesafes.store.models.audit import AuditRecord

T = TypeVar("T")

TODAY = date(2026, 6, 1)
EXTRA_COURSE = "Earnings data"
MANDATORY = "Responsible for information"


@dataclass
class Register:
    """A migrated database with: root (admin), iris (IAO, owns 'earnings', trained and
    signed), ada (analyst), bob (analyst), course 'Earnings data' required by area
    'earnings', dataset 'ashe', declaration version 1 published."""

    engine: Engine

    def act(self, login: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run service ``fn`` as ``login`` in one transaction."""
        with transaction(self.engine) as session:
            return fn(session, resolve_actor(session, login), *args, **kwargs)

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read-only service in a transaction."""
        with transaction(self.engine) as session:
            return fn(session, *args, **kwargs)

    def audit_count(self) -> int:
        with transaction(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)

    def last_event(self) -> AuditRecord:
        with transaction(self.engine) as session:
            row = session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
            assert row is not None
            return row

    def snapshot(self) -> dict[str, int]:
        """Row counts of every table (to show that bad input wrote nothing)."""
        with transaction(self.engine) as session:
            return {
                name: int(session.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0)
                for name in Base.metadata.tables
            }

    def changes(self, before: dict[str, int]) -> dict[str, int]:
        """Rows added (or removed) per table since the snapshot ``before``."""
        after = self.snapshot()
        return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}

    def make_ready(self, login: str) -> None:
        """Train ``login`` in both courses and sign the current declaration."""
        for course in (MANDATORY, EXTRA_COURSE):
            self.act("root", training.record_completion, login, course, TODAY, "cert", TODAY)
        version = self.read(declarations.current_version_number)
        with transaction(self.engine) as session:
            declarations.sign_declaration(session, resolve_actor(session, login), version)


def build_register(engine: Engine) -> Register:
    """Fill a migrated database with the small register described on :class:`Register`."""
    r = Register(engine)
    with transaction(engine) as session:
        people.bootstrap_administrator(session, "root", "Root Admin")
    r.act("root", people.register_person, "iris", "Iris Owner", [Role.INFORMATION_ASSET_OWNER])
    r.act("root", people.register_person, "ada", "Ada Analyst", [Role.STATISTICIAN])
    r.act("root", people.register_person, "bob", "Bob Analyst", [Role.STATISTICIAN])
    r.act("root", training.add_course, EXTRA_COURSE, 24)
    r.act("root", areas.create_area, "earnings", "iris", [EXTRA_COURSE])
    r.act(
        "iris",
        datasets.register_dataset,
        Dataset("ashe", "earnings", True, True, True, "ASHE survey", "SRSA 2007"),
        TODAY,
    )
    r.act("root", declarations.publish_declaration, "I will protect confidential data.")
    # The asset owner decides on access: she passes the people checks herself.
    r.make_ready("iris")
    return r
