"""Which roles open which pages (deny by default): the page asks, the service still decides."""

from __future__ import annotations

from collections.abc import Iterable

from fivesafes.governance.roles import Role
from fivesafes.server.api import ServerContext
from fivesafes.server.operations import run
from fivesafes.web.auth import deny_page
from fivesafes.web.sessions import WebSession

# Staff who read what was published and its register: the people who check, own, oversee
# or audit outputs (a researcher or analyst reads the published bundle itself).
PUBLICATION_READERS = frozenset(
    {
        Role.OUTPUT_CHECKER,
        Role.INFORMATION_ASSET_OWNER,
        Role.HEAD_OF_PROFESSION,
        Role.DATA_PROTECTION_OFFICER,
        Role.ADMINISTRATOR,
        Role.AUDITOR,
    }
)


def roles_of(ctx: ServerContext, login: str) -> set[str]:
    """The person's roles as ``whoami`` gives them (the register's, now)."""
    return set(run(ctx.app, login, "whoami", {})["roles"])


def require_any(ctx: ServerContext, web: WebSession, roles: Iterable[Role], path: str) -> None:
    """Refuse (recorded as denied) unless the person holds one of ``roles``."""
    wanted = sorted(r.value for r in roles)
    if not roles_of(ctx, web.login) & set(wanted):
        why = "this page needs one of the roles " + ", ".join(wanted)
        raise deny_page(ctx, web.login, path, why)
