"""Files created once, never replaced: a new key version and an area's secrets.

`create_bytes` links the whole file in, or, where the filesystem has no hard links
(vfat, some SMB and FUSE mounts: os.link fails with EPERM or ENOTSUP), checks and
renames under an exclusive lock, one creator at a time. `area_secret` makes an area's
secret (the pseudonym key, the record-key secret) with it: two first uses at once end
with one secret, the one on disk, and each gets it.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from fivesafes.vault import AreaStore, FileKeyProvider
from fivesafes.vault import area_secret as secret_module
from fivesafes.vault.area_secret import area_secret
from fivesafes.vault.atomic import create_bytes


@pytest.fixture(params=["hard links", "no hard links"])
def links(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "no hard links":

        def refused(*args: object, **kwargs: object) -> None:
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))

        monkeypatch.setattr(os, "link", refused)
    return str(request.param)


def test_a_new_file_is_written_whole_and_private(tmp_path: Path, links: str) -> None:
    path = tmp_path / "keys" / "v1.key"
    create_bytes(path, b"secret one")
    assert path.read_bytes() == b"secret one"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_an_existing_file_is_never_replaced(tmp_path: Path, links: str) -> None:
    path = tmp_path / "keys" / "v1.key"
    create_bytes(path, b"first")
    with pytest.raises(FileExistsError):
        create_bytes(path, b"second")
    assert path.read_bytes() == b"first"
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_of_many_creators_at_once_exactly_one_wins(tmp_path: Path, links: str) -> None:
    path = tmp_path / "keys" / "v1.key"
    start = threading.Barrier(8)
    won: list[bytes] = []
    lost: list[BaseException] = []

    def create(data: bytes) -> None:
        start.wait(10)
        try:
            create_bytes(path, data)
            won.append(data)
        except FileExistsError as exc:
            lost.append(exc)

    threads = [threading.Thread(target=create, args=(b"creator %d" % k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(won) == 1 and len(lost) == 7
    assert path.read_bytes() == won[0]


def test_an_area_secret_made_meanwhile_by_another_process_is_the_one_used(
    provider: FileKeyProvider, store: AreaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the other process makes the secret between this one's look and its write
    theirs: list[bytes] = []
    real = secret_module.create_bytes

    def after_another(path: Path, data: bytes, **kwargs: int) -> None:
        monkeypatch.setattr(secret_module, "create_bytes", real)
        theirs.append(area_secret(store, provider, "pseudonym.json", "pseudonym"))
        real(path, data, **kwargs)

    monkeypatch.setattr(secret_module, "create_bytes", after_another)
    mine = area_secret(store, provider, "pseudonym.json", "pseudonym")
    assert theirs and mine == theirs[0]  # not a second secret of its own
    assert area_secret(store, provider, "pseudonym.json", "pseudonym") == mine
