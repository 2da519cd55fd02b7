"""Every folder the vault makes is owner-only, parents included, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fivesafes.vault import AreaStore, FileKeyProvider
from fivesafes.vault.atomic import atomic_write_bytes, private_dirs


def _modes(root: Path) -> dict[str, int]:
    out = {}
    for folder, dirs, _files in os.walk(root):
        for d in dirs:
            path = Path(folder) / d
            out[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return out


def test_area_key_and_store_folders_are_0700_with_a_lax_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual umask: plain mkdir gives 0755
    try:
        FileKeyProvider(tmp_path / "keys" / "areas").create_key("survey")
        AreaStore(tmp_path / "areas", "survey").create()
        atomic_write_bytes(tmp_path / "deep" / "er" / "f", b"x")
    finally:
        os.umask(old)
    modes = _modes(tmp_path)
    for name in ("keys", "keys/areas", "keys/areas/survey", "areas", "areas/survey", "deep/er"):
        assert modes[name] == 0o700, (name, oct(modes[name]))
    assert all(mode == 0o700 for mode in modes.values()), modes


def test_private_dirs_leaves_existing_folders_alone(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir(mode=0o755)
    os.chmod(tmp_path / "shared", 0o755)
    private_dirs(tmp_path / "shared" / "mine")
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "shared" / "mine").stat().st_mode) == 0o700


def _fsynced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """(path, is a folder) of every fsync from now on, in order."""
    done: list[tuple[str, bool]] = []
    real = os.fsync

    def spy(fd: int) -> None:
        done.append((os.readlink(f"/proc/self/fd/{fd}"), stat.S_ISDIR(os.fstat(fd).st_mode)))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return done


def test_a_key_written_in_place_is_durable_with_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rename is durable only once its folder is synced: without that, a power cut after
    # data was wrapped under a new area key (or a rotation re-wrapped every manifest and
    # destroyed the old key) can bring back the folder without the new key's name.
    from fivesafes.workspace.keys import atomic_write

    done = _fsynced(monkeypatch)
    FileKeyProvider(tmp_path / "keys").create_key("survey")
    key_dir = str(tmp_path / "keys" / "survey")
    assert (key_dir, True) in done, done
    done.clear()
    atomic_write(tmp_path / "config.toml", b"x", mode=0o600)
    assert (str(tmp_path), True) in done, done


def test_a_backup_archive_is_durable_with_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fivesafes.workspace.archive import write_archive

    done = _fsynced(monkeypatch)
    write_archive(tmp_path / "b" / "ws.tar", [("database.sqlite3", b"x")], {}, lambda b: b"s")
    assert done[-1] == (str(tmp_path / "b"), True), done
