"""``fivesafes init``: create a workspace and its first administrator."""

from __future__ import annotations

from pathlib import Path

import click

from fivesafes.cli.acting import emit, json_option
from fivesafes.errors import IdentityError
from fivesafes.services.setup import init_workspace
from fivesafes.workspace import default_home
from fivesafes.workspace.identity import os_login
from fivesafes.workspace.settings import KEY_PASSPHRASE_ENV, KEY_PROVIDERS, USER_ENV


@click.command("init")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Workspace directory (default: FIVESAFES_HOME, else ./fivesafes-workspace).",
)
@click.option("--admin-name", required=True, help="Full name of the first administrator.")
@click.option(
    "--admin-login",
    help="Login of the first administrator (default and only choice without "
    "--demo-identity: your operating-system login).",
)
@click.option(
    "--demo-identity",
    is_flag=True,
    help=f"Demos and tests only: accept {USER_ENV} as the acting person (every command says so).",
)
@click.option("--database-url", help="PostgreSQL URL instead of the SQLite file in the workspace.")
@click.option(
    "--key-provider",
    type=click.Choice(KEY_PROVIDERS),
    default="file",
    show_default=True,
    help="Who holds the restricted areas' keys: key files (mode 0600) in the workspace, or "
    f"keys derived from a passphrase (from {KEY_PASSPHRASE_ENV}, else asked for; never "
    "stored). Fixed for the life of the workspace.",
)
@json_option
def init(
    home: Path | None,
    admin_name: str,
    admin_login: str | None,
    demo_identity: bool,
    database_url: str | None,
    key_provider: str,
    as_json: bool,
) -> None:
    """Create a workspace and register its first administrator.

    \b
    Examples:
      fivesafes init --admin-name "Grace Hopper"
      FIVESAFES_HOME=/tmp/demo fivesafes init --demo-identity --admin-login admin \\
          --admin-name "Demo Admin"
      fivesafes init --admin-name "Grace Hopper" --key-provider passphrase
    """
    login = os_login()
    if admin_login is not None and admin_login != login and not demo_identity:
        raise IdentityError(
            f"the first administrator must be you ({login}), not {admin_login!r}",
            hint="run init as that user, or leave out --admin-login; "
            "--demo-identity allows any login (demos and tests only)",
        )
    workspace, admin = init_workspace(
        home or default_home(),
        admin_login or login,
        admin_name,
        demo_identity=demo_identity,
        database_url=database_url,
        key_provider=key_provider,
    )
    if demo_identity:
        click.echo(
            f"notice: demo identity workspace: commands accept {USER_ENV} (not for real data)",
            err=True,
        )
    emit(
        {
            "home": str(workspace.home),
            "administrator": admin.login,
            "demo_identity": demo_identity,
            "key_provider": key_provider,
        },
        as_json,
        lambda: (
            f"created workspace {workspace.home}; administrator: {admin.login}"
            + ("; area keys from a passphrase" if key_provider == "passphrase" else "")
        ),
    )
