"""Every file the table commands write for the user: whole, 0600, never through a link.

``table audit`` places audit.csv and audit.json beside the table it audits (both or
neither; the folder's other files are left alone); ``table export --out`` is replaced
whole, as ``table protect --out`` is; ``table show --html`` and ``table hierarchy --out``
write one file through a temporary file renamed into place.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from test_table_audit import RECT, _cells, _setup
from test_table_out import protect

from fivesafes.cli import output_folder
from fivesafes.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def audit(spec: Path, cells: Path, *extra: str) -> Result:
    return run("table", "audit", str(spec), "--cells", str(cells), *extra)


# --- table audit -------------------------------------------------------------------------


def test_an_audit_beside_cells_leaves_the_other_files_and_is_private(tmp_path: Path) -> None:
    spec, cells = _setup(tmp_path, _cells(5.0, RECT))
    (cells.parent / "notes.txt").write_text("mine")
    done = audit(spec, cells)
    assert done.exit_code == 0, done.stderr
    folder = cells.parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "audit.csv",
        "audit.json",
        "cells.csv",
        "notes.txt",
    ]
    assert mode(folder / "audit.csv") == mode(folder / "audit.json") == 0o600


def test_an_audit_into_a_protect_output_folder_keeps_the_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert protect(tmp_path, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    spec = tmp_path / "sales.toml"
    done = audit(spec, out / "cells.csv", "--out", str(out))
    assert done.exit_code == 0, done.stderr
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert {n: after[n] for n in before} == before and {*after} - {*before} == {
        "audit.csv",
        "audit.json",
    }
    assert hidden(tmp_path) == [] and hidden(out) == []


def test_a_failure_between_the_two_files_leaves_the_earlier_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the disk fills as audit.json goes in: audit.csv was already the new one, beside the
    # old audit.json (two runs' verdicts, mixed), and a traceback
    spec, cells = _setup(tmp_path, _cells(5.0, RECT))
    assert audit(spec, cells).exit_code == 0
    before = {p.name: p.read_bytes() for p in cells.parent.iterdir()}
    (tmp_path / "region.csv").write_text("code,parent\n00,\n01,00\n02,00\n")
    cells.write_text(cells.read_text().replace(",5.0,5.0", ",6.0,6.0"))
    before["cells.csv"] = cells.read_bytes()
    real = os.replace

    def full(src: Any, dst: Any) -> None:
        # the new audit.json moving in (an earlier one put back is not new data)
        if Path(dst).name == "audit.json" and not str(src).endswith(".old"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", full)
    done = audit(spec, cells)
    assert done.exit_code == 2, done.stderr
    assert "error [output]" in done.stderr and "No space left" in done.stderr
    assert {p.name: p.read_bytes() for p in cells.parent.iterdir()} == before


@pytest.mark.parametrize("where", ["audit.csv", "--out"])
def test_an_audit_never_writes_through_a_symbolic_link(tmp_path: Path, where: str) -> None:
    spec, cells = _setup(tmp_path, _cells(5.0, RECT))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if where == "--out":
        (tmp_path / "link").symlink_to(elsewhere, target_is_directory=True)
        done = audit(spec, cells, "--out", str(tmp_path / "link"))
    else:
        (elsewhere / "audit.csv").write_text("someone else's")
        (cells.parent / "audit.csv").symlink_to(elsewhere / "audit.csv")
        done = audit(spec, cells)
    assert done.exit_code == 2 and "symbolic link" in done.stderr, done.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == (
        ["audit.csv"] if where != "--out" else []
    )
    assert not (cells.parent / "audit.json").exists()


# --- table export ------------------------------------------------------------------------


def export(spec: Path, cells: Path, out: Path, tool: str = "argus") -> Result:
    return run("table", "export", str(spec), "--cells", str(cells), "--to", tool, "--out", str(out))


def test_an_export_replaces_an_earlier_export_whole(tmp_path: Path) -> None:
    spec, cells = _setup(tmp_path, _cells(5.0, RECT))
    out = tmp_path / "argus"
    assert export(spec, cells, out).exit_code == 0
    # an earlier export's hierarchy of a dimension since dropped, and its audit
    (out / "sales_industry.hrc").write_text("@1\n")
    (out / "audit.json").write_text("{}")
    done = export(spec, cells, out)
    assert done.exit_code == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["sales.rda", "sales.tab"]
    assert all(mode(p) == 0o600 for p in out.iterdir())
    assert hidden(tmp_path) == []


def test_an_export_into_a_folder_of_other_files_is_refused(tmp_path: Path) -> None:
    spec, cells = _setup(tmp_path, _cells(5.0, RECT))
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.docx").write_text("mine")
    done = export(spec, cells, home)
    assert done.exit_code == 2 and "error [output]" in done.stderr
    assert "thesis.docx" in done.stderr
    assert sorted(p.name for p in home.iterdir()) == ["thesis.docx"]


def test_an_export_into_the_current_folder_or_a_link_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, cells = _setup(tmp_path, _cells(5.0, RECT))
    (tmp_path / "link").symlink_to(cells.parent, target_is_directory=True)
    monkeypatch.chdir(cells.parent)
    for out, words in ((Path("."), "current folder"), (tmp_path / "link", "symbolic link")):
        done = export(spec, cells, out)
        assert done.exit_code == 2 and words in done.stderr, done.stderr
    assert sorted(p.name for p in cells.parent.iterdir()) == ["cells.csv"]


def test_ctrl_c_during_an_export_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fivesafes.sdc.formats import export as export_module

    spec, cells = _setup(tmp_path, _cells(5.0, RECT))
    calls: list[int] = []

    def interrupted(data: bytes) -> Any:
        def write(path: Path) -> None:
            calls.append(1)
            if len(calls) == 2:  # the first file is written
                raise KeyboardInterrupt
            path.write_bytes(data)

        return write

    monkeypatch.setattr(export_module, "_bytes_writer", interrupted)
    out = tmp_path / "new" / "argus"
    done = export(spec, cells, out)
    assert done.exit_code == 130 and "interrupted" in done.stderr
    assert not (tmp_path / "new").exists()


# --- table show --html, table hierarchy --out ----------------------------------------------


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shown")
    out = root / "out"
    assert protect(root, out).exit_code == 0
    return out


def test_show_html_is_private_and_never_written_through_a_link(shown: Path, tmp_path: Path) -> None:
    page = tmp_path / "table.html"
    done = run("table", "show", str(shown), "--html", str(page), "--quiet")
    assert done.exit_code == 0, done.stderr
    assert mode(page) == 0o600 and hidden(tmp_path) == []
    victim = tmp_path / "victim.html"
    victim.write_text("someone else's")
    link = tmp_path / "link.html"
    link.symlink_to(victim)
    done = run("table", "show", str(shown), "--checker", "--html", str(link), "--quiet")
    assert done.exit_code == 2 and "symbolic link" in done.stderr, done.stderr
    assert link.is_symlink() and victim.read_text() == "someone else's"


def test_hierarchy_out_is_never_written_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.hrc"
    victim.write_text("someone else's")
    link = tmp_path / "region.hrc"
    link.symlink_to(victim)
    done = run(
        "table", "hierarchy", str(EXAMPLES / "region.csv"), "--to", "hrc", "--out", str(link)
    )
    assert done.exit_code == 2 and "symbolic link" in done.stderr, done.stderr
    assert link.is_symlink() and victim.read_text() == "someone else's"
    new = tmp_path / "sub" / "region.hrc"  # its folder is created, as before
    done = run("table", "hierarchy", str(EXAMPLES / "region.csv"), "--to", "hrc", "--out", str(new))
    assert done.exit_code == 0, done.stderr
    assert mode(new) == 0o600 and hidden(new.parent) == []


def test_the_file_writers_roll_back_every_file_on_a_failed_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text("old a")
    real = os.replace

    def failing(src: Any, dst: Any) -> None:
        if Path(dst).name == "c.txt" and not str(src).endswith(".old"):
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    writers = {n: output_folder.text_file(f"new {n}") for n in ("a.txt", "b.txt", "c.txt")}
    with pytest.raises(Exception, match="Input/output error"):
        output_folder.place_files(tmp_path, writers, option="--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
    assert (tmp_path / "a.txt").read_text() == "old a"
