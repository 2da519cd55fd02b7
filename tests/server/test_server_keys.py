"""Keys stay the service account's: a server refuses a workspace others can read; one
passphrase per area, each opening only its own area."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fivesafes.errors import KeyProviderError, WorkspaceError
from fivesafes.server.private import check_private, read_passphrases
from fivesafes.services.setup import init_workspace
from fivesafes.workspace.identity import os_login
from fivesafes.workspace.keys import area_key_provider


@pytest.fixture
def home(tmp_path: Path) -> Path:
    old = os.umask(0o077)
    try:
        init_workspace(tmp_path / "ws", os_login(), "Admin")
    finally:
        os.umask(old)
    return tmp_path / "ws"


def test_a_private_workspace_passes(home: Path) -> None:
    check_private(home)


def test_a_signing_key_others_can_read_stops_the_server(home: Path) -> None:
    (home / "keys" / "workspace-signing.key").chmod(0o640)
    with pytest.raises(WorkspaceError, match=r"workspace-signing\.key has mode 640"):
        check_private(home)


def test_a_folder_others_can_enter_stops_the_server(home: Path) -> None:
    (home / "keys").chmod(0o711)
    with pytest.raises(WorkspaceError, match="keys has mode 711"):
        check_private(home)


def test_a_file_of_another_account_stops_the_server(home: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another account")
    os.chown(home / "config.toml", 65534, -1)
    with pytest.raises(WorkspaceError, match="belongs to uid 65534"):
        check_private(home)


def test_each_area_opens_only_with_its_own_passphrase(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    server = area_key_provider(keys, "passphrase", per_area={"a": "alpha-phrase", "b": "beta"})
    server.create_key("a")
    server.create_key("b")
    wrapped = server.wrap("a", b"k" * 32, b"ctx")
    assert server.unwrap("a", wrapped, b"ctx") == b"k" * 32
    # b's passphrase given for a (the one-passphrase-for-all mistake) does not open a
    crossed = area_key_provider(keys, "passphrase", per_area={"a": "beta"})
    with pytest.raises(KeyProviderError, match="wrong passphrase for area 'a'"):
        crossed.unwrap("a", wrapped, b"ctx")
    missing = area_key_provider(keys, "passphrase", per_area={"b": "beta"})
    with pytest.raises(KeyProviderError, match="no passphrase for area 'a' was given"):
        missing.unwrap("a", wrapped, b"ctx")


def test_passphrases_are_read_from_a_descriptor(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.write(write, b"earnings=one two=three\n\ncensus=x\n")
    os.close(write)
    assert read_passphrases(read) == {"earnings": "one two=three", "census": "x"}
    read, write = os.pipe()
    os.write(write, b"no equals sign\n")
    os.close(write)
    with pytest.raises(KeyProviderError, match="line 1"):
        read_passphrases(read)
