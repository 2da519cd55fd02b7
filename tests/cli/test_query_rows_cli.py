"""Query output stays in the boundary: summaries are shown, rows only as the area allows."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from cli_helpers import Shell
from test_vault_cli import shell  # noqa: F401  (the fixture: an area, a dataset, ada granted)


@pytest.fixture
def marker(shell: Shell, tmp_path: Path) -> str:  # noqa: F811
    mark = f"MARKER{secrets.token_hex(6)}"
    src = tmp_path / "ashe.csv"
    src.write_text(
        "nino,region,pay\n" + "".join(f"{mark}{i},{'NS'[i % 2]},{100 + i}\n" for i in range(50))
    )
    shell.ok("iris", "dataset", "ingest", "earnings", str(src), "--name", "ashe")
    return mark


def _audited(sh: Shell, action: str = "area.query") -> list[dict[str, object]]:
    """The details of each ``action`` event, newest first."""
    out = sh.ok("root", "audit", "log", "--action", action, "--json")
    events = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return [e["details"] for e in sorted(events, key=lambda e: -e["seq"])]


def test_select_star_with_show_prints_no_row_and_is_audited(
    shell: Shell,  # noqa: F811
    marker: str,
) -> None:
    for sql in (
        "SELECT * FROM ashe",
        "SELECT nino FROM ashe LIMIT 5",
        "SELECT list(nino) FROM ashe",  # one row carrying a whole column
        "SELECT string_agg(nino, ',') AS s FROM ashe",
        "SELECT region, nino FROM ashe GROUP BY ALL",
        "SELECT max(nino) OVER () FROM ashe",
    ):
        attempt = shell.run("ada", "query", "earnings", sql, "--show", "100000", "--json")
        assert attempt.exit_code == 0, attempt.output
        assert marker not in attempt.output, sql
        shown = json.loads(attempt.stdout)["shown"]
        assert shown["rows"] == [] and shown["withheld"], sql
        assert "not shown" in attempt.stderr and "--max-rows" in attempt.stderr
    last = _audited(shell)[0]
    assert last["shown_rows"] == 0 and last["withheld"] and last["summary"] is False


def test_summaries_are_shown_and_hashed(shell: Shell, marker: str) -> None:  # noqa: F811
    q = shell.ok("ada", "query", "earnings", "SELECT region, avg(pay) AS m FROM ashe GROUP BY 1")
    assert {line.split()[0] for line in q.stdout.splitlines()[1:3]} == {"N", "S"}
    details = _audited(shell)[0]
    assert details["summary"] is True and details["shown_rows"] == 2
    assert isinstance(details["shown_sha256"], str) and len(details["shown_sha256"]) == 64


def test_a_summary_of_more_groups_than_allowed_is_a_listing(
    shell: Shell,  # noqa: F811
    marker: str,
) -> None:
    # one group per record: below the group cap it shows, as a summary may
    few = shell.ok("ada", "query", "earnings", "SELECT nino, count(*) FROM ashe GROUP BY nino")
    assert marker in few.stdout
    # ... but over range() the groups outnumber what a summary may show
    many = shell.run("ada", "query", "earnings", "SELECT r, count(*) FROM ashe, range(10) t(r) "
                     "CROSS JOIN range(30) u(s) GROUP BY r, s")  # fmt: skip
    assert many.exit_code == 0 and "not shown" in many.stderr


def test_max_rows_lets_an_area_show_rows_and_only_administrators_set_it(
    shell: Shell,  # noqa: F811
    marker: str,
) -> None:
    denied = shell.run("iris", "area", "set", "earnings", "--max-rows", "10")
    assert denied.exit_code != 0 and "administrator" in denied.output
    assert (
        json.loads(shell.ok("root", "area", "show", "earnings", "--json").stdout)["max_rows"] == 0
    )
    shell.ok("root", "area", "set", "earnings", "--max-rows", "10")
    assert "at most 10" in shell.ok("root", "area", "show", "earnings").stdout
    small = shell.ok("ada", "query", "earnings", "SELECT nino FROM ashe ORDER BY pay LIMIT 3")
    assert f"{marker}0" in small.stdout
    details = _audited(shell)[0]
    assert details["shown_rows"] == 3 and details["withheld"] is None
    big = shell.run("ada", "query", "earnings", "SELECT nino FROM ashe", "--show", "5")
    assert big.exit_code == 0 and marker not in big.stdout and "at most 10" in big.stderr
    assert _audited(shell, "area.set_max_rows") == [{"max_rows": 10, "was": 0}]
    too_many = shell.run("root", "area", "set", "earnings", "--max-rows", "100001")
    assert too_many.exit_code != 0 and "100000" in too_many.output
