"""Areas keyed by the passphrase provider, end to end through the services."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from types import SimpleNamespace

import pytest
from governance_register import TODAY, Register
from sqlalchemy.orm import Session

from fivesafes.errors import KeyProviderError
from fivesafes.services.governance import grants
from fivesafes.services.vault import lifecycle as svc
from fivesafes.vault import FileKeyProvider, PassphraseKeyProvider
from fivesafes.workspace.keys import area_key_provider
from fivesafes.workspace.settings import KEY_PASSPHRASE_ENV

Tx = Callable[[], AbstractContextManager[Session]]
PHRASE = "correct horse battery staple"


@pytest.fixture
def ashe_csv(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "ashe.csv"
    path.parent.mkdir()
    path.write_text(
        "person_id,region,pay\n" + "".join(f"ID{i},{'NS'[i % 2]},{i}\n" for i in range(60))
    )
    return path


def _vault(tmp_path: Path, phrase: str | None) -> svc.Vault:
    env = {KEY_PASSPHRASE_ENV: phrase} if phrase is not None else {}
    return svc.Vault(
        tmp_path / "areas", area_key_provider(tmp_path / "keys", "passphrase", environ=env)
    )


def test_passphrase_keys_end_to_end(reg: Register, tx: Tx, tmp_path: Path, ashe_csv: Path) -> None:
    vault = _vault(tmp_path, PHRASE)
    stored = svc.ingest_dataset(tx, vault, "iris", "earnings", ashe_csv, name="ashe")
    assert stored.key_id == "earnings/v1"
    keys = tmp_path / "keys" / "earnings"
    assert (keys / "v1.salt").is_file() and not list(keys.glob("*.key"))
    # The passphrase is stored nowhere.
    for p in tmp_path.rglob("*"):
        assert not p.is_file() or PHRASE.encode() not in p.read_bytes()
    reg.make_ready("ada")
    gid = reg.act("ada", grants.request_grant, "ada", "earnings", "LFS tables", today=TODAY).id
    reg.act("iris", grants.approve_grant, gid, None, TODAY)
    # A fresh process (new provider) opens it with the passphrase...
    table = svc.open_dataset_for(tx, _vault(tmp_path, PHRASE), "ada", "earnings", "ashe")
    assert table.num_rows == 60
    out = svc.query_area_for(
        tx, _vault(tmp_path, PHRASE), "ada", "earnings", "SELECT sum(pay) AS s FROM ashe"
    )
    assert out.table.column("s").to_pylist() == [sum(range(60))]
    # ...and refuses a wrong one or none, clearly, before any data are read.
    with pytest.raises(KeyProviderError, match="wrong passphrase"):
        svc.open_dataset_for(tx, _vault(tmp_path, "guess"), "ada", "earnings", "ashe")
    with pytest.raises(KeyProviderError, match="none was given"):
        svc.open_dataset_for(tx, _vault(tmp_path, None), "ada", "earnings", "ashe")
    # Rotation with a wrong passphrase changes nothing; with the right one, v2.
    with pytest.raises(KeyProviderError, match="wrong passphrase"):
        svc.rotate_area_key_for(tx, _vault(tmp_path, "guess"), "iris", "earnings")
    assert sorted(p.name for p in keys.glob("v*.salt")) == ["v1.salt"]
    r = svc.rotate_area_key_for(tx, _vault(tmp_path, PHRASE), "iris", "earnings")
    assert r.new_key_id == "earnings/v2" and r.destroyed_key_ids == ("earnings/v1",)
    assert svc.open_dataset_for(tx, _vault(tmp_path, PHRASE), "ada", "earnings", "ashe").equals(
        table
    )
    gone = svc.destroy_dataset(tx, _vault(tmp_path, PHRASE), "iris", "earnings", "ashe", "test")
    assert gone.state == svc.DESTROYED


def test_a_new_area_key_needs_the_workspace_passphrase(tmp_path: Path) -> None:
    area_key_provider(tmp_path, "passphrase", environ={KEY_PASSPHRASE_ENV: PHRASE}).create_key(
        "one"
    )
    typo = area_key_provider(tmp_path, "passphrase", environ={KEY_PASSPHRASE_ENV: PHRASE + "!"})
    with pytest.raises(KeyProviderError, match="wrong passphrase"):
        typo.create_key("two")
    assert not (tmp_path / "two" / "v1.salt").exists()
    right = area_key_provider(tmp_path, "passphrase", environ={KEY_PASSPHRASE_ENV: PHRASE})
    assert right.create_key("two") == "two/v1"


def test_the_passphrase_is_asked_once_and_only_when_needed(tmp_path: Path) -> None:
    asked: list[int] = []

    def ask() -> str:
        asked.append(1)
        return PHRASE

    provider = area_key_provider(tmp_path, "passphrase", ask=ask, environ={})
    assert provider.key_ids("one") == [] and asked == []
    provider.create_key("one")
    provider.create_key("one")
    assert asked == [1]


def test_vault_of_follows_the_workspace_setting(tmp_path: Path) -> None:
    def workspace(kind: str) -> SimpleNamespace:
        return SimpleNamespace(
            areas_dir=tmp_path / "areas", keys_dir=tmp_path / "keys", setting=lambda _: kind
        )

    assert isinstance(svc.Vault.of(workspace("file")).provider, FileKeyProvider)
    assert isinstance(svc.Vault.of(workspace("passphrase")).provider, PassphraseKeyProvider)
    with pytest.raises(KeyProviderError, match="unknown area key provider"):
        svc.Vault.of(workspace("hsm"))
