"""The API fuzzed from its own operations: never a 500, every error JSON with a code and hint."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.app import App
from fivesafes.server.api import create_app
from fivesafes.server.operations import OPERATIONS
from fivesafes.server.peer import PEER_KEY, Peer
from fivesafes.services.setup import init_workspace
from fivesafes.workspace.identity import os_login

with warnings.catch_warnings():
    # starlette 1.x prefers httpx2 for its test client; httpx (pinned) works the same here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["2026-01-31", "statistical", "administrator", "x" * 3000, "", "../.."]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _bodies(name: str) -> st.SearchStrategy[Any]:
    fields = list(OPERATIONS[name].params.model_fields)
    known = st.fixed_dictionaries({}, optional={f: json_values for f in fields})
    return known | json_values


class _AsPeer:
    """What the socket's protocol does: the kernel's uid of the caller in the scope."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope["extensions"] = {
            **(scope.get("extensions") or {}),
            PEER_KEY: Peer(os.getpid(), os.geteuid(), os.getegid()),
        }
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("fuzz") / "ws"
    init_workspace(home, os_login(), "Fuzz Admin")
    app = App.open(home)
    try:
        with TestClient(_AsPeer(create_app(app)), raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        app.close()


def _check(answer: Any) -> None:
    assert answer.status_code < 500, answer.text
    body = answer.json()
    if answer.status_code >= 400:
        error = body["error"]
        assert error["code"] and error["message"] and error["hint"], body
        assert "Traceback" not in answer.text


def _x25519_pem() -> str:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = X25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.parametrize("sent", ["0", "not a key", "x25519"])
def test_a_public_key_sent_that_is_no_signing_key_is_the_callers_error(
    client: TestClient, sent: str
) -> None:
    # found by the fuzz below: a 503 ("key": the server's own keys) for the caller's input
    body = {"public_key": _x25519_pem() if sent == "x25519" else sent}
    answer = client.post("/api/v1/audit/verify", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid"
    _check(answer)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(sorted(OPERATIONS)), data=st.data())
def test_operations_never_fail_with_a_500(
    client: TestClient, name: str, data: st.DataObject
) -> None:
    body = data.draw(_bodies(name))
    path = "/api/v1/" + name.replace(".", "/")
    _check(client.post(path, json=body))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.text(alphabet="abcdefghijklmnopqrstuvwxyz/._-%", max_size=30),
    raw=st.binary(max_size=64),
)
def test_unknown_paths_and_bodies_that_are_not_json(
    client: TestClient, path: str, raw: bytes
) -> None:
    _check(
        client.post("/api/v1/" + path, content=raw, headers={"content-type": "application/json"})
    )
    _check(
        client.post("/api/v1/people/add", content=raw, headers={"content-type": "application/json"})
    )


def test_the_openapi_document_lists_every_operation(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/v1/" + n.replace(".", "/") for n in OPERATIONS} <= set(paths)


def test_without_a_peer_every_operation_needs_a_token(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    init_workspace(home, os_login(), "Admin")
    with App.open(home) as app, TestClient(create_app(app)) as bare:
        for name in OPERATIONS:
            # no body: the parameters are checked after the caller (else 422 first)
            answer = bare.post("/api/v1/" + name.replace(".", "/"))
            assert answer.status_code == 401, (name, answer.text)
