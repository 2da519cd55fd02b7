"""Settings declared once: name, default, help, where it may come from.

The CLI help, docs/workspace.md and a test that every setting is documented all
read :data:`SETTINGS`. Only ``home`` and ``database_url`` may come from the
environment: governance limits (grant lengths, training validity) live in the
workspace's config.toml so that a user cannot loosen them for one command by
setting a variable. A setting with a ``section`` lives in that table of config.toml:
``engine_name`` is ``name`` under ``[engine]``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fivesafes.errors import WorkspaceError

DEFAULT_HOME = Path("fivesafes-workspace")
HOME_ENV = "FIVESAFES_HOME"
DATABASE_URL_ENV = "FIVESAFES_DATABASE_URL"
USER_ENV = "FIVESAFES_USER"
# The passphrase of a workspace whose area keys are passphrase-derived. A secret, not a
# setting: read from the environment (or asked for) when a key is needed, never stored.
KEY_PASSPHRASE_ENV = "FIVESAFES_KEY_PASSPHRASE"  # noqa: S105 - a variable name, not a secret
KEY_PROVIDERS = ("file", "passphrase", "pkcs11")
# The PIN of the PKCS#11 token when no PIN file is set: a secret, from the environment only.
PKCS11_PIN_ENV = "FIVESAFES_PKCS11_PIN"
# The client secret of the server's OpenID Connect client, when no secret file is set. A
# secret, not a setting: read from the server's environment, never from config.toml.
OIDC_CLIENT_SECRET_ENV = "FIVESAFES_OIDC_CLIENT_SECRET"  # noqa: S105 - a variable name
OIDC_CLAIMS = ("email", "sub", "preferred_username")
ENGINE_NAMES = ("duckdb", "spark")
# Whose bank holidays the requests' clocks count out (fivesafes.requests.calendar.Nation).
REQUEST_CALENDARS = ("uk", "england-and-wales", "scotland", "northern-ireland")


@dataclass(frozen=True)
class Setting:
    """One setting: its name in config.toml, default, help, optional variable and type."""

    name: str
    default: Any
    help: str
    env: str | None = None
    kind: type = str
    in_config: bool = True  # False: never read from config.toml (e.g. ``home`` locates it)
    cli_only: bool = False  # True: only `fivesafes init` sets it, never the environment
    choices: tuple[str, ...] = ()  # the only values allowed, when not empty
    section: str | None = None  # the [section] of config.toml it lives in; None: top level
    minimum: int = 1  # the smallest value of an int setting

    @property
    def key(self) -> str:
        """Its key in config.toml (inside its section, without the section's prefix)."""
        return self.name.removeprefix(f"{self.section}_") if self.section else self.name

    @property
    def where(self) -> str:
        """How config.toml names it: ``grant_max_months``, ``[engine] name``."""
        return f"[{self.section}] {self.key}" if self.section else self.name

    def parse(self, raw: object, *, source: str) -> Any:
        """Convert a raw value (config or environment) to this setting's type."""
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in {"1", "true", "yes", "on"}:
                return True
            if isinstance(raw, str) and raw.strip().lower() in {"0", "false", "no", "off"}:
                return False
        elif self.kind is int:
            if isinstance(raw, int) and not isinstance(raw, bool):
                value = raw
            elif isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
                value = int(raw.strip())
            else:
                value = None
            if value is not None:
                if value < self.minimum:
                    raise WorkspaceError(
                        f"setting {self.name} from {source} must be at least {self.minimum}, "
                        f"got {value}",
                        hint=f"set {self.name} to a whole number of at least {self.minimum}",
                    )
                return value
        elif self.kind is tuple:
            if isinstance(raw, list | tuple) and all(
                isinstance(item, str) and item.strip() for item in raw
            ):
                return tuple(item.strip() for item in raw)
        elif self.kind is Path:
            if isinstance(raw, str | Path) and str(raw).strip():
                return Path(str(raw)).expanduser()
        elif isinstance(raw, str) and raw.strip():
            if self.choices and raw.strip() not in self.choices:
                raise WorkspaceError(
                    f"setting {self.name} from {source} must be one of "
                    f"{', '.join(self.choices)}, got {raw.strip()!r}",
                    hint=f"set {self.name} to one of: {', '.join(self.choices)}",
                )
            return raw.strip()
        raise WorkspaceError(
            f"setting {self.name} from {source} is not a valid {self.kind.__name__}: {raw!r}",
            hint=f"fix {self.name} in {source}; `fivesafes --help` and docs/workspace.md list "
            "every setting with its type",
        )


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "home",
        DEFAULT_HOME,
        "The workspace directory (config, database, keys, areas, releases).",
        env=HOME_ENV,
        kind=Path,
        in_config=False,
    ),
    Setting(
        "database_url",
        None,
        "SQLAlchemy URL of the database; default: SQLite file fivesafes.db in the workspace. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/dbname.",
        env=DATABASE_URL_ENV,
        kind=str,
    ),
    Setting(
        "demo_identity",
        False,
        "Accept FIVESAFES_USER as the acting person (demos and tests only). Set only by "
        "`fivesafes init --demo-identity`; every command then prints a notice.",
        kind=bool,
        cli_only=True,
    ),
    Setting(
        "key_provider",
        "file",
        "Who holds the restricted areas' keys: 'file' (a random key per area in keys/, mode "
        "0600), 'passphrase' (derived with scrypt from a passphrase given in "
        f"{KEY_PASSPHRASE_ENV} or asked for; never stored) or 'pkcs11' (wrapped by a "
        "non-extractable key in a PKCS#11 token, see [pkcs11]). Set only by "
        "`fivesafes init --key-provider`: changing it later would orphan the existing keys.",
        cli_only=True,
        choices=KEY_PROVIDERS,
    ),
    Setting(
        "grant_default_months",
        12,
        "Length of a need-to-know grant when the request gives no end date.",
        kind=int,
    ),
    Setting(
        "grant_max_months",
        12,
        "Longest need-to-know grant that may be approved.",
        kind=int,
    ),
    Setting(
        "training_validity_months",
        12,
        "Default validity of a training completion (a course may set its own).",
        kind=int,
    ),
    Setting(
        "checkpoint_every",
        1000,
        "Audit events between automatic signed checkpoints of the audit chain.",
        kind=int,
    ),
    Setting(
        "checkpoint_batch_ms",
        1000,
        "Under load, sign the audit log's head at most this often per process (ms); a commit "
        "sooner after the last signature is covered by a timer that signs within this time. "
        "0: sign at every commit.",
        kind=int,
        minimum=0,
    ),
    Setting(
        "audit_witnesses",
        (),
        "Where every signed audit checkpoint is also sent after its commit (a list): an "
        "absolute folder path (on another mount, or owned by another account that lets the "
        "service account append) or 'command:<command>' (gets the checkpoint as one JSON "
        "line on stdin, e.g. 'command:logger -t fivesafes-audit'). See docs/audit-log.md.",
        kind=tuple,
    ),
    Setting(
        "publication_organisation",
        "the statistics producer",
        "The organisation named on the cover sheet, in the document properties and in the "
        "methods note of every published release (`release publish --organisation` overrides "
        "it for one release).",
    ),
    Setting(
        "publication_contact",
        None,
        "Who the public contacts about a published release (e.g. an email address or a team "
        "and its address), printed on the cover sheet and in the methods note. Unset: the "
        "note names the organisation.",
    ),
    Setting(
        "review_due_days",
        30,
        "Days ahead that `fivesafes review access` looks for grants and training to renew.",
        kind=int,
    ),
    Setting(
        "engine_name",
        "duckdb",
        "The tabulation engine of `table protect`: 'duckdb' (embedded, this process) or "
        "'spark' (needs `pip install fivesafes[spark]`); --engine overrides it.",
        choices=ENGINE_NAMES,
        section="engine",
    ),
    Setting(
        "engine_master",
        "local[*]",
        "Spark's master URL when the engine is spark (local[*]: every core of this machine); "
        "--engine-master overrides it.",
        section="engine",
    ),
    Setting(
        "engine_memory_limit",
        "50%",
        "Memory DuckDB may use for a query or tabulation over an area's data (DuckDB syntax: "
        "4GB, 50%). Confidential data never spill to disk: past this limit the work fails "
        "with an error. Spark's memory is Spark's own configuration.",
        section="engine",
    ),
    Setting(
        "requests_area",
        "requests",
        "The restricted area whose key seals requesters' personal details (an administrator "
        "creates it: fivesafes area create requests --owner LOGIN).",
        section="requests",
    ),
    Setting(
        "requests_calendar",
        "uk",
        "Whose bank holidays are not working days for the requests' clocks: 'uk' (a bank "
        "holiday in any part of the UK, as FOIA s10(6) says), 'england-and-wales', "
        "'scotland' (FOISA) or 'northern-ireland'.",
        choices=REQUEST_CALENDARS,
        section="requests",
    ),
    Setting(
        "requests_pq_working_days",
        5,
        "The department's target for answering a parliamentary question, in working days.",
        kind=int,
        section="requests",
    ),
    Setting(
        "requests_ad_hoc_working_days",
        20,
        "The target for answering an ad hoc request for statistics, in working days.",
        kind=int,
        section="requests",
    ),
    Setting(
        "requests_foi_extension_working_days",
        20,
        "Working days a FOI public-interest extension adds (the ICO expects no more than 20).",
        kind=int,
        section="requests",
    ),
    Setting(
        "requests_retention_months",
        36,
        "Months a closed case's requester details are kept before they are shredded.",
        kind=int,
        section="requests",
    ),
    Setting(
        "oidc_issuer",
        None,
        "The OpenID Connect provider the server's TCP sign-in trusts (its issuer URL; the "
        "discovery document is ISSUER/.well-known/openid-configuration). Unset: no OIDC "
        "sign-in. See docs/server.md.",
        section="oidc",
    ),
    Setting(
        "oidc_client_id",
        None,
        "The server's client id at the OIDC provider (ID tokens must name it as audience).",
        section="oidc",
    ),
    Setting(
        "oidc_client_secret_file",
        None,
        "A file (the service account's, mode 0600) holding the client secret; unset: the "
        f"secret comes from {OIDC_CLIENT_SECRET_ENV} in the server's environment. The secret "
        "itself is never written in config.toml.",
        kind=Path,
        section="oidc",
    ),
    Setting(
        "oidc_redirect_uri",
        None,
        "The callback URL registered at the provider: the server's "
        "https://HOST/api/v1/auth/oidc/callback as people's browsers reach it.",
        section="oidc",
    ),
    Setting(
        "oidc_claim",
        "email",
        "The ID token claim that names the person ('email' needs email_verified true; 'sub' "
        "or 'preferred_username'); [oidc] logins maps its values to logins.",
        choices=OIDC_CLAIMS,
        section="oidc",
    ),
    Setting(
        "oidc_logins",
        (),
        "Who may sign in with OIDC, as 'CLAIM_VALUE=LOGIN' entries (a list), each LOGIN a "
        "registered person; any other value is refused and audited (deny by default).",
        kind=tuple,
        section="oidc",
    ),
    Setting(
        "oidc_name",
        "OpenID Connect",
        "The provider's name on the sign-in page ('Sign in with NAME').",
        section="oidc",
    ),
    Setting(
        "pkcs11_module",
        "/usr/lib/softhsm/libsofthsm2.so",
        "The PKCS#11 library of the token holding the master key (key_provider pkcs11); "
        "SoftHSM2's by default, an HSM vendor's in production.",
        section="pkcs11",
    ),
    Setting(
        "pkcs11_token",
        None,
        "The label of the PKCS#11 token that holds the master key (key_provider pkcs11).",
        section="pkcs11",
    ),
    Setting(
        "pkcs11_key_label",
        "fivesafes-master",
        "The label of the token's AES master key (created non-extractable if absent).",
        section="pkcs11",
    ),
    Setting(
        "pkcs11_pin_file",
        None,
        "A file (the service account's, mode 0600) holding the token's user PIN; unset: the "
        f"PIN comes from {PKCS11_PIN_ENV} in the server's environment. Never in config.toml.",
        kind=Path,
        section="pkcs11",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
_BY_SECTION_KEY = {(s.section, s.key): s for s in SETTINGS if s.section}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(s.section for s in SETTINGS if s.section))


