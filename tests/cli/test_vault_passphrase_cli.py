"""`fivesafes init --key-provider passphrase`: areas keyed by a passphrase, end to end."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import Shell, qualify

from fivesafes.cli import acting as acting_cli

PHRASE = "a long passphrase nobody guesses"


def _phrase(phrase: str) -> dict[str, str]:
    """The environment that gives ``phrase`` (empty: none) for the area keys."""
    return {"FIVESAFES_KEY_PASSPHRASE": phrase}


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    sh = Shell(tmp_path / "ws", env=_phrase(PHRASE))
    made = sh.ok(
        None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root",
        "--key-provider", "passphrase", "--json",
    )  # fmt: skip
    assert json.loads(made.stdout)["key_provider"] == "passphrase"
    assert 'key_provider = "passphrase"' in (sh.home / "config.toml").read_text()
    today = datetime.now(UTC).date().isoformat()
    sh.ok("root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    sh.ok("root", "people", "add", "ada", "--name", "Ada", "--role", "analyst")
    sh.ok("root", "area", "create", "earnings", "--owner", "iris")
    sh.ok(
        "iris", "dataset", "add", "ashe", "--area", "earnings", "--source", "ASHE",
        "--lawful-basis", "SRSA 2007",
    )  # fmt: skip
    text = tmp_path / "declaration.txt"
    text.write_text("I will keep confidential data confidential.\n", encoding="utf-8")
    sh.ok("root", "declaration", "publish", str(text))
    sh.ok("ada", "declaration", "sign", "--version", "1")
    sh.ok("root", "training", "record", "ada", "Responsible for information", "--date", today)
    qualify(sh, "iris")  # the owner decides on access: trained and signed too
    made = sh.ok("ada", "grant", "request", "ada", "earnings", "--justification", "t", "--json")
    sh.ok("iris", "grant", "approve", str(json.loads(made.stdout)["id"]))
    return sh


def _files_with(root: Path, needle: bytes) -> list[Path]:
    return [
        Path(d) / f
        for d, _dirs, files in os.walk(root)
        for f in files
        if needle in (Path(d) / f).read_bytes()
    ]


def test_passphrase_workspace_flow(shell: Shell, tmp_path: Path) -> None:
    src = tmp_path / "ashe.csv"
    src.write_text("nino,region,pay\n" + "".join(f"N{i},{'NS'[i % 2]},{i}\n" for i in range(40)))
    ingest = ("dataset", "ingest", "earnings", str(src), "--name", "ashe")
    missing = shell.run("iris", *ingest, env=_phrase(""))
    assert missing.exit_code == 7 and "none was given" in missing.stderr
    assert "FIVESAFES_KEY_PASSPHRASE" in missing.stderr
    assert json.loads(shell.ok("iris", "dataset", "stored", "--json").stdout) == []
    shell.ok("iris", *ingest)
    assert (shell.home / "keys" / "areas" / "earnings" / "v1.salt").is_file()
    assert _files_with(shell.home, PHRASE.encode()) == []

    sql = "SELECT sum(pay) AS s FROM ashe"
    wrong = shell.run("ada", "query", "earnings", sql, env=_phrase("not it"))
    assert wrong.exit_code == 7 and "wrong passphrase" in wrong.stderr
    assert str(sum(range(40))) in shell.ok("ada", "query", "earnings", sql).stdout

    bad_rotate = shell.run("iris", "area", "rotate-key", "earnings", env=_phrase("not it"))
    assert bad_rotate.exit_code == 7 and "wrong passphrase" in bad_rotate.stderr
    assert "earnings/v2" in shell.ok("iris", "area", "rotate-key", "earnings").stdout
    assert str(sum(range(40))) in shell.ok("ada", "query", "earnings", sql).stdout

    refused = shell.run(
        "iris", "dataset", "destroy", "earnings", "ashe", "--reason", "t", "--yes", env=_phrase("x")
    )
    assert refused.exit_code == 7
    shell.ok("iris", "dataset", "destroy", "earnings", "ashe", "--reason", "t", "--yes")


def test_the_passphrase_is_asked_for_on_a_terminal(
    shell: Shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "ashe.csv"
    src.write_text("nino,pay\nA,1\nB,2\n")
    monkeypatch.setattr(acting_cli, "_interactive", lambda: True)
    result = shell.run(
        "iris", "dataset", "ingest", "earnings", str(src), "--name", "ashe",
        env=_phrase(""), stdin=PHRASE + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "passphrase for the area keys" in result.stderr
    assert PHRASE not in result.output
    # Later commands need the same passphrase (here from the environment).
    assert "3" in shell.ok("ada", "query", "earnings", "SELECT sum(pay) AS s FROM ashe").stdout


def test_unknown_key_provider_is_refused(tmp_path: Path) -> None:
    sh = Shell(tmp_path / "ws2", env=_phrase(PHRASE))
    bad = sh.run(
        None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root",
        "--key-provider", "hsm",
    )  # fmt: skip
    assert bad.exit_code == 2 and "hsm" in bad.output + bad.stderr
    assert not (tmp_path / "ws2" / "config.toml").exists()
