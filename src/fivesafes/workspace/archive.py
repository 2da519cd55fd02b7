"""The backup archive: a tar of the workspace's files and database, a manifest, a signature.

Layout: ``database.sqlite3`` (the database, whatever its backend), ``workspace/...``
(config, keys, encrypted areas, releases, the checkpoint file), then ``manifest.json``
(every member's SHA-256 and size, the audit head) and ``manifest.sig`` (Ed25519 over the
manifest's bytes, by the workspace's signing key). The archive is written to a
temporary name beside the target, synced, then renamed: a crash leaves no half archive
under the real name. Reading trusts nothing: only plain files with relative names, each
listed once in the manifest with the hash it has, are extracted, and only into a fresh
folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import socket
import tarfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from fivesafes.errors import IntegrityError, ValidationError
from fivesafes.vault.atomic import fsync_dir, private_dirs, process_runs

ARCHIVE_FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DATABASE_MEMBER = "database.sqlite3"
WORKSPACE_PREFIX = "workspace/"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
SCRATCH_PREFIX = ".fivesafes-backup-"
# what a backup leaves beside its archive while it runs, tagged with host and process:
# ".NAME.HOST.PID.HEX.partial" (the archive being written, keys and all) and
# ".fivesafes-backup-HOST.PID.XXXX" (the database snapshot)
_PARTIAL = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>[0-9]+)\.[0-9a-f]{32}\.partial$")
_SCRATCH = re.compile(
    "^" + re.escape(SCRATCH_PREFIX) + r"(?P<host>[A-Za-z0-9_-]+)\.(?P<pid>[0-9]+)\.[a-z0-9_]+$"
)


def running_tag() -> str:
    """``HOST.PID`` of this process: a later backup on this host sweeps what a killed one
    left only if that process is gone (never another host's, which it cannot see)."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname()) or "host"
    return f"{host}.{os.getpid()}"


def sweep_leftovers(folder: Path) -> list[Path]:
    """Remove what killed backups of this host left in ``folder`` (a partial archive holds
    every key of the workspace); returns what was removed. Another host's, a running
    process's and another account's entries are left alone."""
    host = running_tag().split(".")[0]
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        found = _PARTIAL.match(path.name) or _SCRATCH.match(path.name)
        if found is None or found["host"] != host or process_runs(int(found["pid"])):
            continue
        try:
            if path.is_symlink() or path.lstat().st_uid != os.getuid():
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


@dataclass(frozen=True)
class ArchivedFile:
    """One member of the archive: its name, SHA-256 and size."""

    path: str
    sha256: str
    size: int


def tampered(what: str) -> IntegrityError:
    """The error every altered, truncated or foreign archive gets."""
    return IntegrityError(
        f"the backup archive is not intact: {what}",
        hint="nothing was restored; use another copy of the backup (and find out who "
        "changed this one)",
    )


class _Hashing:
    """A read-only file wrapper that hashes what tarfile reads from it."""

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self.digest.update(data)
        return data


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = 0  # the manifest dates the backup; members carry no timestamps
    return info


def write_archive(
    dest: Path,
    members: Iterable[tuple[str, Path | bytes]],
    header: Mapping[str, Any],
    sign: Callable[[bytes], bytes],
) -> list[ArchivedFile]:
    """Write ``members`` (name, file or bytes), the manifest and its signature to ``dest``.

    All or nothing: the archive appears under ``dest`` only once complete and synced.
    """
    if dest.exists():
        raise ValidationError(f"{dest} exists", hint="choose a new file name for the backup")
    private_dirs(dest.parent)
    tmp = dest.with_name(f".{dest.name}.{running_tag()}.{uuid.uuid4().hex}.partial")
    files: list[ArchivedFile] = []
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for name, source in members:
                    if isinstance(source, bytes):
                        digest = hashlib.sha256(source).hexdigest()
                        tar.addfile(_info(name, len(source)), _Bytes(source))
                        files.append(ArchivedFile(name, digest, len(source)))
                        continue
                    with source.open("rb") as f:
                        size = os.fstat(f.fileno()).st_size  # a file still growing: this much
                        hashing = _Hashing(f)
                        tar.addfile(_info(name, size), hashing)
                    files.append(ArchivedFile(name, hashing.digest.hexdigest(), size))
                manifest = manifest_bytes(header, files)
                tar.addfile(_info(MANIFEST, len(manifest)), _Bytes(manifest))
                signature = base64.b64encode(sign(manifest))
                tar.addfile(_info(SIGNATURE, len(signature)), _Bytes(signature))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)  # the archive's name survives a power cut once it is reported
    return files


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._at = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n < 0 else self._at + n
        chunk = bytes(self._data[self._at : end])
        self._at += len(chunk)
        return chunk


def manifest_bytes(header: Mapping[str, Any], files: Iterable[ArchivedFile]) -> bytes:
    """The manifest's canonical JSON (what is signed)."""
    body = {
        **header,
        "format": ARCHIVE_FORMAT,
        "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in files],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        bool(name)
        and not path.is_absolute()
        and ".." not in path.parts
        and "\\" not in name
        and "\x00" not in name
        and str(path) == name  # no "./", "//" or trailing slash: one spelling per member
    )


