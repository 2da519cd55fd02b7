"""``table protect`` tells its progress on stderr (unless --quiet) and its audit verdict."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from click.testing import CliRunner
from test_table import case, data

from fivesafes.cli.main import cli
from fivesafes.cli.progress import StderrProgress


def _protect(tmp_path: Path, *extra: str) -> object:
    return CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            str(case(tmp_path)),
            "--data",
            str(data(tmp_path)),
            "--out",
            str(tmp_path / "out"),
            "--secondary",
            "fast",
            *extra,
        ],
    )


def test_the_summary_and_its_json_carry_the_audit_verdict(tmp_path: Path) -> None:
    res = _protect(tmp_path, "--json", "--quiet")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    (summary,) = json.loads(res.stdout)["tables"]  # type: ignore[attr-defined]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert summary["audit"]["run"] is True
    assert summary["audit"]["safe"] is report["audit"]["safe"] is True
    assert summary["audit"]["lp_count"] == report["audit"]["lp_count"]
    text = _protect(tmp_path, "--quiet")
    assert "audit: safe:" in text.output  # type: ignore[attr-defined]


def test_quiet_leaves_stderr_empty(tmp_path: Path) -> None:
    res = _protect(tmp_path, "--quiet")
    assert res.exit_code == 0  # type: ignore[attr-defined]
    assert res.stderr == ""  # type: ignore[attr-defined]


def test_without_an_audit_the_summary_says_so(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli,
        [
            "table",
            "protect",
            str(case(tmp_path)),
            "--data",
            str(data(tmp_path)),
            "--out",
            str(tmp_path / "out"),
            "--secondary",
            "none",
            "--json",
            "--quiet",
        ],
    )
    (summary,) = json.loads(res.stdout)["tables"]
    assert summary["audit"]["run"] is False and summary["audit"]["safe"] is False


def test_a_stage_of_a_second_or_more_leaves_a_line_and_a_quick_one_none() -> None:
    out = io.StringIO()
    with StderrProgress(out) as progress:
        progress.start("quick")
        progress.finish("quick", "nothing to see")
        progress.start("slow", total=3)
        progress.advance("slow", 2, detail="2 LPs")
        time.sleep(1.05)
        progress.finish("slow", "safe, 3 LPs")
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert any(line.startswith("slow: safe, 3 LPs (") for line in lines)
    assert not any("quick" in line for line in lines)


def test_a_log_file_gets_the_stage_lines_and_no_stray_blank_line() -> None:
    # stderr redirected to a file (a log, a batch job): the lines of finished stages only
    out = io.StringIO()
    with StderrProgress(out) as progress:
        progress.start("slow")
        time.sleep(1.05)
        progress.finish("slow", "done")
    assert out.getvalue().startswith("slow: done (")
    assert "\n\n" not in out.getvalue() and not out.getvalue().startswith("\n")


def test_without_quiet_an_error_leaves_only_the_error_on_stderr(tmp_path: Path) -> None:
    spec = case(tmp_path)
    spec.write_text(spec.read_text().replace('name = "industry"', 'name = "nope"'))
    res = CliRunner().invoke(
        cli, ["table", "protect", str(spec), "--data", str(data(tmp_path)), "--out", "o"]
    )
    assert res.exit_code == 2
    assert res.stderr.startswith("error [data]: the data have no column for dimension 'nope'")
