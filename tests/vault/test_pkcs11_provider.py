"""The PKCS#11 key provider against a real token (SoftHSM2): wrapping, logging, refusals.

Skipped, saying why, where SoftHSM2 is not installed (`make softhsm` installs it where
we are root, as CI is).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fivesafes.errors import KeyProviderError
from fivesafes.vault.keys import WrappedKey
from fivesafes.vault.pkcs11 import Pkcs11KeyProvider
from fivesafes.workspace.keys import KEY_USE_LOG, key_use_logger

MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")
MODULE = next((m for m in MODULES if Path(m).exists()), None)
UTIL = shutil.which("softhsm2-util")
PIN = "1234-test-pin"

pytestmark = pytest.mark.skipif(
    MODULE is None or UTIL is None,
    reason="SoftHSM2 is not installed (apt-get install softhsm2; `make softhsm` does it as root)",
)


@dataclass
class Tokens:
    """Tokens made before the library first loads (SoftHSM2 lists its slots once)."""

    labels: list[str]

    def take(self) -> str:
        return self.labels.pop()


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tokens]:
    """SoftHSM2 tokens in a folder of the tests' own."""
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    labels = []
    assert UTIL is not None
    for _ in range(6):
        label = f"fs-{uuid.uuid4().hex[:8]}"
        subprocess.run(
            [
                UTIL,
                "--init-token",
                "--free",
                "--label",
                label,
                "--pin",
                PIN,
                "--so-pin",
                "so-pin-0",
            ],
            check=True,
            capture_output=True,
        )
        labels.append(label)
    yield Tokens(labels)
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def _provider(tokens: Tokens, keys: Path, label: str, pin: str = PIN) -> Pkcs11KeyProvider:
    assert MODULE is not None
    keys.mkdir(parents=True, exist_ok=True)
    return Pkcs11KeyProvider(
        keys / "areas",
        module=MODULE,
        token_label=label,
        pin=lambda: pin,
        on_unwrap=key_use_logger(keys / KEY_USE_LOG, "pkcs11"),
    )


def test_area_keys_are_wrapped_by_the_token_and_each_unwrap_is_logged(
    tokens: Tokens, tmp_path: Path
) -> None:
    import pkcs11
    from pkcs11 import Attribute, KeyType

    label = tokens.take()
    provider = _provider(tokens, tmp_path / "keys", label)
    key_id = provider.create_key("earnings")
    data_key = os.urandom(32)
    wrapped = provider.wrap("earnings", data_key, b"dataset:1")
    assert provider.unwrap("earnings", wrapped, b"dataset:1") == data_key
    with pytest.raises(KeyProviderError):  # bound to its context, as with every provider
        provider.unwrap("earnings", wrapped, b"dataset:2")
    stored = json.loads((tmp_path / "keys/areas/earnings/v1.p11").read_text())
    assert stored["provider"] == "pkcs11" and stored["token"] == label
    assert oct((tmp_path / "keys/areas/earnings/v1.p11").stat().st_mode & 0o777) == "0o600"
    lines = (tmp_path / "keys" / KEY_USE_LOG).read_text().splitlines()
    logged = [json.loads(line) for line in lines]
    # wrap, unwrap and the refused unwrap each had the token open the area key
    assert [e["key_id"] for e in logged] == [key_id] * 3
    assert {e["action"] for e in logged} == {"key.unwrap"} and logged[0]["area"] == "earnings"
    provider.close()
    # the master key cannot be read out of the token, by us or anyone
    assert MODULE is not None
    token = pkcs11.lib(MODULE).get_token(token_label=label)
    with token.open(user_pin=PIN) as session:
        master = session.get_key(label="fivesafes-master", key_type=KeyType.AES)
        assert master[Attribute.EXTRACTABLE] is False and master[Attribute.SENSITIVE] is True
        with pytest.raises(pkcs11.PKCS11Error):
            master[Attribute.VALUE]


def test_the_key_files_alone_open_nothing_without_their_token(
    tokens: Tokens, tmp_path: Path
) -> None:
    provider = _provider(tokens, tmp_path / "keys", tokens.take())
    provider.create_key("earnings")
    wrapped = provider.wrap("earnings", os.urandom(32), b"ctx")
    provider.close()
    # the same files with another token (its own master key): refused
    copy = tmp_path / "stolen"
    shutil.copytree(tmp_path / "keys", copy)
    other = tokens.take()
    thief = _provider(tokens, copy, other)
    with pytest.raises(KeyProviderError, match="has no key"):
        thief.unwrap("earnings", wrapped, b"ctx")
    thief.close()


def test_a_wrong_pin_or_an_altered_key_file_is_refused(tokens: Tokens, tmp_path: Path) -> None:
    label = tokens.take()
    provider = _provider(tokens, tmp_path / "keys", label)
    provider.create_key("earnings")
    wrapped = provider.wrap("earnings", os.urandom(32), b"ctx")
    provider.close()
    with pytest.raises(KeyProviderError, match="refused the sign-in"):
        _provider(tokens, tmp_path / "keys", label, pin="wrong-pin").unwrap(
            "earnings", wrapped, b"ctx"
        )
    path = tmp_path / "keys/areas/earnings/v1.p11"
    record = json.loads(path.read_text())
    record["nonce"] = "AAAAAAAAAAAAAAAA"
    path.write_text(json.dumps(record))
    with pytest.raises(KeyProviderError, match="does not open"):
        _provider(tokens, tmp_path / "keys", label).unwrap("earnings", wrapped, b"ctx")


def test_a_workspace_with_the_pkcs11_provider_uses_its_settings(
    tokens: Tokens, tmp_path: Path
) -> None:
    from fivesafes.services.setup import init_workspace
    from fivesafes.services.vault.register import Vault

    label = tokens.take()
    workspace, _ = init_workspace(tmp_path / "ws", "ada", "Ada Lovelace", key_provider="pkcs11")
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN + "\n")
    pin_file.chmod(0o600)
    with (workspace.home / "config.toml").open("a") as config:
        config.write(f'\n[pkcs11]\nmodule = "{MODULE}"\ntoken = "{label}"\n')
        config.write(f'pin_file = "{pin_file}"\n')
    workspace.close()
    from fivesafes.workspace import open_workspace

    reopened = open_workspace(tmp_path / "ws")
    provider = Vault.of(reopened).provider
    assert isinstance(provider, Pkcs11KeyProvider)
    provider.create_key("earnings")
    wrapped: WrappedKey = provider.wrap("earnings", b"k" * 32, b"ctx")
    assert provider.unwrap("earnings", wrapped, b"ctx") == b"k" * 32
    assert (reopened.keys_dir / KEY_USE_LOG).stat().st_mode & 0o077 == 0
    provider.close()
    pin_file.chmod(0o644)
    with pytest.raises(KeyProviderError, match="readable by others"):
        Vault.of(reopened).provider.unwrap("earnings", wrapped, b"ctx")
    reopened.close()
