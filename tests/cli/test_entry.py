"""Ctrl-C while ``fivesafes`` starts (its modules import for a second or more).

It raised KeyboardInterrupt out of the import, before the command group could word it:
a Python traceback and exit status -2 instead of ``error [interrupted]`` and 130.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from importlib.abc import MetaPathFinder
from pathlib import Path
from typing import Any

import pytest

from fivesafes.cli import entry

ROOT = Path(__file__).resolve().parents[2]


class _CtrlCWhileImporting(MetaPathFinder):
    """Ctrl-C pressed while the command line's modules import."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "fivesafes.cli.main":
            raise KeyboardInterrupt
        return None


@pytest.fixture
def ctrl_c_at_import(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delitem(sys.modules, "fivesafes.cli.main", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_CtrlCWhileImporting(), *sys.meta_path])
    before = signal.getsignal(signal.SIGINT)
    yield
    # the entry point, done, ignores Ctrl-C (the process is exiting); this one goes on,
    # and the processes the later tests start would inherit the ignored signal
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    signal.signal(signal.SIGINT, before)


def test_ctrl_c_at_import_is_an_interrupted_error(
    ctrl_c_at_import: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["fivesafes", "table", "protect", "--help"])
    with pytest.raises(SystemExit) as done:
        entry.main()
    assert done.value.code == 130
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error [interrupted]: ") and "Traceback" not in err
    assert "what to do: run the command again" in err


def test_with_json_the_interruption_is_json_on_stdout(
    ctrl_c_at_import: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["fivesafes", "table", "protect", "x.toml", "--json"])
    with pytest.raises(SystemExit):
        entry.main()
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "interrupted" and error["exit_status"] == 130


def test_the_console_script_and_python_m_use_the_entry() -> None:
    # the script pip writes imports its module at the top: that import must be light
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["fivesafes"] == "fivesafes.cli.entry:main"
    python_m = (ROOT / "src/fivesafes/__main__.py").read_text()
    assert "from fivesafes.cli.entry import main" in python_m


# as pip's console script does it: import the entry point, then call it
SCRIPT = """\
import sys
from {module} import {function}
print("started", file=sys.stderr, flush=True)
sys.exit({function}())
"""


def _signalled_while_starting(delay: float) -> subprocess.CompletedProcess[str] | None:
    """Run ``fivesafes --version`` and press Ctrl-C ``delay`` s after it started; None if
    the signal came too late (the command had already finished)."""
    module, function = entry.__name__, entry.main.__name__
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(module=module, function=function), "--version"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    assert proc.stderr.readline() == "started\n"  # the entry point is in place
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        return None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_ctrl_c_in_the_first_moments_of_a_real_process() -> None:
    for delay in (0.2, 0.05, 0.0):  # the import takes about a second: retried sooner if not
        done = _signalled_while_starting(delay)
        if done is not None:
            break
    else:
        pytest.fail("the command finished before Ctrl-C could reach its start-up")
    assert done.returncode == 130, done.stderr
    assert done.stderr.startswith("error [interrupted]: "), done.stderr
    assert "Traceback" not in done.stderr


# Ctrl-C (or SIGTERM) while click parses the command line: the group's own parse step,
# before any command runs. Click worded it "Aborted!" with exit status 1 (and SIGTERM,
# its default action not yet replaced, ended the process with -15).


@pytest.fixture
def ctrl_c_while_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from fivesafes.cli.main import FivesafesGroup

    parse = FivesafesGroup.parse_args

    def interrupted(self: Any, ctx: Any, args: list[str]) -> list[str]:
        parse(self, ctx, args)  # the whole parse done: the interrupt comes at its very end
        raise KeyboardInterrupt

    monkeypatch.setattr(FivesafesGroup, "parse_args", interrupted)


def test_ctrl_c_while_parsing_is_an_interrupted_error(ctrl_c_while_parsing: None) -> None:
    from click.testing import CliRunner

    from fivesafes.cli.main import cli

    done = CliRunner().invoke(cli, ["table", "protect", "--help"])
    assert done.exit_code == 130, done.output
    assert done.stdout == ""
    assert done.stderr.startswith("error [interrupted]: ") and "Aborted" not in done.stderr
    assert "nothing was done" in done.stderr
    assert "what to do: run the command again" in done.stderr


def test_ctrl_c_while_parsing_with_json_is_json_on_stdout(ctrl_c_while_parsing: None) -> None:
    from click.testing import CliRunner

    from fivesafes.cli.main import cli

    done = CliRunner().invoke(cli, ["table", "protect", "x.toml", "--json"])
    assert done.exit_code == 130, done.output
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "interrupted" and error["exit_status"] == 130
    assert "Aborted" not in done.stderr


# the signal sent from the parse step itself: it is pending when the parse returns
STOPPED_WHILE_PARSING = """\
import os, signal, sys
from fivesafes.cli import entry
from fivesafes.cli.main import FivesafesGroup

parse = FivesafesGroup.parse_args

def stopped(self, ctx, args):
    os.kill(os.getpid(), signal.{signal})
    return parse(self, ctx, args)

FivesafesGroup.parse_args = stopped
sys.argv = ["fivesafes", *sys.argv[1:]]
entry.main()
"""


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_a_signal_while_parsing_in_a_real_process(signum: str, json_flag: tuple[str, ...]) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            STOPPED_WHILE_PARSING.format(signal=signum),
            "table",
            "protect",
            "x.toml",
            *json_flag,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.startswith("error [interrupted]: "), done.stderr
    assert "Aborted" not in done.stderr and "Traceback" not in done.stderr
    if json_flag:
        assert json.loads(done.stdout)["error"]["code"] == "interrupted"
    else:
        assert done.stdout == ""
