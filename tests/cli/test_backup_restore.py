"""fivesafes backup / restore: a fresh folder gets the same workspace, verified; a tampered
archive is refused with a clear error and leaves nothing behind (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import Shell, qualify
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from fivesafes.workspace.archive import ArchivedFile, manifest_bytes, running_tag

Members = dict[str, bytes]


def _world(tmp_path: Path, database_url: str | None = None, *extra_init: str) -> Shell:
    sh = Shell(tmp_path / "ws")
    init = ["init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root"]
    sh.ok(None, *init, *(["--database-url", database_url] if database_url else []), *extra_init)
    sh.ok("root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    sh.ok("root", "area", "create", "earnings", "--owner", "iris")
    sh.ok("iris", "dataset", "add", "ashe", "--area", "earnings", "--source", "ASHE",
          "--lawful-basis", "SRSA 2007")  # fmt: skip
    text = tmp_path / "declaration.txt"
    text.write_text("I will keep confidential data confidential.\n", encoding="utf-8")
    sh.ok("root", "declaration", "publish", str(text))
    qualify(sh, "iris")
    src = tmp_path / "ashe.csv"
    src.write_text("region,pay\n" + "".join(f"{'NS'[i % 2]},{100 + i}\n" for i in range(500)))
    sh.ok("iris", "dataset", "ingest", "earnings", str(src), "--name", "ashe")
    return sh


def _ingest_more(sh: Shell, home: Path, tmp_path: Path) -> None:
    env = {"FIVESAFES_HOME": str(home)}
    src = tmp_path / "more.csv"
    src.write_text("region,pay\nN,1\nS,2\n")
    sh.ok("iris", "dataset", "add", "more", "--area", "earnings", "--source", "ASHE",
          "--lawful-basis", "SRSA 2007", env=env)  # fmt: skip
    sh.ok("iris", "dataset", "ingest", "earnings", str(src), "--name", "more", env=env)
    assert len(_stored(sh, home)) == 2


def _stored(sh: Shell, home: Path) -> list[dict[str, object]]:
    out = sh.ok(
        "iris", "dataset", "stored", "earnings", "--json", env={"FIVESAFES_HOME": str(home)}
    )
    return [
        {k: o[k] for k in ("name", "rows", "state", "source_sha256")}
        for o in json.loads(out.stdout)
    ]


def _log(sh: Shell, env: dict[str, str] | None = None) -> list[dict[str, object]]:
    out = sh.ok("root", "audit", "log", "--json", env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _restored_ok(sh: Shell, archive: Path, home: Path, *extra: str) -> dict[str, object]:
    out = sh.ok(None, "restore", str(archive), "--home", str(home), "--json", *extra)
    report = json.loads(out.stdout)
    env = {"FIVESAFES_HOME": str(home)}
    verified = sh.ok("root", "audit", "verify", "--json", env=env)
    assert json.loads(verified.stdout)["ok"] is True
    assert [e["action"] for e in _log(sh, env)][-2:] == ["workspace.restore", "audit.read"]
    return dict(report)


def test_a_backup_restored_into_a_fresh_folder_is_the_same_workspace(tmp_path: Path) -> None:
    sh = _world(tmp_path)
    archive = tmp_path / "backups" / "ws.tar"
    made = json.loads(sh.ok(None, "backup", "--to", str(archive), "--json").stdout)
    assert archive.is_file() and made["audit_events"] > 5
    assert not [p for p in archive.parent.iterdir() if p != archive]  # no temporary left
    restored = tmp_path / "restored"
    report = _restored_ok(sh, archive, restored)
    assert report["objects_verified"] == 1 and report["frames_verified"] >= 1
    assert report["audit_events"] == made["audit_events"]
    assert _stored(sh, restored) == _stored(sh, sh.home)
    # The backup itself is in the source's log; owner-only modes in the restored folder.
    assert [e["action"] for e in _log(sh)][-2:] == ["workspace.backup", "audit.read"]
    assert (restored / "keys" / "workspace-signing.key").stat().st_mode & 0o077 == 0
    assert (restored / "areas").stat().st_mode & 0o077 == 0
    # The restored workspace works: a new ingest and a check of its frames.
    _ingest_more(sh, restored, tmp_path)


def test_a_backup_leaves_out_the_plain_text_a_killed_server_left_in_its_uploads(
    tmp_path: Path,
) -> None:
    # A server killed during an ingest leaves the file sent to it (the rows, in plain
    # text) in uploads/ until its next start; a backup taken meanwhile must not copy it.
    sh = _world(tmp_path)
    left = sh.home / "uploads" / "4242-abcd"
    left.mkdir(parents=True, mode=0o700)
    (left / "ashe.csv").write_text("nino,pay\nSECRETROW1,100\n")
    archive = tmp_path / "b.tar"
    sh.ok(None, "backup", "--to", str(archive))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert names and not [n for n in names if "/uploads/" in n or "ashe.csv" in n]
        for member in tar.getmembers():
            data = tar.extractfile(member)
            assert data is None or b"SECRETROW1" not in data.read()


def test_backup_refuses_to_overwrite_and_to_write_inside_the_workspace(tmp_path: Path) -> None:
    sh = _world(tmp_path)
    existing = tmp_path / "x.tar"
    existing.write_bytes(b"keep me")
    assert sh.run(None, "backup", "--to", str(existing)).exit_code == 2
    assert existing.read_bytes() == b"keep me"
    assert sh.run(None, "backup", "--to", str(sh.home / "b.tar")).exit_code == 2


def test_folders_made_for_a_backup_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    # The archive holds the workspace's keys: a folder made for it that others could
    # write to would let them swap or remove it.
    sh = _world(tmp_path)
    old = os.umask(0)
    try:
        sh.ok(None, "backup", "--to", str(tmp_path / "new" / "deeper" / "ws.tar"))
        archive = str(tmp_path / "new" / "deeper" / "ws.tar")
        sh.ok(None, "restore", archive, "--home", str(tmp_path / "r1" / "r2" / "home"))
    finally:
        os.umask(old)
    made = ("new", "new/deeper", "r1", "r1/r2", "r1/r2/home")
    for folder in (tmp_path / name for name in made):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE((tmp_path / "new" / "deeper" / "ws.tar").stat().st_mode) == 0o600


def test_a_backup_that_fails_midway_leaves_no_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sh = _world(tmp_path)
    real = tarfile.TarFile.addfile
    calls = []

    def failing(self: tarfile.TarFile, info: tarfile.TarInfo, fileobj: object = None) -> None:
        calls.append(info.name)
        if len(calls) == 4:
            raise OSError("disk full")
        real(self, info, fileobj)  # type: ignore[arg-type]

    monkeypatch.setattr(tarfile.TarFile, "addfile", failing)
    out = tmp_path / "backups"
    out.mkdir()
    with pytest.raises(OSError, match="disk full"):
        sh.runner.invoke(
            __import__("fivesafes.cli.main", fromlist=["cli"]).cli,
            ["backup", "--to", str(out / "b.tar")],
            env={"FIVESAFES_HOME": str(sh.home)},
            catch_exceptions=False,
        )
    assert list(out.iterdir()) == []


_KILLED_MIDWAY = """
import os, sys, tarfile
real = tarfile.TarFile.addfile
calls = []
def dying(self, info, fileobj=None):
    calls.append(info.name)
    if len(calls) == 4:
        os._exit(9)  # as kill -9: no cleanup runs
    real(self, info, fileobj)
