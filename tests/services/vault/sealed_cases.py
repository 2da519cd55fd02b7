"""The sealed requester of a request case, read back (the vault's rotation tests)."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from fivesafes.release.sealing import unseal
from fivesafes.services.requests.cases import requester_object_id
from fivesafes.services.vault import lifecycle as svc
from fivesafes.store.db import transaction
from fivesafes.store.models.requests import RequestCaseRow


def requester_of(engine: Engine, vault: svc.Vault, case_id: int) -> tuple[object, str]:
    """The requester sealed in request case ``case_id`` (unsealed, as JSON) and the id
    of the area key its data key is wrapped under; fails if the case holds none."""
    with transaction(engine) as s:
        case = s.get(RequestCaseRow, case_id)
        assert case is not None and case.requester_sealed and case.requester_wrapped_key
        plain = unseal(
            vault.provider,
            "earnings",
            requester_object_id(case_id),
            case.requester_sealed,
            case.requester_wrapped_key,
        )
        key_id = str(json.loads(case.requester_wrapped_key)["key_id"])
    return json.loads(plain), key_id
