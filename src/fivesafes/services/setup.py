"""``fivesafes init``: create the workspace and register its first administrator."""

from __future__ import annotations

from pathlib import Path

from fivesafes.governance.people import Person, validate_login, validate_name
from fivesafes.services.governance.people import bootstrap_administrator
from fivesafes.workspace import Workspace, create_workspace
from fivesafes.workspace.settings import get_setting


def init_workspace(
    home: Path,
    admin_login: str,
    admin_name: str,
    *,
    demo_identity: bool = False,
    database_url: str | None = None,
    key_provider: str = "file",
) -> tuple[Workspace, Person]:
    """Create the workspace at ``home`` and register ``admin_login`` as its administrator."""
    # Check what we can before creating anything, so bad input leaves no workspace behind.
    validate_login(admin_login)
    validate_name(admin_name)
    get_setting("key_provider").parse(key_provider, source="--key-provider")
    workspace = create_workspace(
        home, demo_identity=demo_identity, database_url=database_url, key_provider=key_provider
    )
    try:
        with workspace.transaction() as session:
            admin = bootstrap_administrator(session, admin_login, admin_name)
    finally:
        workspace.close()
    return workspace, admin
