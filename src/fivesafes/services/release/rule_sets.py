"""The organisation's disclosure rules: versioned, who set them and when, the one in force."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fivesafes.release.permissions import check_define_rules
from fivesafes.release.rulesets import RuleSetting, parse_parameters
from fivesafes.services.context import Actor, now, record
from fivesafes.store.models.release import RuleSetRow


def rule_setting_of(row: RuleSetRow) -> RuleSetting:
    """The domain view of a rule-set row."""
    return RuleSetting(
        name=row.name,
        version=row.version,
        parameters=json.loads(row.parameters_json),
        created_by=row.created_by,
        created_at=row.created_at,
        note=row.note,
        id=row.id,
    )


def define_rule_set(
    session: Session, actor: Actor, name: str, parameters: Mapping[str, Any], note: str = ""
) -> RuleSetting:
    """Put a new version of rule set ``name`` in force (head of profession or administrator)."""
    check_define_rules(actor.person)
    params = parse_parameters(parameters)
    latest = session.scalar(select(func.max(RuleSetRow.version)).where(RuleSetRow.name == name))
    row = RuleSetRow(
        name=name,
        version=(latest or 0) + 1,
        parameters_json=json.dumps(params, sort_keys=True),
        note=note,
        created_by=actor.login,
        created_at=now(),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor.login,
        "rules.define",
        subject=f"{name} v{row.version}",
        details={"parameters": params, "note": note},
    )
    return rule_setting_of(row)


def rule_set_in_force(session: Session, name: str) -> RuleSetting | None:
    """The latest version of rule set ``name``, or None when it was never defined."""
    row = session.scalars(
        select(RuleSetRow).where(RuleSetRow.name == name).order_by(RuleSetRow.version.desc())
    ).first()
    return rule_setting_of(row) if row is not None else None


def list_rule_sets(session: Session) -> list[RuleSetting]:
    """Every version of every rule set, oldest first."""
    rows = session.scalars(select(RuleSetRow).order_by(RuleSetRow.name, RuleSetRow.version))
    return [rule_setting_of(r) for r in rows]
