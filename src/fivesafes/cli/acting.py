"""What the governance commands share: open the workspace, say who is acting, print.

Kept thin on purpose: the commands parse, call a service inside one transaction
and render; every rule lives in ``governance/`` and ``services/``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from fivesafes.governance.grants import GrantPolicy
from fivesafes.services.context import Actor, resolve_actor
from fivesafes.workspace import Workspace, open_workspace
from fivesafes.workspace.identity import current_identity

F = TypeVar("F", bound=Callable[..., Any])

DATE = click.DateTime(formats=["%Y-%m-%d"])


def json_option(func: F) -> F:
    """Add ``--json``: print machine-readable output instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


@contextmanager
def acting() -> Iterator[tuple[Workspace, Session, Actor]]:
    """Open the workspace, resolve the acting person and hold one transaction."""
    workspace = open_workspace()
    try:
        identity = current_identity(workspace)
        if identity.notice:
            click.echo(identity.notice, err=True)
        with workspace.transaction() as session:
            yield workspace, session, resolve_actor(session, identity.login)
    finally:
        workspace.close()


def grant_policy(workspace: Workspace) -> GrantPolicy:
    """The grant lengths set in the workspace's config."""
    return GrantPolicy(
        default_months=int(workspace.setting("grant_default_months")),
        max_months=int(workspace.setting("grant_max_months")),
    )


def plain(value: Any) -> Any:
    """Turn dataclasses, enums, dates and sets into JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def emit(value: Any, as_json: bool, text: Callable[[], str]) -> None:
    """Print ``value`` as JSON, or the text ``text()`` renders."""
    if as_json:
        click.echo(json.dumps(plain(value), indent=2, sort_keys=True))
    else:
        click.echo(text())


def as_date(value: datetime | None) -> date | None:
    """The date part of a parsed --date option."""
    return value.date() if value is not None else None