tarfile.TarFile.addfile = dying
from fivesafes.cli.main import cli
cli(["backup", "--to", sys.argv[1]], prog_name="fivesafes")
"""


def test_a_backup_killed_midway_leaves_what_the_next_backup_removes(tmp_path: Path) -> None:
    # The partial archive a killed backup leaves holds every key of the workspace.
    sh = _world(tmp_path)
    out = tmp_path / "backups"
    out.mkdir(mode=0o700)
    env = {**os.environ, "FIVESAFES_HOME": str(sh.home)}
    died = subprocess.run(
        [sys.executable, "-c", _KILLED_MIDWAY, str(out / "a.tar")], env=env, check=False
    )
    assert died.returncode == 9
    left = sorted(p.name for p in out.iterdir())
    assert len(left) == 2 and not (out / "a.tar").exists(), left
    assert any(name.endswith(".partial") for name in left)
    # not a backup's, or not this host's, or of a process still running: kept
    own = out / f".a.tar.{running_tag()}.{'0' * 32}.partial"
    own.write_bytes(b"")  # this test's own process: alive
    host, _, _pid = running_tag().partition(".")
    elsewhere = out / f".a.tar.other-{host}.1.{'0' * 32}.partial"
    elsewhere.write_bytes(b"")
    notes = out / f".notes.{host}.1.txt"
    notes.write_bytes(b"mine")
    done = sh.ok(None, "backup", "--to", str(out / "b.tar"))
    assert "removed what a killed backup had left beside it: " in done.output
    assert all(name in done.output for name in left)
    # the snapshot folder went too, with the partial archive: its process is gone
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["b.tar", own.name, elsewhere.name, notes.name]
    )


def test_restore_never_overwrites_a_folder(tmp_path: Path) -> None:
    sh = _world(tmp_path)
    archive = tmp_path / "b.tar"
    sh.ok(None, "backup", "--to", str(archive))
    result = sh.run(None, "restore", str(archive), "--home", str(sh.home))
    assert result.exit_code == 2 and "not an empty folder" in result.stderr


def test_restore_refuses_while_the_environment_names_another_database(
    honest: tuple[Shell, Path], tmp_path: Path
) -> None:
    # FIVESAFES_DATABASE_URL outranks config.toml: the live database must not be touched.
    sh, archive = honest
    live = tmp_path / "live.db"
    target = tmp_path / "restored"
    result = sh.run(None, "restore", str(archive), "--home", str(target),
                    env={"FIVESAFES_DATABASE_URL": f"sqlite:///{live}"})  # fmt: skip
    assert result.exit_code == 2 and "FIVESAFES_DATABASE_URL is set" in result.stderr
    assert not target.exists() and not live.exists()


def test_passphrase_areas_are_verified_only_with_the_passphrase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The archive holds no area key then: the frames cannot be checked (or forged) without it.
    monkeypatch.setenv("FIVESAFES_KEY_PASSPHRASE", "correct horse battery staple")
    sh = _world(tmp_path, None, "--key-provider", "passphrase")
    archive = tmp_path / "b.tar"
    sh.ok(None, "backup", "--to", str(archive))
    assert not [n for n in _read(archive) if n.endswith(".key") and "/areas/" in n]
    monkeypatch.delenv("FIVESAFES_KEY_PASSPHRASE")
    target = tmp_path / "restored"
    refused = sh.run(None, "restore", str(archive), "--home", str(target))
    assert refused.exit_code == 7 and "passphrase" in refused.stderr
    assert not target.exists()
    monkeypatch.setenv("FIVESAFES_KEY_PASSPHRASE", "wrong")
    assert sh.run(None, "restore", str(archive), "--home", str(target)).exit_code == 7
    assert not target.exists()
    monkeypatch.setenv("FIVESAFES_KEY_PASSPHRASE", "correct horse battery staple")
    assert _restored_ok(sh, archive, target)["objects_verified"] == 1


# --- tampering -----------------------------------------------------------------------


def _read(archive: Path) -> Members:
    with tarfile.open(archive) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


def _write(archive: Path, members: Members, extra: tarfile.TarInfo | None = None) -> None:
    with tarfile.open(archive, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if extra is not None:
            tar.addfile(extra, io.BytesIO(b"x" * extra.size))


def _resign(members: Members) -> None:
    """What someone holding the archive can do: it carries the signing key."""
    manifest = json.loads(members["manifest.json"])
    files = [
        ArchivedFile(f["path"], __import__("hashlib").sha256(members[f["path"]]).hexdigest(),
                     len(members[f["path"]]))
        for f in manifest["files"]
    ]  # fmt: skip
    header = {k: v for k, v in manifest.items() if k not in ("files", "format")}
    body = manifest_bytes(header, files)
    key = load_pem_private_key(members["workspace/keys/workspace-signing.key"], None)
    members["manifest.json"] = body
    members["manifest.sig"] = __import__("base64").b64encode(key.sign(body))  # type: ignore[union-attr]


def _edit_db(members: Members, tmp: Path, sql: str) -> None:
    path = tmp / "edit.sqlite3"
    path.write_bytes(members["database.sqlite3"])
    with sqlite3.connect(path) as con:
        con.execute(sql)
    con.close()
    members["database.sqlite3"] = path.read_bytes()
    path.unlink()


def _data_member(members: Members) -> str:
    return next(n for n in members if n.endswith("/data.fsv"))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def _flip_member(m: Members, _t: Path) -> None:
    name = _data_member(m)
    m[name] = _flip(m[name], len(m[name]) // 2)


def _edit_manifest(m: Members, _t: Path) -> None:
    manifest = json.loads(m["manifest.json"])
    manifest["created_at"] = "2020-01-01T00:00:00+00:00"
    m["manifest.json"] = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


def _ciphertext_resigned(m: Members, t: Path) -> None:
    _flip_member(m, t)
    _resign(m)


def _event_edited_resigned(m: Members, t: Path) -> None:
    _edit_db(m, t, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    _resign(m)


def _object_dropped_resigned(m: Members, t: Path) -> None:
    for name in [n for n in m if "/datasets/ashe/" in n]:
        del m[name]
    manifest = json.loads(m["manifest.json"])
    manifest["files"] = [f for f in manifest["files"] if f["path"] in m]
    m["manifest.json"] = json.dumps(manifest).encode()
    _resign(m)


def _unlisted_member(m: Members, _t: Path) -> None:
    m["workspace/keys/areas/earnings/v9.key"] = b"k" * 32


def _member_removed(m: Members, _t: Path) -> None:
    del m["workspace/config.toml"]


TAMPERINGS: dict[str, tuple[Callable[[Members, Path], None], str]] = {
    "a byte of a member flipped": (_flip_member, "does not match the SHA-256"),
    "manifest edited, not re-signed": (_edit_manifest, "signature does not verify"),
    "ciphertext flipped, re-signed": (_ciphertext_resigned, "altered|tampered|authentic"),
    "audit event edited, re-signed": (_event_edited_resigned, "audit log does not verify"),
    "encrypted object dropped, re-signed": (_object_dropped_resigned, "not in it"),
    "unlisted member added": (_unlisted_member, "members and manifest differ"),
    "member removed": (_member_removed, "members and manifest differ"),
}


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> tuple[Shell, Path]:
    tmp = tmp_path_factory.mktemp("honest")
    sh = _world(tmp)
    archive = tmp / "honest.tar"
    sh.ok(None, "backup", "--to", str(archive))
    return sh, archive


def _refused(sh: Shell, archive: Path, target: Path, pattern: str, *extra: str) -> None:
    result = sh.run(None, "restore", str(archive), "--home", str(target), *extra)
    assert result.exit_code == 7, (result.output, result.stderr)
    assert __import__("re").search(pattern, result.stderr), result.stderr
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir() if ".restoring-" in p.name] == []


@pytest.mark.parametrize("how", sorted(TAMPERINGS))
def test_a_tampered_archive_is_refused_and_nothing_is_restored(
    honest: tuple[Shell, Path], tmp_path: Path, how: str
) -> None:
    sh, archive = honest
    change, pattern = TAMPERINGS[how]
    members = _read(archive)
    change(members, tmp_path)
    bad = tmp_path / "bad.tar"
    _write(bad, members)
    _refused(sh, bad, tmp_path / "restored", pattern)


def test_names_that_leave_the_folder_and_links_are_refused(
    honest: tuple[Shell, Path], tmp_path: Path
) -> None:
    sh, archive = honest
    for name, kind in (("../escape", tarfile.REGTYPE), ("workspace/link", tarfile.SYMTYPE)):
        info = tarfile.TarInfo(name)
        info.type = kind
        info.size = 0 if kind == tarfile.SYMTYPE else 3
        info.linkname = "/etc/passwd" if kind == tarfile.SYMTYPE else ""
        bad = tmp_path / "bad.tar"
        _write(bad, _read(archive), info)
        _refused(sh, bad, tmp_path / "restored", "not a safe relative path|not a plain file")
        assert not (tmp_path / "escape").exists()


def _listed(members: Members, info: tarfile.TarInfo, size: int) -> None:
    manifest = json.loads(members["manifest.json"])
    manifest["files"].append({"path": info.name, "sha256": "0" * 64, "size": size})
    members["manifest.json"] = json.dumps(manifest).encode()


def test_a_sparse_member_is_refused_before_it_fills_the_disk(
    honest: tuple[Shell, Path], tmp_path: Path
) -> None:
    # A few kilobytes of PAX headers that a tar reader expands into gigabytes of zeros:
    # refused from its header, before a byte of it is written (the hash comes too late).
    sh, archive = honest
    members = _read(archive)
    info = tarfile.TarInfo("workspace/releases/huge")
    info.pax_headers = {"GNU.sparse.map": "0,0", "GNU.sparse.size": str(64 << 20)}
    _listed(members, info, 64 << 20)
    bad = tmp_path / "sparse.tar"
    with tarfile.open(bad, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            plain = tarfile.TarInfo(name)
            plain.size = len(data)
            tar.addfile(plain, io.BytesIO(data))
        tar.addfile(info, io.BytesIO(b""))
    assert bad.stat().st_size < 1 << 20
    _refused(sh, bad, tmp_path / "restored", "sparse")


def test_a_member_whose_size_is_not_its_manifest_size_is_refused_unread(
    honest: tuple[Shell, Path], tmp_path: Path
) -> None:
    sh, archive = honest
    members = _read(archive)
    name = _data_member(members)
    manifest = json.loads(members["manifest.json"])
    for f in manifest["files"]:
        if f["path"] == name:
            f["size"] -= 1
    members["manifest.json"] = json.dumps(manifest).encode()
    bad = tmp_path / "lies.tar"
    _write(bad, members)
    _refused(sh, bad, tmp_path / "restored", "bytes, its manifest says")


def test_a_truncated_archive_is_refused(honest: tuple[Shell, Path], tmp_path: Path) -> None:
    sh, archive = honest
    bad = tmp_path / "cut.tar"
    bad.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    _refused(sh, bad, tmp_path / "restored", "not intact")


def test_an_archive_signed_by_another_workspace_is_refused(
    honest: tuple[Shell, Path], tmp_path: Path
) -> None:
    sh, archive = honest
    other = Shell(tmp_path / "other")
    other.ok(None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "R")
    pub = other.home / "keys" / "workspace-signing.pub"
    _refused(
        sh, archive, tmp_path / "restored", "not the public key given", "--public-key", str(pub)
    )
    _restored_ok(sh, archive, tmp_path / "ok", "--public-key",
                 str(sh.home / "keys" / "workspace-signing.pub"))  # fmt: skip


def _witnessed_backup(tmp_path: Path) -> tuple[Shell, Path, Path, Members, Path]:
    """A workspace, a witness copy that saw every checkpoint so far (as a configured
    witness folder would), its backup, the backup's members and its database written out."""
    sh = _world(tmp_path)
    witness = tmp_path / "witness"
    witness.mkdir()
    copy = witness / "copy.log"
    copy.write_bytes((sh.home / "audit-checkpoints.log").read_bytes())
    archive = tmp_path / "b.tar"
    sh.ok(None, "backup", "--to", str(archive))
    members = _read(archive)
    path = tmp_path / "db.sqlite3"
    path.write_bytes(members["database.sqlite3"])
    return sh, copy, archive, members, path


