"""Envelope encryption: data keys bound to their object, re-wrapped on rotation."""

from __future__ import annotations

from pathlib import Path

import pytest

from fivesafes.errors import KeyProviderError
from fivesafes.vault import FileKeyProvider
from fivesafes.vault.envelope import new_data_key, open_data_key, rewrap, seal_data_key


def test_data_keys_are_fresh_and_bound(tmp_path: Path) -> None:
    p = FileKeyProvider(tmp_path)
    p.create_key("a")
    k1, k2 = new_data_key(), new_data_key()
    assert k1 != k2 and len(k1) == 32
    w = seal_data_key(p, "a", "obj1", k1)
    assert open_data_key(p, "a", "obj1", w) == k1
    with pytest.raises(KeyProviderError):
        open_data_key(p, "a", "obj2", w)


def test_rewrap_changes_wrapping_not_key(tmp_path: Path) -> None:
    p = FileKeyProvider(tmp_path)
    p.create_key("a")
    k = new_data_key()
    w1 = seal_data_key(p, "a", "o", k)
    p.create_key("a")
    w2 = rewrap(p, "a", "o", w1)
    assert w2.key_id == "a/v2" and w2.ciphertext != w1.ciphertext
    assert open_data_key(p, "a", "o", w2) == k
