"""The workspace: one directory with the config, database, keys, areas and releases.

``home`` opens and creates it; ``keys`` reads and writes its key files; ``settings``
declares every setting once; ``identity`` says who is acting. The composition root
(``fivesafes.app``) opens it for the CLI and, later, the server. See docs/workspace.md.
"""

from fivesafes.workspace.home import (
    CONFIG_FILE,
    Workspace,
    create_workspace,
    default_home,
    get_setting,
    load_public_key,
    open_workspace,
    public_key_fingerprint,
)

__all__ = [
    "CONFIG_FILE",
    "Workspace",
    "create_workspace",
    "default_home",
    "get_setting",
    "load_public_key",
    "open_workspace",
    "public_key_fingerprint",
]