def test_a_log_rewritten_with_the_archived_key_is_caught_by_a_witness(
    tmp_path: Path,
) -> None:
    sh, copy, archive, members, path = _witnessed_backup(tmp_path)
    # Rewrite event 3, and re-chain and re-sign everything after it: what the key allows.
    _rechain(path, members, tmp_path)
    bad = tmp_path / "bad.tar"
    _write(bad, members)
    _refused(sh, bad, tmp_path / "restored", "differs from the witness", "--witness", str(copy))
    _restored_ok(sh, archive, tmp_path / "ok", "--witness", str(copy))


def test_a_log_forged_under_a_new_key_is_caught_by_a_witness(tmp_path: Path) -> None:
    # Someone who rewrites the whole log (genesis included) and signs it with a key of
    # their own, put in the archive in place of the workspace's: none of the witnessed
    # checkpoints verifies under that key, and that alone is the disagreement.
    sh, copy, _archive, members, path = _witnessed_backup(tmp_path)
    _rechain(path, members, tmp_path, from_seq=1, new_key=True)
    bad = tmp_path / "bad.tar"
    _write(bad, members)
    _restored_ok(sh, bad, tmp_path / "forged")  # without a witness it cannot be told
    _refused(sh, bad, tmp_path / "restored", "witness", "--witness", str(copy))


