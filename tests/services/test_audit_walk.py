"""One audit walk over every services module: no service function escapes its wing's walk.

Every public function of every module under ``fivesafes/services`` (found with pkgutil,
so a new module is found too) must be listed by exactly one wing's walk, which runs it
under a spy: a writer must append an audit event in the same transaction as its change,
a reader must write nothing (see each wing's test_*_audit_walk.py). A new service
function, or a whole new module, that no walk lists fails here.
"""

from __future__ import annotations

from audit_walk import service_functions
from test_governance_audit_walk import WALKED as GOVERNANCE
from test_release_audit_walk import WALKED as RELEASE
from test_requests_audit_walk import WALKED as REQUESTS
from test_research_audit_walk import WALKED as RESEARCH
from test_signin_audit_walk import WALKED as SIGNIN
from test_vault_audit_walk import WALKED as VAULT

WINGS = {
    "governance": GOVERNANCE,
    "release": RELEASE,
    "requests": REQUESTS,
    "research": RESEARCH,
    "vault": VAULT,
    "server sign-in": SIGNIN,
}


def test_every_service_function_is_walked_by_exactly_one_wing() -> None:
    walked = frozenset().union(*WINGS.values())
    assert sum(map(len, WINGS.values())) == len(walked), "a function is walked twice"
    unwalked = sorted(service_functions() - walked)
    assert not unwalked, f"service functions no audit walk runs: {unwalked}"
    assert not walked - service_functions(), "a walk lists a function that does not exist"
