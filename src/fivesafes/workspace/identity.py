"""Who is acting: the operating-system login, or FIVESAFES_USER in a demo workspace.

The login comes from the process's effective user id (``pwd``), not from the
USER/LOGNAME variables that ``getpass.getuser`` trusts, so it cannot be changed
by setting a variable. A workspace created with ``fivesafes init --demo-identity``
(demos and tests only) accepts FIVESAFES_USER instead, and every command says so.
There is no other way to act as someone else. Mapping the login to a registered
person is the governance layer's job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from fivesafes.errors import FivesafesError, IdentityError
from fivesafes.workspace import Workspace
from fivesafes.workspace.settings import USER_ENV

_LOGIN = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


@dataclass(frozen=True)
class Identity:
    """The acting login and whether it came from the demo variable FIVESAFES_USER."""

    login: str
    demo: bool
    notice: str | None  # printed on stderr by every command when not None


def os_login() -> str:
    """The login of the process's effective user id."""
    try:
        import pwd
    except ImportError:  # pragma: no cover - Windows has no pwd; the OS login is all we have
        import getpass

        return getpass.getuser()
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        raise IdentityError(
            f"user id {os.geteuid()} has no login name on this machine",
            hint="run fivesafes as a user with an entry in the system's user database",
        ) from None


def current_identity(workspace: Workspace, environ: Mapping[str, str] | None = None) -> Identity:
    """The acting login, whether it is a demo identity, and the notice to print if so."""
    env = os.environ if environ is None else environ
    demo_workspace = bool(workspace.config.get("demo_identity", False))
    requested = env.get(USER_ENV, "").strip()
    if requested and not demo_workspace:
        raise IdentityError(
            f"{USER_ENV} is set but this workspace acts only as the operating-system login",
            hint=f"unset {USER_ENV}; only a workspace created with "
            "`fivesafes init --demo-identity` (demos and tests) accepts it",
        )
    if requested:
        if not _created_for_demos(workspace):
            raise IdentityError(
                "config.toml says demo_identity = true, but this workspace was not created "
                "with --demo-identity (its audit log says so)",
                hint=f"set demo_identity = false in config.toml and unset {USER_ENV}; "
                "a real workspace acts only as the operating-system login",
            )
        if not _LOGIN.match(requested):
            raise IdentityError(
                f"{USER_ENV}={requested!r} is not a valid login",
                hint="use letters, digits and . _ @ - (at most 64 characters)",
            )
        return Identity(
            login=requested,
            demo=True,
            notice=f"notice: demo identity: acting as {requested!r} from {USER_ENV} "
            "(this workspace was created with --demo-identity; not for real data)",
        )
    login = os_login()
    notice = None
    if demo_workspace:
        notice = (
            f"notice: demo workspace (created with --demo-identity): acting as the "
            f"operating-system login {login!r}; {USER_ENV} would be accepted"
        )
    return Identity(login=login, demo=False, notice=notice)


def _created_for_demos(workspace: Workspace) -> bool:
    """Whether the verified creation event (the first in the audit chain) was a demo's."""
    # config.toml alone is an editable file, and event 1 alone is a row anyone with the
    # database can rewrite (and re-hash the chain after it): flipping either must not let
    # anyone act as someone else. So event 1 counts only when the first signed checkpoint
    # still matches it (audit/genesis.py); a missing or broken one means "not a demo".
    from fivesafes.audit.genesis import verified_genesis
    from fivesafes.store.db import read_only

    try:
        public_key = workspace.public_key()
    except FivesafesError:
        return False
    with read_only(workspace.engine()).connect() as connection:
        details = verified_genesis(
            connection, public_key, workspace.origin, workspace.checkpoint_log_path
        )
    return (
        details is not None
        and details.get("demo_identity") is True
        and details.get("workspace_id") == workspace.workspace_id
    )


def is_demo_workspace(workspace: Workspace) -> bool:
    """True only when the config says so and the signed creation event agrees."""
    return bool(workspace.config.get("demo_identity", False)) and _created_for_demos(workspace)


def current_login(workspace: Workspace) -> str:
    """The acting login (see :func:`current_identity` for the demo notice)."""
    return current_identity(workspace).login
