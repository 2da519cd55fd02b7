"""Sealed content opens only with its area key and object id, and tampering is detected."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.errors import IntegrityError, KeyProviderError
from fivesafes.release.sealing import seal, unseal
from fivesafes.vault.keys import FileKeyProvider


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> FileKeyProvider:
    p = FileKeyProvider(tmp_path_factory.mktemp("keys"))
    p.create_key("earnings")
    return p


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_round_trip(provider: FileKeyProvider, data: bytes) -> None:
    sealed, wrapped = seal(provider, "earnings", "obj/1", data)
    assert unseal(provider, "earnings", "obj/1", sealed, wrapped) == data


def test_plain_text_is_not_in_the_ciphertext(provider: FileKeyProvider) -> None:
    secret = b'{"area": "a3", "value": 2.0, "status": "primary"}' * 10
    sealed, wrapped = seal(provider, "earnings", "obj/2", secret)
    assert b"primary" not in sealed and b"primary" not in wrapped.encode()


def test_tampering_or_another_object_id_is_refused(provider: FileKeyProvider) -> None:
    sealed, wrapped = seal(provider, "earnings", "obj/3", b"hidden cells")
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(IntegrityError):
        unseal(provider, "earnings", "obj/3", flipped, wrapped)
    with pytest.raises((IntegrityError, KeyProviderError)):  # bound to its object id
        unseal(provider, "earnings", "obj/4", sealed, wrapped)
