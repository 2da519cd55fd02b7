"""Helpers shared by the CLI tests: a shell that runs ``fivesafes`` as a user, the register builder.

Tests are not packages; this module is imported by name from the test files beside it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from click.testing import CliRunner, Result

from fivesafes.cli.main import cli


class Shell:
    """``fivesafes`` on one workspace, as whichever user a call names."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.runner = CliRunner()

    def run(self, user: str | None, *args: str) -> Result:
        """Run a command as ``user`` (None: no FIVESAFES_USER, e.g. for ``init``)."""
        env = {"FIVESAFES_HOME": str(self.home)}
        if user:
            env["FIVESAFES_USER"] = user
        return self.runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    def ok(self, user: str | None, *args: str) -> Result:
        """Run a command that must succeed."""
        result = self.run(user, *args)
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
