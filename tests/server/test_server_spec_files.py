"""Attacks on the files a spec names, sent to the server (``table protect --dataset``,
``release submit FOLDER --spec``): the server reads only what the client sent, written in
a private folder of its own, never a path the spec names on the server's machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from fivesafes.errors import SpecError
from fivesafes.sdc import generate_ptable, load_spec, ptable_identity
from fivesafes.server.operations_tables import SpecText, spec_in, spec_text
from fivesafes.server.upload import scratch_folder

SPEC = """\
[table]
name = "t"
protection = "cellkey"

[[dimension]]
name = "region"

[perturbation]
D = 2
V = 1.0
js = 2
{key} = "{path}"
"""


def _folder(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    return scratch_folder(tmp_path / "ws")  # ws/uploads/PID-XXXX, as the server makes it


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file of the server's machine, shaped like a ptable, with a value to leak."""
    path = tmp_path / "server-only" / "secret.csv"
    path.parent.mkdir()
    path.write_text("i,j,p\n0,0,SECRET-42\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("key", ["ptable", "magnitude_ptable"])
@pytest.mark.parametrize("absolute", [True, False])
def test_a_spec_sent_cannot_name_a_file_on_the_server(
    tmp_path: Path, secret: Path, key: str, absolute: bool
) -> None:
    folder = _folder(tmp_path)
    named = str(secret) if absolute else str(Path("..", "..", "..", "server-only", "secret.csv"))
    sent = SpecText(text=SPEC.format(key=key, path=named), hierarchies=[])
    # before: the spec came back naming the server's file, read later by the cell key method
    # (its identity hashed into the register, its values quoted in the errors)
    with pytest.raises(SpecError, match="was not sent") as refused:
        spec_in(folder, 0, sent)
    assert "SECRET" not in str(refused.value) and "the CLI sends it" in (refused.value.hint or "")


def test_a_ptable_sent_with_the_spec_is_read_from_the_servers_folder(tmp_path: Path) -> None:
    mine = tmp_path / "client"
    (mine / "pt").mkdir(parents=True)
    (mine / "pt" / "counts.csv").write_bytes(generate_ptable(2, 1.0, 2).to_csv().encode())
    (mine / "spec.toml").write_text(SPEC.format(key="ptable", path="pt/counts.csv"))
    loaded = load_spec(mine / "spec.toml")
    sent = spec_text(loaded)
    assert sent.ptables == {"ptable": (mine / "pt" / "counts.csv").read_text()}
    folder = _folder(tmp_path)
    got = spec_in(folder, 0, sent).perturbation.ptable
    assert got is not None and got.resolve().is_relative_to(folder.resolve())
    # the same bytes: the register's identity of the ptable is the client's file's
    assert ptable_identity(got) == ptable_identity(loaded.perturbation.ptable)
