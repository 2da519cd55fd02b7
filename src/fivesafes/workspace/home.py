"""The workspace: one directory with the config, database, keys, areas and releases.

``create_workspace`` makes it (directories 0700, key files 0600) and migrates
the database; ``open_workspace`` finds it (FIVESAFES_HOME, else
./fivesafes-workspace) and brings the schema up to date.
"""

from __future__ import annotations

import os
import shutil
import tomllib
import uuid
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fivesafes.errors import WorkspaceError
from fivesafes.vault.atomic import private_dirs
from fivesafes.workspace.keys import (
    atomic_write,
    load_private_key,
    load_public_key,
    public_key_fingerprint,
    write_private_key,
)
from fivesafes.workspace.settings import (
    DATABASE_URL_ENV,
    DEFAULT_HOME,
    HOME_ENV,
    SECTIONS,
    SETTINGS,
    config_value,
    get_setting,
    resolve,
    validate_config,
)

CONFIG_FILE = "config.toml"
DATABASE_FILE = "fivesafes.db"
SIGNING_KEY_FILE = "workspace-signing.key"
PUBLIC_KEY_FILE = "workspace-signing.pub"
CHECKPOINT_LOG_FILE = "audit-checkpoints.log"
CONFIG_FORMAT = 1


@dataclass(frozen=True)
class Workspace:
    """An opened workspace: where it lives and what its config.toml says."""

    home: Path
    config: Mapping[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    # --- places --------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        """The workspace's config.toml."""
        return self.home / CONFIG_FILE

    @property
    def keys_dir(self) -> Path:
        """Key files (mode 0600)."""
        return self.home / "keys"

    @property
    def areas_dir(self) -> Path:
        """Encrypted restricted-area stores, one subdirectory per area."""
        return self.home / "areas"

    @property
    def releases_dir(self) -> Path:
        """Published releases."""
        return self.home / "releases"

    @property
    def signing_key_path(self) -> Path:
        """The Ed25519 private key that signs audit checkpoints."""
        return self.keys_dir / SIGNING_KEY_FILE

    @property
    def public_key_path(self) -> Path:
        """The public half of the signing key (keep a copy outside the workspace too)."""
        return self.keys_dir / PUBLIC_KEY_FILE

    @property
    def checkpoint_log_path(self) -> Path:
        """The append-only file every signed checkpoint is also written to."""
        return self.home / CHECKPOINT_LOG_FILE

    @property
    def workspace_id(self) -> str:
        """The random id given at creation; part of the audit log's origin."""
        return str(self.config.get("workspace_id", "unknown"))

    @property
    def origin(self) -> str:
        """The name of this workspace's audit log in signed checkpoints."""
        return f"fivesafes/{self.workspace_id}"

    # --- settings ------------------------------------------------------------
    def setting(self, name: str) -> Any:
        """The value of a declared setting (environment, else config.toml, else default)."""
        if name == "home":
            return self.home
        if name == "database_url":
            return self.database_url()
        return resolve(name, self.config)

    def database_url(self) -> str:
        """The database URL: FIVESAFES_DATABASE_URL, config.toml, else SQLite in the workspace."""
        url = resolve("database_url", self.config)
        if url:
            return str(url)
        return f"sqlite:///{(self.home / DATABASE_FILE).resolve()}"

    # --- keys ----------------------------------------------------------------
    def signing_key(self) -> Ed25519PrivateKey:
        """The workspace's Ed25519 signing key."""
        key = self._cache.get("signing_key")
        if key is None:
            key = load_private_key(self.signing_key_path)
            self._cache["signing_key"] = key
        assert isinstance(key, Ed25519PrivateKey)
        return key

    def public_key(self) -> Ed25519PublicKey:
        """The public key that verifies this workspace's checkpoints (from the .pub file)."""
        return load_public_key(self.public_key_path)

    # --- database ------------------------------------------------------------
    def engine(self) -> Engine:
        """This workspace's engine (made once per Workspace object)."""
        engine = self._cache.get("engine")
        if engine is None:
            from fivesafes.store.db import make_engine

            engine = make_engine(self.database_url())
            self._cache["engine"] = engine
            # Close pooled connections when this object goes away, even if nobody
            # called close() (a CLI command, a test): no half-open connections.
            weakref.finalize(self, engine.dispose)
        assert isinstance(engine, Engine)
        return engine

    def sessions(self) -> sessionmaker[Session]:
        """A session factory whose sessions sign automatic audit checkpoints."""
        factory = self._cache.get("sessions")
        if factory is None:
            from fivesafes.audit.log import CHECKPOINTER, Checkpointer
            from fivesafes.audit.witness import parse_witness
            from fivesafes.store.db import session_factory

            checkpointer = Checkpointer(
                private_key=self.signing_key(),
                origin=self.origin,
                every=int(self.setting("checkpoint_every")),
                log_path=self.checkpoint_log_path,
                witnesses=tuple(parse_witness(w) for w in self.setting("audit_witnesses")),
                batch_seconds=int(self.setting("checkpoint_batch_ms")) / 1000,
            )
            factory = session_factory(self.engine(), **{CHECKPOINTER: checkpointer})
            self._cache["sessions"] = factory
        assert isinstance(factory, sessionmaker)
        return factory

    def reader(self) -> Session:
        """A session for reading only (on SQLite its transactions take no write lock)."""
        from fivesafes.store.db import read_only

        return Session(read_only(self.engine()))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction on the workspace database: commit on success, roll back on error."""
        from fivesafes.store.db import transaction

        with transaction(self.sessions()) as session:
            yield session

    def close(self) -> None:
        """Release database connections (the Workspace stays usable; it reconnects)."""
        engine = self._cache.pop("engine", None)
        self._cache.pop("sessions", None)
        if engine is not None:
            from fivesafes.audit.log import sign_pending_now

            sign_pending_now(engine)  # a head left to a batch timer is signed before we go
            engine.dispose()


def default_home() -> Path:
    """FIVESAFES_HOME if set, else ./fivesafes-workspace."""
    raw = os.environ.get(HOME_ENV, "").strip()
    return Path(raw).expanduser() if raw else DEFAULT_HOME


def _read_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            config = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(
            f"{path} is not valid TOML: {exc}",
            hint="fix the file by hand (docs/workspace.md lists every setting)",
        ) from None
    validate_config(config)
    return config


def open_workspace(home: Path | None = None, *, migrate: bool = True) -> Workspace:
    """Open the workspace at ``home`` (default: FIVESAFES_HOME or ./fivesafes-workspace)."""
    home = (home if home is not None else default_home()).expanduser().resolve()
    config_path = home / CONFIG_FILE
    if not config_path.is_file():
        raise WorkspaceError(
            f"no fivesafes workspace at {home}",
            hint="run `fivesafes init` to create one, or set FIVESAFES_HOME to an existing "
            "workspace",
        )
    workspace = Workspace(home=home, config=_read_config(config_path))
    if migrate:
        from fivesafes.store.db import ensure_schema

        ensure_schema(workspace.engine())
    return workspace


def create_workspace(
    home: Path,
    *,
    demo_identity: bool = False,
    database_url: str | None = None,
    key_provider: str = "file",
) -> Workspace:
    """Create a workspace: directories, config.toml, signing key, migrated database."""
    home = home.expanduser().resolve()
    if (home / CONFIG_FILE).exists():
        raise WorkspaceError(
            f"a workspace already exists at {home}",
            hint="use it (set FIVESAFES_HOME), or choose another directory",
        )
    if home.exists() and not home.is_dir():
        raise WorkspaceError(f"{home} exists and is not a directory", hint="choose another path")
    created_home = not home.exists()
    made: list[Path] = []
    workspace: Workspace | None = None
    try:
        # Parents too: one others can write lets them put their own workspace in its place.
        private_dirs(home)
        if created_home:
            made.append(home)
        for sub in ("keys", "areas", "releases"):
            path = home / sub
            if not path.exists():
                path.mkdir(mode=0o700)
                made.append(path)
        for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"):
            if not (home / name).exists():
                made.append(home / name)
        if not (home / CHECKPOINT_LOG_FILE).exists():
            made.append(home / CHECKPOINT_LOG_FILE)
        config = _new_config(
            demo_identity=demo_identity, database_url=database_url, key_provider=key_provider
        )
        workspace = Workspace(home=home, config=config)
        key = Ed25519PrivateKey.generate()
        write_private_key(workspace.signing_key_path, key)
        made.append(workspace.signing_key_path)
        atomic_write(
            workspace.public_key_path,
            key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
            mode=0o644,
        )
        made.append(workspace.public_key_path)
        from fivesafes.store.db import migrate

        migrate(workspace.engine())
        _record_creation(workspace)
        for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"):
            if (home / name).exists():
                (home / name).chmod(0o600)  # SQLite creates it with the umask's mode
        # Last: the config file's presence is what marks the workspace as initialised.
        atomic_write(workspace.config_path, render_config(config).encode("utf-8"), mode=0o600)
    except BaseException:
        if workspace is not None:
            workspace.close()
        for path in reversed(made):
            with suppress(OSError):
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
        raise
    workspace.close()
    return Workspace(home=home, config=config)


def _record_creation(workspace: Workspace) -> None:
    from fivesafes.audit.events import AuditEvent
    from fivesafes.audit.log import CHECKPOINTER, append_event, chain_head, create_checkpoint

    with workspace.transaction() as session:
        if chain_head(session)[0] != 0:
            raise WorkspaceError(
                "the database already holds a fivesafes audit log (another workspace's)",
                hint="give each workspace its own database (or PostgreSQL schema)",
            )
        append_event(
            session,
            AuditEvent(
                action="workspace.create",
                actor="system",
                details={
                    "workspace_id": workspace.workspace_id,
                    "demo_identity": bool(workspace.config.get("demo_identity", False)),
                    "public_key_sha256": public_key_fingerprint(workspace.public_key()),
                },
            ),
        )
        create_checkpoint(session, session.info[CHECKPOINTER])


def _new_config(
    *, demo_identity: bool, database_url: str | None, key_provider: str = "file"
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "format": CONFIG_FORMAT,
        "workspace_id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "demo_identity": bool(demo_identity),
        "key_provider": key_provider,
    }
    url = database_url or os.environ.get(DATABASE_URL_ENV, "").strip() or None
    if url:
        config["database_url"] = url
    validate_config(config)
    return config


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def render_config(config: Mapping[str, Any]) -> str:
    """config.toml text: set values, then every other setting as a commented default."""
    lines = ["# fivesafes workspace configuration (docs/workspace.md)", ""]
    for key in ("format", "workspace_id", "created_at"):
        if key in config:
            lines.append(f"{key} = {_toml_value(config[key])}")
    # Top-level keys first: in TOML, every key after a [section] header belongs to it. A
    # section with nothing set stays commented out, header included, so that a setting
    # appended at the end of the file is still a top-level one.
    for section in (None, *SECTIONS):
        if section is not None:
            used = any(
                config_value(s, config) is not None for s in SETTINGS if s.section == section
            )
            lines += ["", f"[{section}]" if used else f"# [{section}]"]
        for setting in SETTINGS:
            if not setting.in_config or setting.section != section:
                continue
            lines.append("")
            lines.append(f"# {setting.help}")
            value = config_value(setting, config)
            if value is not None:
                lines.append(f"{setting.key} = {_toml_value(value)}")
            elif setting.default is not None:
                lines.append(f"# {setting.key} = {_toml_value(setting.default)}")
    return "\n".join(lines) + "\n"


def setting_help() -> str:
    """Every setting with its default, for --help texts."""
    lines = []
    for setting in SETTINGS:
        where = f" (env {setting.env})" if setting.env and not setting.cli_only else ""
        lines.append(f"{setting.name}{where}: {setting.help} Default: {setting.default}.")
    return "\n".join(lines)


__all__ = [
    "Workspace",
    "create_workspace",
    "default_home",
    "get_setting",
    "load_public_key",
    "open_workspace",
    "public_key_fingerprint",
]
