"""The vault commands end to end: ingest, query, rotate-key, destroy, retention run."""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import Shell, qualify


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    sh = Shell(tmp_path / "ws")
    sh.ok(None, "init", "--demo-identity", "--admin-login", "root", "--admin-name", "Root")
    today = datetime.now(UTC).date().isoformat()
    sh.ok("root", "people", "add", "iris", "--name", "Iris", "--role", "iao")
    sh.ok("root", "people", "add", "ada", "--name", "Ada", "--role", "analyst")
    sh.ok("root", "people", "add", "bob", "--name", "Bob", "--role", "analyst")
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


def _scan(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            if p.is_file() and needle in p.read_bytes():
                hits.append(p)
    return hits


def test_vault_flow(shell: Shell, tmp_path: Path) -> None:
    marker = f"MARKER{secrets.token_hex(6)}"
    src = tmp_path / "source" / "ashe.csv"
    src.parent.mkdir()
    src.write_text(
        "nino,region,pay\n" + "".join(f"{marker}{i},{'NS'[i % 2]},{100 + i}\n" for i in range(50))
    )
    # Only the asset owner (or an admin) ingests.
    denied = shell.run("ada", "dataset", "ingest", "earnings", str(src), "--name", "ashe")
    assert denied.exit_code == 6
    out = shell.ok("iris", "dataset", "ingest", "earnings", str(src), "--name", "ashe", "--json")
    stored = json.loads(out.stdout)
    assert stored["rows"] == 50 and stored["state"] == "stored"
    clash = shell.run("iris", "dataset", "ingest", "earnings", str(src), "--name", "ashe")
    assert clash.exit_code == 5 and "already stores" in clash.stderr

    q = shell.ok(
        "ada", "query", "earnings", "SELECT region, count(*) AS n FROM ashe GROUP BY 1 ORDER BY 1"
    )
    assert ["N", "25"] in [line.split() for line in q.stdout.splitlines()]
    assert "stored as output earnings/q-" in q.stdout
    leak = shell.ok("ada", "query", "earnings", "SELECT nino FROM ashe", "--show", "0")
    assert marker not in leak.stdout
    refused = shell.run("bob", "query", "earnings", "SELECT count(*) FROM ashe")
    assert refused.exit_code == 6 and "training" in refused.stderr and "grant" in refused.stderr
    bad = shell.run("ada", "query", "earnings", "COPY ashe TO 'x.csv'")
    assert bad.exit_code != 0
    assert _scan(shell.home, marker.encode()) == []  # nothing in plain text in the workspace

    listed = json.loads(shell.ok("iris", "dataset", "stored", "earnings", "--json").stdout)
    assert sorted(o["kind"] for o in listed) == ["dataset", "output", "output"]
    rotated = shell.ok("iris", "area", "rotate-key", "earnings")
    assert "earnings/v2" in rotated.stdout
    assert shell.ok("ada", "query", "earnings", "SELECT count(*) AS n FROM ashe").exit_code == 0

    gone = shell.ok("iris", "dataset", "destroy", "earnings", "ashe", "--reason", "test", "--yes")
    assert "destroyed" in gone.stdout
    after = shell.run("ada", "query", "earnings", "SELECT count(*) FROM ashe")
    assert after.exit_code == 4
    assert shell.ok("root", "retention", "run").stdout.strip() == "nothing due"
    history = json.loads(shell.ok("root", "dataset", "stored", "--all", "--json").stdout)
    assert [o["state"] for o in history if o["kind"] == "dataset"] == ["destroyed"]


def test_destroy_names_the_kind_when_the_name_is_stored_as_the_other(
    shell: Shell, tmp_path: Path
) -> None:
    # `dataset stored` lists datasets and outputs together; destroying an output by the
    # name it shows said only "stores no dataset named ...", with no word of --output
    src = tmp_path / "ashe.csv"
    src.write_text("region,pay\n" + "".join(f"{'NS'[i % 2]},{i}\n" for i in range(10)))
    shell.ok("iris", "dataset", "ingest", "earnings", str(src), "--name", "ashe")
    made = shell.ok("ada", "query", "earnings", "SELECT count(*) AS n FROM ashe", "--json")
    output = json.loads(made.stdout)["name"]
    wrong = shell.run("iris", "dataset", "destroy", "earnings", output, "--reason", "t", "--yes")
    assert wrong.exit_code == 4
    assert f"{output!r} is an analysis output" in wrong.stderr and "--output" in wrong.stderr
    other = shell.run(
        "iris", "dataset", "destroy", "earnings", "ashe", "--output", "--reason", "t", "--yes"
    )
    assert other.exit_code == 4
    assert "'ashe' is a dataset" in other.stderr and "without --output" in other.stderr
    shell.ok("iris", "dataset", "destroy", "earnings", output, "--output", "--reason", "t", "--yes")