def _rechain(
    path: Path, members: Members, tmp: Path, *, from_seq: int = 3, new_key: bool = False
) -> None:
    """Edit event 3, recompute every hash from ``from_seq`` on and re-sign every checkpoint
    from there; with ``new_key``, under a new signing key put in place of the archive's
    (the genesis event then names it)."""
    import tomllib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    from fivesafes.audit.chain import GENESIS_HASH, ChainEntry, canonical_details, entry_hash
    from fivesafes.audit.checkpoint import Checkpoint, parse_checkpoint, sign_checkpoint
    from fivesafes.workspace.keys import public_key_fingerprint

    key = load_pem_private_key(members["workspace/keys/workspace-signing.key"], None)
    if new_key:
        key = Ed25519PrivateKey.generate()
        members["workspace/keys/workspace-signing.key"] = key.private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
        members["workspace/keys/workspace-signing.pub"] = key.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )
    config = tomllib.loads(members["workspace/config.toml"].decode())
    origin = f"fivesafes/{config['workspace_id']}"
    columns = "seq, at, action, actor, outcome, area, dataset, subject, details, prev_hash"
    with sqlite3.connect(path) as con:
        con.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        if new_key:
            genesis = json.loads(
                con.execute("SELECT details FROM audit_log WHERE seq = 1").fetchone()[0]
            )
            genesis["public_key_sha256"] = public_key_fingerprint(key.public_key())  # type: ignore[arg-type]
            con.execute("UPDATE audit_log SET details = ? WHERE seq = 1",
                        (canonical_details(genesis),))  # fmt: skip
        prev = (
            con.execute("SELECT hash FROM audit_log WHERE seq = ?", (from_seq - 1,)).fetchone()
            or [GENESIS_HASH]
        )[0]
        rows = con.execute(
            f"SELECT {columns} FROM audit_log WHERE seq >= ? ORDER BY seq", (from_seq,)
        )
        con.execute("DELETE FROM audit_checkpoint WHERE size >= ?", (from_seq,))
        lines = []
        for row in rows.fetchall():
            new = entry_hash(ChainEntry(*row[:-1], prev_hash=prev))
            con.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
                        (prev, new, row[0]))  # fmt: skip
            note = sign_checkpoint(Checkpoint(origin, row[0], new), key, origin)  # type: ignore[arg-type]
            con.execute("INSERT INTO audit_checkpoint VALUES (?, ?, ?, ?)",
                        (row[0], new, row[1], note))  # fmt: skip
            lines.append(json.dumps({"note": note}) + "\n")
            prev = new
    con.close()
    members["database.sqlite3"] = path.read_bytes()
    old = members["workspace/audit-checkpoints.log"].decode().splitlines(True)
    kept = [ln for ln in old if parse_checkpoint(json.loads(ln)["note"])[0].size < from_seq]
    members["workspace/audit-checkpoints.log"] = "".join(kept + lines).encode()
    manifest = json.loads(members["manifest.json"])
    manifest["audit"]["head_hash"] = prev
    members["manifest.json"] = json.dumps(manifest).encode()
    _resign(members)


