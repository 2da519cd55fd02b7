"""``fivesafes server``: create a service-owned workspace and serve it (the only key holder)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from fivesafes.cli.acting import call, emit, json_option, notice
from fivesafes.services.setup import init_workspace
from fivesafes.workspace.settings import KEY_PROVIDERS


@click.group()
def server() -> None:
    """Run the fivesafes server: people act only through it, as themselves.

    \b
    Examples. Run these as the service account (e.g. `fivesafes`), which alone owns the
    workspace:
      fivesafes server init --home /var/lib/fivesafes --admin-login ada --admin-name "Ada L"
      fivesafes server start --home /var/lib/fivesafes --socket /run/fivesafes/api.sock
    People then call it (their OS login is who they are):
      fivesafes --server unix:/run/fivesafes/api.sock people list
    """


@server.command("init")
@click.option(
    "--home", required=True, type=click.Path(file_okay=False, path_type=Path), help="Workspace."
)
@click.option("--admin-login", required=True, help="OS login of the first administrator.")
@click.option("--admin-name", required=True, help="Full name of the first administrator.")
@click.option("--database-url", help="PostgreSQL URL instead of SQLite in the workspace.")
@click.option(
    "--key-provider",
    type=click.Choice(KEY_PROVIDERS),
    default="file",
    show_default=True,
    help="Who holds the area keys: key files, a passphrase per area, or a PKCS#11 token "
    "([pkcs11] in config.toml).",
)
@json_option
def init(
    home: Path,
    admin_login: str,
    admin_name: str,
    database_url: str | None,
    key_provider: str,
    as_json: bool,
) -> None:
    """Create a workspace owned by this (service) account: folders 0700, files 0600.

    The administrator is a person (their own OS login), not the service account: they act
    through the server like everyone else.

    \b
    Example (as the service account):
      fivesafes server init --home /var/lib/fivesafes --admin-login ada --admin-name "Ada L"
    """
    old = os.umask(0o077)  # whatever the workspace's code forgets, nothing is group-readable
    try:
        workspace, admin = init_workspace(
            home, admin_login, admin_name, database_url=database_url, key_provider=key_provider
        )
    finally:
        os.umask(old)
    emit(
        {"home": str(workspace.home), "administrator": admin.login, "owner": getpass.getuser()},
        as_json,
        lambda: (
            f"created server workspace {workspace.home} (owner {getpass.getuser()}); "
            f"administrator: {admin.login}"
        ),
    )


@server.command("start")
@click.option(
    "--home", required=True, type=click.Path(file_okay=False, path_type=Path), help="Workspace."
)
@click.option(
    "--socket",
    "socket_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Unix socket to serve (mode 0666; its folder must be reachable by the people).",
)
@click.option("--http", metavar="HOST:PORT", help="Also serve TCP (sign-in with a password).")
@click.option(
    "--passphrase-fd",
    type=int,
    help="Passphrase workspaces: read one AREA=PASSPHRASE line per area from this open file "
    "descriptor at start (kept in memory only; each area opens only with its own).",
)
def start(home: Path, socket_path: Path, http: str | None, passphrase_fd: int | None) -> None:
    """Serve the API in the foreground until SIGTERM (in-flight requests finish first).

    Refuses to start unless everything in the workspace belongs to this account and no one
    else can read it.

    \b
    Examples (as the service account):
      fivesafes server start --home /var/lib/fivesafes --socket /run/fivesafes/api.sock
      fivesafes server start --home /var/lib/fivesafes --socket /run/fivesafes/api.sock \\
          --http 127.0.0.1:8443     # also the web pages and password sign-in over TCP
    """
    from fivesafes.server.private import read_passphrases
    from fivesafes.server.run import serve
    from fivesafes.web import mount

    os.umask(0o077)  # files the server writes are the service account's alone
    phrases = read_passphrases(passphrase_fd) if passphrase_fd is not None else None
    serve(home, socket_path, http=http, extend=mount, ready=notice, area_passphrases=phrases)


@server.command("password")
@json_option
def password(as_json: bool) -> None:
    """Set your own password for signing in over TCP (only through the Unix socket).

    \b
    Example (asks for it twice, hidden):
      fivesafes --server unix:/run/fivesafes/api.sock server password
    """
    phrase = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    done = call("auth.password", password=phrase)
    emit(done, as_json, lambda: f"password set for {done['login']}")


@server.command("whoami")
@json_option
def whoami(as_json: bool) -> None:
    """Who the server (or this workspace) says you are.

    \b
    Example:
      fivesafes --server unix:/run/fivesafes/api.sock server whoami
    """
    person = call("whoami")
    emit(person, as_json, lambda: f"{person['login']} ({person['name']})")
