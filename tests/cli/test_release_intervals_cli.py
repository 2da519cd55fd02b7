"""``release show --intervals``: an output checker reads each hidden cell's required and
achieved interval from the audit sealed at submission; the author is refused; audited."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import Shell
from test_release_cli import protected, shell

__all__ = ["protected", "shell"]


def _submit(shell: Shell, protected: Path) -> str:
    shell.ok("root", "rules", "set", "standard", "--threshold", "3", "--note", "policy")
    sub = shell.ok(
        "ada", "release", "submit", str(protected), "--area", "earnings", "--purpose", "bulletin",
        "--dataset", "survey", "--source", "survey:turnover", "--json",
    )  # fmt: skip
    return str(json.loads(sub.stdout)["id"])


def test_a_checker_reads_the_intervals_and_the_author_is_refused(
    shell: Shell,
    protected: Path,
) -> None:
    rid = _submit(shell, protected)
    plain = shell.ok("olga", "release", "show", rid).stdout
    assert "audit intervals" not in plain and "achieved" not in plain
    shown = json.loads(shell.ok("olga", "release", "show", rid, "--intervals", "--json").stdout)
    found = shown["intervals"]
    assert found["mode"] == "exact" and found["safe"] is True and found["cells"]
    primaries = [c for c in found["cells"] if c["status"] == "primary"]
    assert primaries and all(c["required"] is not None for c in primaries)
    for c in found["cells"]:  # every achieved interval is exact here: [low, high]
        assert c["achieved"].startswith("[") and c["protected"] is True
    text = shell.ok("olga", "release", "show", rid, "--intervals").stdout
    first = primaries[0]
    where = ", ".join(f"{d}={first['codes'][d]}" for d in found["dimensions"])
    line = f"{where} (primary): required {first['required_text']}; achieved {first['achieved']}"
    assert line in text
    refused = shell.run("ada", "release", "show", rid, "--intervals")
    assert refused.exit_code != 0 and "achieved" not in refused.stdout
    log = shell.ok("root", "audit", "log", "--action", "release.inspect", "--json").stdout
    events = [json.loads(line) for line in log.splitlines()]
    assert [(e["actor"], e["outcome"]) for e in events] == [
        ("olga", "allowed"),
        ("olga", "allowed"),
        ("ada", "denied"),
    ]