# --- PostgreSQL ----------------------------------------------------------------------


@pytest.mark.postgres
def test_a_postgresql_workspace_restores_into_sqlite(tmp_path: Path, pg_url: str) -> None:
    sh = _world(tmp_path, pg_url)
    archive = tmp_path / "pg.tar"
    made = json.loads(sh.ok(None, "backup", "--to", str(archive), "--json").stdout)
    assert made["source_backend"] == "postgresql"
    restored = tmp_path / "restored"
    report = _restored_ok(sh, archive, restored)
    assert report["database"] == "sqlite" and report["objects_verified"] == 1
    assert _stored(sh, restored) == _stored(sh, sh.home)


@pytest.mark.postgres
def test_a_sqlite_workspace_restores_into_postgresql(tmp_path: Path, pg_url: str) -> None:
    sh = _world(tmp_path)
    archive = tmp_path / "lite.tar"
    sh.ok(None, "backup", "--to", str(archive))
    restored = tmp_path / "restored"
    report = _restored_ok(sh, archive, restored, "--database-url", pg_url)
    assert report["database"] == "postgresql"
    assert not (restored / "fivesafes.db").exists()
    assert _stored(sh, restored) == _stored(sh, sh.home)
    # Sequences continue after the copied rows: a new row gets a new id.
    _ingest_more(sh, restored, tmp_path)
    # A second restore into the same (now non-empty) database is refused.
    again = sh.run(None, "restore", str(archive), "--home", str(tmp_path / "again"),
                   "--database-url", pg_url)  # fmt: skip
    assert again.exit_code == 2 and "already holds an audit log" in again.stderr
    assert not (tmp_path / "again").exists()
