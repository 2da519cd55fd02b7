"""``python -m fivesafes`` is the ``fivesafes`` command."""

from __future__ import annotations

import runpy

import pytest


def test_python_dash_m_runs_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["fivesafes", "table", "show", "--help"])
    with pytest.raises(SystemExit) as done:
        runpy.run_module("fivesafes", run_name="__main__", alter_sys=True)
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: fivesafes table show") and "--checker" in out
