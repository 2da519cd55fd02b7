"""What the commands share: act through the composition root (``fivesafes.app``), print.

Kept thin on purpose: the commands parse, call a service inside one transaction
and render; every rule lives in ``governance/`` and ``services/``, and opening the
workspace, resolving who acts and holding the transaction live in ``fivesafes.app``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fivesafes.errors import WorkspaceError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fivesafes.app import App
    from fivesafes.governance.grants import GrantPolicy
    from fivesafes.services.context import Actor
    from fivesafes.workspace import Workspace

# Every command module imports this one: what a command needs only once it runs (the
# database, the server's client and operations) is imported there, so that `--help`
# does not wait for it.

F = TypeVar("F", bound=Callable[..., Any])

DATE = click.DateTime(formats=["%Y-%m-%d"])


def json_option(func: F) -> F:
    """Add ``--json``: print machine-readable output instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def notice(text: str) -> None:
    """Print a notice (e.g. the demo identity's) on stderr, away from --json output."""
    click.echo(text, err=True)


SERVER_META = "fivesafes.server"


def server() -> str | None:
    """The server this command calls (--server or FIVESAFES_SERVER), or None: in process."""
    ctx = click.get_current_context(silent=True)
    given = ctx.meta.get(SERVER_META) if ctx is not None else None
    from fivesafes.server.client import server_address

    return server_address(given)


def call(name: str, /, **params: Any) -> Any:
    """Run operation ``name`` through the server, else in this process; JSON-ready data."""
    from fivesafes.server import client, operations

    address = server()
    if address is not None:
        return client.call(address, name, params)
    with opened() as (app, login):
        app.ask_passphrase = ask_passphrase
        return operations.run(app, login, name, params)


def call_upload(name: str, file: Path, /, **params: Any) -> Any:
    """Run upload operation ``name`` on ``file``: streamed to the server, else read here."""
    from fivesafes.server import client, operations

    address = server()
    if address is not None:
        return client.upload(address, name, file, params)
    with opened() as (app, login):
        app.ask_passphrase = ask_passphrase
        return operations.run_upload(app, login, name, params, file)


def _interactive() -> bool:
    return sys.stdin.isatty()


def ask_passphrase() -> str:
    """Ask for the area-key passphrase on a terminal; nothing when not interactive."""
    if not _interactive():
        return ""
    return str(click.prompt("passphrase for the area keys", hide_input=True, err=True))


def _in_process_only() -> None:
    # A command not yet routed must not open the workspace behind the server's back (nor
    # fail with a traceback on a workspace the user cannot read): say so instead.
    address = server()
    if address is not None:
        ctx = click.get_current_context(silent=True)
        path = ctx.command_path.split()[1:] if ctx is not None else ["this", "command"]
        name = " ".join(["fivesafes", *path])
        raise WorkspaceError(
            f"`{name}` is not yet available through the server ({address})",
            hint="run it as the server's service account on the server's machine, "
            "or unset FIVESAFES_SERVER for a workspace of your own",
        )


def service_account_only() -> None:
    """Refuse, through a server, a command that is the service account's own administration.

    ``backup`` and ``restore`` read or make the workspace itself (its database, keys and
    signing key): nothing a person should reach through the server, whatever their roles.
    """
    address = server()
    if address is None:
        return
    ctx = click.get_current_context(silent=True)
    path = ctx.command_path.split()[1:] if ctx is not None else ["this", "command"]
    name = " ".join(["fivesafes", *path])
    raise WorkspaceError(
        f"`{name}` is the service account's own administration: it is not run through "
        f"the server ({address})",
        hint="run it as the server's service account on the server's machine, with "
        "FIVESAFES_HOME set to the server's workspace and FIVESAFES_SERVER unset",
    )


@contextmanager
def acting() -> Iterator[tuple[Workspace, Session, Actor]]:
    """Open the workspace, resolve the acting person and hold one transaction."""
    _in_process_only()
    from fivesafes.app import open_app

    with open_app(notice=notice) as now:
        yield now.workspace, now.session, now.actor


@contextmanager
def opened() -> Iterator[tuple[App, str]]:
    """The opened app and the acting login, for commands that run several transactions."""
    _in_process_only()
    from fivesafes.app import App

    with App.open() as app:
        identity = app.identity()
        if identity.notice:
            notice(identity.notice)
        yield app, identity.login


def grant_policy(workspace: Workspace) -> GrantPolicy:
    """The grant lengths set in the workspace's config."""
    from fivesafes.app import App

    return App(workspace).grant_policy()


def plain(value: Any) -> Any:
    """Dataclasses, enums, dates and sets as JSON-ready values (as the server sends them)."""
    from fivesafes.server.operation import plain as json_ready

    return json_ready(value)


def emit(value: Any, as_json: bool, text: Callable[[], str]) -> None:
    """Print ``value`` as JSON, or the text ``text()`` renders."""
    if as_json:
        click.echo(json.dumps(plain(value), indent=2, sort_keys=True))
    else:
        click.echo(text())


def as_date(value: datetime | None) -> date | None:
    """The date part of a parsed --date option."""
    return value.date() if value is not None else None
