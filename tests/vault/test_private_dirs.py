"""Every folder the vault makes is owner-only, parents included, whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

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
