"""Helpers shared by the CLI tests: a shell that runs ``fivesafes`` as a user, the register builder.

Tests are not packages; this module is imported by name from the test files beside it.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from click.testing import CliRunner, Result

from fivesafes.cli.main import cli


class Shell:
    """``fivesafes`` on one workspace, as whichever user a call names.

    ``env`` is added to the environment of every call (e.g. a key passphrase).
    """

    def __init__(self, home: Path, env: Mapping[str, str] | None = None) -> None:
        self.home = home
        self.env = dict(env or {})
        self.runner = CliRunner()

    def run(
        self,
        user: str | None,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
    ) -> Result:
        """Run a command as ``user`` (None: no FIVESAFES_USER, e.g. for ``init``).

        ``env`` adds to (or overrides) the shell's environment for this call only;
        ``stdin`` is what the command reads from its standard input.
        """
        full = {"FIVESAFES_HOME": str(self.home), **self.env, **(env or {})}
        if user:
            full["FIVESAFES_USER"] = user
        return self.runner.invoke(cli, list(args), input=stdin, env=full, catch_exceptions=False)

    def ok(self, user: str | None, *args: str, env: Mapping[str, str] | None = None) -> Result:
        """Run a command that must succeed."""
        result = self.run(user, *args, env=env)
        assert result.exit_code == 0, (args, result.output, result.stderr)
        return result


def research_world() -> ModuleType:
    """tests/services/research_world.py, the register builder shared with the service tests."""
    if "research_world" in sys.modules:
        return sys.modules["research_world"]
    path = Path(__file__).parents[1] / "services" / "research_world.py"
    spec = importlib.util.spec_from_file_location("research_world", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["research_world"] = module
    spec.loader.exec_module(module)
    return module


MANDATORY_COURSE = "Responsible for information"


def qualify(sh: Shell, *logins: str, courses: tuple[str, ...] = (MANDATORY_COURSE,)) -> None:
    """Train ``logins`` in ``courses`` today and have them sign declaration version 1 (which
    must be published): what reviewers and asset owners need, like analysts."""
    from datetime import UTC, datetime

    today = datetime.now(UTC).date().isoformat()  # the CLI's own notion of today
    for login in logins:
        for course in courses:
            sh.ok("root", "training", "record", login, course, "--date", today, "--evidence", "t")
        sh.ok(login, "declaration", "sign", "--version", "1")
