"""What every server operation is: typed parameters, a runner, JSON-ready results."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from fivesafes.app import Acting, App
from fivesafes.server.acting import acting_as
from fivesafes.services.vault.sealing import key_held_for_sealing, sealing_checked

if TYPE_CHECKING:  # its module loads the table libraries: not for every command's start
    from fivesafes.services.vault.register import Vault

Login = Field(min_length=1, max_length=64)
Text = Field(min_length=1, max_length=2000)


def plain(value: Any) -> Any:
    """Dataclasses, enums, dates and sets as JSON-ready values (as the CLI's --json prints)."""
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


class Params(BaseModel):
    """Base of every operation's parameters: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Login = Field(min_length=1, max_length=64)
Text = Field(min_length=1, max_length=2000)


@dataclass(frozen=True)
class Operation:
    """One use case the API and the CLI share."""

    name: str
    params: type[Params]
    run: Callable[[App, str, Any], Any]  # (app, acting login, params) -> result
    summary: str
    socket_only: bool = False  # refused over TCP (e.g. setting the password itself)

    @property
    def path(self) -> str:
        """Its route under /api/v1."""
        return "/" + self.name.replace(".", "/")


def in_one(app: App, login: str, act: Callable[[Acting], Any]) -> Any:
    # a seal inside needs its key held (in_one_sealing): checked, not left to a race
    with sealing_checked(), acting_as(app, login) as acting:
        return plain(act(acting))


def in_one_sealing(
    app: App,
    login: str,
    vault: Vault,
    area: str | None,
    act: Callable[[Acting], Any],
    *,
    admit: Callable[[Acting], object],
) -> Any:
    """:func:`in_one`, for an act that seals under ``area``'s key: the key held for
    sealing from before the transaction to its end (services/vault/sealing.py).

    ``admit``: the act's own access decision (the identity, its role, its grant), made
    and audited in a short transaction of its own before the key is waited for. Waiting
    can take minutes while a rotation holds the key: someone the act would refuse is
    refused at once, audited, and neither holds a worker that long nor learns that the
    area's key is being changed. The act decides again in its transaction (what was
    decided may have changed meanwhile). What the admission records of a passed check
    is rolled back with it: the act records its own.
    """
    with contextlib.suppress(_Admitted), sealing_checked(), acting_as(app, login) as acting:
        admit(acting)
        raise _Admitted  # its transaction rolls back: a passed check is the act's to record
    with key_held_for_sealing(app.transaction, vault, area):
        return in_one(app, login, act)


class _Admitted(Exception):
    """Ends an admission that passed (its refusals are recorded after their rollback)."""
