"""The governance demo shows one allowed and one denied access, and audits every step."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from fivesafes.demo.governance import ANALYST, NEWCOMER, run_governance_demo
from fivesafes.store.models.audit import AuditRecord
from fivesafes.workspace import open_workspace


def test_demo_allows_one_and_denies_the_other_with_reasons(tmp_path: Path) -> None:
    lines = run_governance_demo(tmp_path / "ws")
    text = "\n".join(lines)
    assert f"access check {ANALYST} -> monthly-business-survey (statistical): ALLOWED" in text
    assert f"access check {NEWCOMER} -> monthly-business-survey (statistical): DENIED" in text
    denied_at = next(i for i, line in enumerate(lines) if "DENIED" in line)
    reasons = [line for line in lines[denied_at + 1 :] if line.startswith("    - ")]
    assert len(reasons) == 3  # extra training, declaration, grant
    ws = open_workspace(tmp_path / "ws")
    try:
        with ws.transaction() as session:
            decisions = session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.action == "access.decide")
            )
    finally:
        ws.close()
    assert decisions == 2
