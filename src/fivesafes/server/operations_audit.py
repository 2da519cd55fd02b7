"""Operations on the tamper-evident audit log itself: verify the chain, sign a checkpoint.

Reading events (``audit.log``) lives with the other core operations; these two show no
event contents, so (as in process) any registered, active person may run them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from fivesafes.app import Acting, App
from fivesafes.errors import KeyProviderError, ValidationError
from fivesafes.server.acting import acting_as
from fivesafes.server.operation import Operation, Params, in_one
from fivesafes.services import audit_log
from fivesafes.services.audit_log import verify_log
from fivesafes.workspace.keys import public_key_from_pem


class AuditVerify(Params):
    # the PEM text of the caller's own copy of the public key (never a server-side path)
    public_key: str | None = Field(default=None, min_length=1, max_length=4000)
    parallel: bool = False


class NoParams(Params):
    """No parameters."""


def _audit_verify(app: App, login: str, p: AuditVerify) -> Any:
    # a registered, active person, as in process; the chain is then read with no write
    # lock, outside that transaction
    with acting_as(app, login):
        pass
    key = None
    if p.public_key is not None:
        try:
            key = public_key_from_pem(p.public_key.encode(), "the public key sent")
        except KeyProviderError as exc:
            # the caller's input, not the server's keys: a 422, never a 503 (found by
            # the API fuzz test sending "0")
            raise ValidationError(exc.message, hint=exc.hint) from None
    return verify_log(app.workspace, public_key=key, parallel=p.parallel).to_dict()


def _audit_checkpoint(app: App, login: str, _p: NoParams) -> Any:
    def act(a: Acting) -> Any:
        signed = audit_log.checkpoint(a.session)
        if signed is None:
            return None
        return {"size": signed.size, "head_hash": signed.head_hash, "note": signed.note}

    return in_one(app, login, act)


AUDIT_OPERATIONS = (
    Operation("audit.verify", AuditVerify, _audit_verify, "Verify the chain (no contents)."),
    Operation("audit.checkpoint", NoParams, _audit_checkpoint, "Sign the chain's head now."),
)

__all__ = ["AUDIT_OPERATIONS"]