def config_value(setting: Setting, config: Mapping[str, Any]) -> Any:
    """The raw value of ``setting`` in a config mapping (None when absent)."""
    if setting.section is None:
        return config.get(setting.name)
    table = config.get(setting.section)
    return table.get(setting.key) if isinstance(table, Mapping) else None


def get_setting(name: str) -> Setting:
    """The declared setting called ``name``; a WorkspaceError names the known ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise WorkspaceError(
            f"unknown setting {name!r}",
            hint="known settings: " + ", ".join(_BY_NAME),
        ) from None


def resolve(name: str, config: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Any:
    """The value of a setting: its environment variable, else config.toml, else the default."""
    setting = get_setting(name)
    env = os.environ if environ is None else environ
    if setting.env and not setting.cli_only and env.get(setting.env, "").strip():
        return setting.parse(env[setting.env], source=f"environment variable {setting.env}")
    raw = config_value(setting, config) if setting.in_config else None
    if raw is not None:
        return setting.parse(raw, source="config.toml")
    return setting.default


def validate_config(config: Mapping[str, Any]) -> None:
    """Check every known key of a config mapping parses; unknown keys are an error too."""
    reserved = {"workspace_id", "created_at", "format"}
    for key, value in config.items():
        if key in reserved:
            continue
        if key in SECTIONS:
            _validate_section(key, value)
            continue
        setting = _BY_NAME.get(key)
        if setting is not None and setting.section is not None:
            raise WorkspaceError(
                f"config.toml sets {key!r} at the top level",
                hint=f"write it as {setting.key} = ... under [{setting.section}]",
            )
        if setting is None or not setting.in_config:
            raise WorkspaceError(
                f"config.toml has an unknown setting {key!r}",
                hint="remove it or fix its spelling; known settings: "
                + ", ".join(s.name for s in SETTINGS if s.in_config),
            )
        setting.parse(value, source="config.toml")


def _validate_section(section: str, table: Any) -> None:
    if not isinstance(table, Mapping):
        raise WorkspaceError(
            f"config.toml's {section!r} must be a table: [{section}]",
            hint=f"write [{section}] on a line of its own, then its settings",
        )
    for key, value in table.items():
        setting = _BY_SECTION_KEY.get((section, key))
        if setting is None:
            top = _BY_NAME.get(key)
            raise WorkspaceError(
                f"config.toml has an unknown setting {key!r} in [{section}]",
                hint=f"{key} is a top-level setting: move it above the [{section}] line"
                if top is not None and top.section is None
                else f"known in [{section}]: "
                + ", ".join(s.key for s in SETTINGS if s.section == section),
            )
        setting.parse(value, source=f"config.toml [{section}]")
