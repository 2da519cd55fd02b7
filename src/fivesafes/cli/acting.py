"""What the commands share: act through the composition root (``fivesafes.app``), print.

Kept thin on purpose: the commands parse, call a service inside one transaction
and render; every rule lives in ``governance/`` and ``services/``, and opening the
workspace, resolving who acts and holding the transaction live in ``fivesafes.app``.
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

from fivesafes.app import App, open_app
from fivesafes.governance.grants import GrantPolicy
from fivesafes.services.context import Actor
from fivesafes.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])

DATE = click.DateTime(formats=["%Y-%m-%d"])


def json_option(func: F) -> F:
    """Add ``--json``: print machine-readable output instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def notice(text: str) -> None:
    """Print a notice (e.g. the demo identity's) on stderr, away from --json output."""
    click.echo(text, err=True)


@contextmanager
def acting() -> Iterator[tuple[Workspace, Session, Actor]]:
    """Open the workspace, resolve the acting person and hold one transaction."""
    with open_app(notice=notice) as now:
        yield now.workspace, now.session, now.actor


@contextmanager
def opened() -> Iterator[tuple[App, str]]:
    """The opened app and the acting login, for commands that run several transactions."""
    with App.open() as app:
        identity = app.identity()
        if identity.notice:
            notice(identity.notice)
        yield app, identity.login


def grant_policy(workspace: Workspace) -> GrantPolicy:
    """The grant lengths set in the workspace's config."""
    return App(workspace).grant_policy()


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
