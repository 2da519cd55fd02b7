"""The one error hierarchy of fivesafes.

Every error has a stable ``code`` (for scripts and the CLI exit status) and a
message that says what went wrong and what to do about it. This module imports
nothing from the rest of the package, so every layer (``sdc`` included) may use it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


class FivesafesError(Exception):
    """Root of every error fivesafes raises on purpose."""

    code: str = "error"
    exit_status: int = 1

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        redacted: str | None = None,
        value_free: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # What the message quotes of the data it was raised on (see ``withheld``): an error
        # whose message names values, row numbers or counts of the rows gives ``redacted``,
        # the message without them (the problem and the columns only); one whose message
        # quotes nothing of the rows (a column's name, a type, a file) says ``value_free``.
        # Its hint quotes nothing of the rows in either case.
        self.redacted = redacted
        self.value_free = value_free and redacted is None
        # Writes that must outlive the rollback this error causes (the audit event of a
        # refusal, the check results that blocked an approval): ``store.db.transaction``
        # runs each, with a new session, after the failed transaction is rolled back.
        self.after_rollback: list[Callable[[Any], object]] = []
        # whether one of them is this refusal's own audit record (see :meth:`audited_by`)
        self.audited = False

    def audited_by(self, write: Callable[[Any], object]) -> None:
        """Carry ``write``, the audit record of this refusal, to after its rollback; the
        server audits a refusal that carries none (server/acting.py)."""
        self.after_rollback.append(write)
        self.audited = True

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def withheld(self, doing: str, hint: str) -> FivesafesError:
        """This error as told to someone who may not see the rows it was raised on.

        The standalone library shows the full message (a statistician on her own file needs
        the examples); a service that ran it on an area's data raises this instead. A
        value-free error is itself; one with a ``redacted`` text is the same kind of error
        with that text, its own hint and ``hint`` (where to look at the rows, within the
        area's policy); any other (deny by default: its message may quote the data) keeps
        only its kind: "``doing`` failed", and ``hint``.
        """
        if self.value_free:
            return self
        if self.redacted is not None:
            message = self.redacted
            told = f"{self.hint}; {hint}" if self.hint else hint
        else:
            message = (
                f"{doing} failed ({self.code} error); its message is withheld, "
                "as it may quote the data"
            )
            told = hint
        safe = copy.copy(self)  # the same class, code and fields (e.g. AccessDenied.reasons)
        safe.args = (message,)
        safe.message, safe.hint = message, told
        safe.redacted, safe.value_free = None, True
        safe.after_rollback = list(self.after_rollback)
        return safe


class SpecError(FivesafesError):
    """A table specification or setting is malformed or inconsistent."""

    code = "spec"
    exit_status = 2


class HierarchyError(SpecError):
    """A hierarchy file is malformed (cycle, missing parent, duplicate code, ...)."""

    code = "hierarchy"


class DataError(FivesafesError):
    """Input data do not fit the specification (unknown codes, missing values, ...)."""

    code = "data"
    exit_status = 2


class InfeasibleProtectionError(FivesafesError):
    """The required protection cannot be achieved (e.g. bounds too tight)."""

    code = "infeasible"
    exit_status = 3


class UnsafeTableError(FivesafesError):
    """A suppression pattern failed its audit and must not be released."""

    code = "unsafe"
    exit_status = 3


class NotFoundError(FivesafesError):
    """A named thing (person, course, area, dataset, ...) is not registered."""

    code = "not_found"
    exit_status = 4


class ValidationError(FivesafesError):
    """A request breaks a rule (dates in the wrong order, self-approval, ...)."""

    code = "invalid"
    exit_status = 2


class ConflictError(FivesafesError):
    """The request clashes with existing state (duplicate name, stale version, ...)."""

    code = "conflict"
    exit_status = 5


class AccessDenied(FivesafesError):
    """The actor may not do this; the message lists every reason."""

    code = "denied"
    exit_status = 6

    def __init__(self, message: str, *, reasons: tuple[str, ...] = (), hint: str | None = None):
        super().__init__(message, hint=hint)
        self.reasons = reasons


class IdentityError(FivesafesError):
    """The acting person cannot be established."""

    code = "identity"
    exit_status = 6


class IntegrityError(FivesafesError):
    """Stored data were tampered with or corrupted (audit chain, ciphertext, manifest)."""

    code = "integrity"
    exit_status = 7


class KeyProviderError(FivesafesError):
    """A key is missing, wrong or unreadable."""

    code = "key"
    exit_status = 7


class WorkspaceError(FivesafesError):
    """The workspace is missing, uninitialised or unusable."""

    code = "workspace"
    exit_status = 2


class OutputError(FivesafesError):
    """An output folder or file cannot be written."""

    code = "output"
    exit_status = 2


class EngineError(FivesafesError):
    """A tabulation engine is unknown, not installed, or cannot start (e.g. no Java)."""

    code = "engine"
    exit_status = 2


class Interrupted(FivesafesError):
    """The person at the terminal stopped the command (Ctrl-C, SIGINT): 128 + 2, as shells do."""

    code = "interrupted"
    exit_status = 130
