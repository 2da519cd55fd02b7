"""The composition root: open the workspace once, then act as a registered person.

Every edge (the CLI today; the server and web pages next) reaches the services
through here, so opening the workspace, knowing who acts and holding the transaction
happen in one place:

    with open_app() as acting:                    # the CLI: the OS (or demo) login
        grants.request_grant(acting.session, acting.actor, ...)

    app = App.open(home)                          # a server: once per process
    with app.acting_as(login) as acting:          # per request, as the signed-in login
        ...
    app.close()

Services that manage their own transactions (the vault's, which must not hold the
database's write lock while they encrypt) take ``app.transaction``, ``app.vault()``
and ``acting.actor.login`` instead of a session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from fivesafes.governance.grants import GrantPolicy
from fivesafes.services.context import Actor, resolve_actor
from fivesafes.workspace import Workspace, open_workspace
from fivesafes.workspace.identity import Identity, current_identity

if TYPE_CHECKING:
    # the vault brings pyarrow, DuckDB and the table code: only the commands that use it
    from fivesafes.services.vault.register import Vault


@dataclass(frozen=True)
class Acting:
    """One act: the workspace, the registered person acting, and their open transaction."""

    workspace: Workspace
    actor: Actor
    session: Session


class App:
    """An opened workspace, ready to act as any registered person (one per process)."""

    def __init__(
        self, workspace: Workspace, *, area_passphrases: Mapping[str, str] | None = None
    ) -> None:
        self.workspace = workspace
        # a server's per-area passphrases (passphrase workspaces), kept in memory only
        self._area_passphrases = dict(area_passphrases) if area_passphrases is not None else None
        # how to ask the person at a terminal for a passphrase (the CLI in process only;
        # a server never asks anyone)
        self.ask_passphrase: Callable[[], str] | None = None
        # serving others (fivesafes server): what a caller may choose is narrower
        self.serving = False

    @classmethod
    def open(
        cls,
        home: Path | None = None,
        *,
        migrate: bool = True,
        area_passphrases: Mapping[str, str] | None = None,
    ) -> App:
        """Open the workspace at ``home`` (default: FIVESAFES_HOME or ./fivesafes-workspace)."""
        return cls(open_workspace(home, migrate=migrate), area_passphrases=area_passphrases)

    def __enter__(self) -> App:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def identity(self, environ: Mapping[str, str] | None = None) -> Identity:
        """Who runs this process: the OS login (or FIVESAFES_USER in a demo workspace)."""
        return current_identity(self.workspace, environ)

    @contextmanager
    def acting_as(self, login: str) -> Iterator[Acting]:
        """One transaction as the registered, active person ``login``; commit unless it raises.

        IdentityError when ``login`` is not a registered, active person (nothing is written).
        """
        with self.workspace.transaction() as session:
            yield Acting(self.workspace, resolve_actor(session, login), session)

    def actor(self, login: str) -> Actor:
        """The registered, active person ``login`` (for services that open their own
        transactions); IdentityError otherwise."""
        with self.acting_as(login) as acting:
            return acting.actor

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction on the workspace database (for services that take ``tx``)."""
        with self.workspace.transaction() as session:
            yield session

    def vault(self, *, ask_passphrase: Callable[[], str] | None = None) -> Vault:
        """The workspace's restricted-area stores and the holder of their keys."""
        from fivesafes.services.vault.register import Vault

        return Vault.of(
            self.workspace,
            ask_passphrase=ask_passphrase or self.ask_passphrase,
            area_passphrases=self._area_passphrases,
        )

    def grant_policy(self) -> GrantPolicy:
        """The grant lengths set in the workspace's config."""
        return GrantPolicy(
            default_months=int(self.workspace.setting("grant_default_months")),
            max_months=int(self.workspace.setting("grant_max_months")),
        )

    def close(self) -> None:
        """Release the database connections (the App stays usable; it reconnects)."""
        self.workspace.close()


@contextmanager
def open_app(
    home: Path | None = None,
    *,
    login: str | None = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[Acting]:
    """Open the workspace, resolve who acts and hold one transaction; close it all after.

    ``login`` defaults to this process's identity (:meth:`App.identity`); its demo
    notice, if any, goes to ``notice`` (the CLI prints it on stderr).
    """
    with App.open(home) as app:
        if login is None:
            identity = app.identity()
            if identity.notice and notice is not None:
                notice(identity.notice)
            login = identity.login
        with app.acting_as(login) as acting:
            yield acting


__all__ = ["Acting", "App", "open_app"]
