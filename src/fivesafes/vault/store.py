"""An area store on disk: one directory per restricted area, one per encrypted object.

Layout under the vault root (``WORKSPACE/areas`` by default)::

    AREA/datasets/NAME/{data.fsv, manifest.json}
    AREA/outputs/NAME/{data.fsv, manifest.json}
    AREA/pseudonym.json              wrapped pseudonymisation key of the area
    AREA/.staging/PID-RANDOM/        objects being written (ciphertext only)

An object appears under its name only by one ``rename`` of a complete staging
directory, so a crash or kill leaves at most ciphertext in ``.staging`` (swept on the
next open) and never a half-registered object.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from fivesafes.errors import ConflictError, IntegrityError, NotFoundError, ValidationError
from fivesafes.vault.atomic import atomic_write_bytes, fsync_dir, private_dirs, process_runs
from fivesafes.vault.manifest import KINDS, Manifest
from fivesafes.vault.names import check_name

DATA_FILE = "data.fsv"
MANIFEST_FILE = "manifest.json"
STAGING = ".staging"


class AreaStore:
    """The encrypted objects of one restricted area."""

    def __init__(self, root: Path | str, area: str) -> None:
        self.area = check_name("area", area)
        self.root = Path(root)
        self.dir = self.root / area

    def create(self) -> None:
        """Create the area directories (idempotent), owner-only."""
        for kind in KINDS:
            private_dirs(self.dir / kind)  # areas/AREA too, not only its subfolders
        private_dirs(self.dir / STAGING)

    def exists(self) -> bool:
        """Whether the area has been created."""
        return (self.dir / "datasets").is_dir()

    def _require(self) -> None:
        if not self.exists():
            raise NotFoundError(
                f"restricted area {self.area!r} has no store under {self.root}",
                hint="create the area first",
            )

    @staticmethod
    def _kind(kind: str) -> str:
        if kind not in KINDS:
            raise ValidationError(f"unknown object kind {kind!r}", hint=f"use one of {KINDS}")
        return kind

    def object_dir(self, name: str, kind: str = "datasets") -> Path:
        """Directory of one object (it may not exist)."""
        return self.dir / self._kind(kind) / check_name("dataset", name)

    def names(self, kind: str = "datasets") -> list[str]:
        """Names of the complete objects of one kind, sorted."""
        d = self.dir / self._kind(kind)
        if not d.is_dir():
            return []
        return sorted(p.name for p in d.iterdir() if (p / MANIFEST_FILE).is_file())

    def manifest(self, name: str, kind: str = "datasets") -> Manifest:
        """The manifest of one object; NotFoundError if there is none."""
        self._require()
        path = self.object_dir(name, kind) / MANIFEST_FILE
        if not path.is_file():
            raise NotFoundError(
                f"no {kind[:-1]} {name!r} in area {self.area!r}",
                hint=f"list the area's {kind} to see what it holds",
            )
        try:
            return Manifest.from_bytes(path.read_bytes())
        except (ValueError, KeyError, TypeError, AttributeError):
            # Truncated or edited by hand: a clear error, not a traceback.
            raise IntegrityError(
                f"the manifest of {kind[:-1]} {self.area}/{name} ({path}) is unreadable",
                hint="it was truncated or altered; restore it from the area store's backup",
            ) from None

    def manifests(self, kind: str = "datasets") -> list[Manifest]:
        """Manifests of every complete object of one kind."""
        return [self.manifest(n, kind) for n in self.names(kind)]

    def data_path(self, name: str, kind: str = "datasets") -> Path:
        """Ciphertext file of one object."""
        return self.object_dir(name, kind) / DATA_FILE

    def save_manifest(self, manifest: Manifest) -> None:
        """Atomically replace the manifest of an existing object (rotation)."""
        d = self.object_dir(manifest.name, manifest.kind)
        atomic_write_bytes(d / MANIFEST_FILE, manifest.to_bytes(), mode=0o600)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh staging directory, removed on any error (also on KeyboardInterrupt)."""
        self._require()
        self.create()
        d = self.dir / STAGING / f"{os.getpid()}-{secrets.token_hex(8)}"
        d.mkdir(mode=0o700)
        try:
            yield d
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def commit(self, staged: Path, name: str, kind: str = "datasets") -> Path:
        """Move a complete staging directory to its name, refusing a clash."""
        target = self.object_dir(name, kind)
        if target.exists():
            raise ConflictError(
                f"area {self.area!r} already holds a {kind[:-1]} named {name!r}",
                hint="choose another --name, or destroy the existing one first",
            )
        try:
            # rename(2) of a directory fails on a non-empty target: no silent overwrite
            # even when two ingests race for the same name.
            os.rename(staged, target)
        except OSError:
            raise ConflictError(
                f"area {self.area!r} already holds a {kind[:-1]} named {name!r}",
                hint="choose another --name, or destroy the existing one first",
            ) from None
        fsync_dir(target.parent)
        return target

    def sweep_staging(self) -> list[str]:
        """Remove staging directories of processes that no longer run (interrupted writes)."""
        d = self.dir / STAGING
        removed: list[str] = []
        if not d.is_dir():
            return removed
        for p in d.iterdir():
            pid_text = p.name.split("-", 1)[0]
            if pid_text.isdigit() and process_runs(int(pid_text)) and int(pid_text) != os.getpid():
                continue
            if pid_text.isdigit() and int(pid_text) == os.getpid():
                continue
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
        return removed