@dataclass(frozen=True)
class ExtractedArchive:
    """A verified, extracted archive: the manifest, its bytes and its signature."""

    manifest: Mapping[str, Any]
    manifest_bytes: bytes
    signature: bytes
    files: tuple[ArchivedFile, ...]


def _parse_manifest(data: bytes) -> tuple[dict[str, Any], tuple[ArchivedFile, ...]]:
    try:
        manifest = json.loads(data)
        files = tuple(
            ArchivedFile(str(f["path"]), str(f["sha256"]), int(f["size"]))
            for f in manifest["files"]
        )
    except (ValueError, KeyError, TypeError):
        raise tampered("its manifest is not a fivesafes backup manifest") from None
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        raise tampered(f"manifest format {manifest.get('format')!r} is not {ARCHIVE_FORMAT}")
    return manifest, files


def _make_dirs(path: Path) -> None:
    """``path`` and its missing parents, each owner-only (mkdir(parents=True) would not)."""
    if path.is_dir():
        return
    _make_dirs(path.parent)
    path.mkdir(mode=0o700)


def _copy_checked(src: IO[bytes], target: Path, expected: ArchivedFile) -> None:
    digest = hashlib.sha256()
    size = 0
    _make_dirs(target.parent)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if size != expected.size or digest.hexdigest() != expected.sha256:
        raise tampered(f"{expected.path} does not match the SHA-256 in the manifest")


def extract_archive(archive: Path, into: Path) -> ExtractedArchive:
    """Check ``archive`` member by member against its manifest and extract it into ``into``.

    ``into`` must be an empty folder. IntegrityError (nothing trusted) on any link, device,
    unsafe name, duplicate, unlisted or missing member, or hash mismatch. The manifest's
    signature is returned for the caller to check with the key it trusts.
    """
    try:
        # "r:" only: backups are plain tar; no decompressor meets untrusted bytes.
        tar = tarfile.open(archive, mode="r:")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        raise ValidationError(f"no backup archive at {archive}", hint="check the path") from None
    except (tarfile.TarError, OSError) as exc:
        raise tampered(f"it is not a readable tar archive ({exc})") from None
    with tar:
        try:
            members = tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise tampered(f"it is truncated or corrupt ({exc})") from None
        names = [m.name for m in members]
        for member in members:
            if not member.isreg():
                raise tampered(f"member {member.name!r} is not a plain file")
            if not _safe_name(member.name):
                raise tampered(f"member name {member.name!r} is not a safe relative path")
        if len(set(names)) != len(names):
            raise tampered("a member appears twice")
        by_name = {m.name: m for m in members}
        for needed in (MANIFEST, SIGNATURE):
            if needed not in by_name:
                raise tampered(f"{needed} is missing")
        if by_name[MANIFEST].size > MAX_MANIFEST_BYTES or by_name[SIGNATURE].size > 4096:
            raise tampered("the manifest or its signature is too large")
        manifest_data = _read_member(tar, by_name[MANIFEST])
        signature = _read_member(tar, by_name[SIGNATURE])
        manifest, files = _parse_manifest(manifest_data)
        listed = {f.path: f for f in files}
        if len(listed) != len(files):
            raise tampered("the manifest lists a file twice")
        present = set(names) - {MANIFEST, SIGNATURE}
        if present != set(listed):
            extra = sorted(present - set(listed))
            missing = sorted(set(listed) - present)
            raise tampered(
                f"members and manifest differ (unlisted: {extra[:3]}, missing: {missing[:3]})"
            )
        for name in listed:
            if not _safe_name(name) or not (
                name == DATABASE_MEMBER or name.startswith(WORKSPACE_PREFIX)
            ):
                raise tampered(f"unexpected member {name!r}")
        # From the headers, before a byte is written: a sparse member is a few bytes in the
        # archive that the reader expands to any size (a disk filled before its hash could
        # be checked), and a member longer than its manifest entry is refused unread.
        for member in members:
            if member.issparse():
                raise tampered(f"member {member.name!r} is a sparse file")
            entry = listed.get(member.name)
            if entry is not None and member.size != entry.size:
                raise tampered(
                    f"member {member.name!r} holds {member.size} bytes, its manifest says "
                    f"{entry.size}"
                )
        for member in members:
            if member.name in (MANIFEST, SIGNATURE):
                continue
            stream = tar.extractfile(member)
            assert stream is not None  # a regular file
            try:
                _copy_checked(stream, into / member.name, listed[member.name])
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise tampered(f"{member.name} cannot be read ({exc})") from None
    try:
        decoded = base64.b64decode(signature, validate=True)
    except ValueError:
        raise tampered("the manifest's signature is not base64") from None
    return ExtractedArchive(manifest, manifest_data, decoded, files)


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    stream = tar.extractfile(member)
    if stream is None:
        raise tampered(f"{member.name} is not a file")
    try:
        return stream.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise tampered(f"{member.name} cannot be read ({exc})") from None


__all__ = [
    "DATABASE_MEMBER",
    "WORKSPACE_PREFIX",
    "ArchivedFile",
    "ExtractedArchive",
    "extract_archive",
    "tampered",
    "write_archive",
]
