"""The README works when pasted: every `sh` and `python` block runs, in order, as written.

The blocks run in one bash session from the project root, as a reader would paste them
(the walkthrough moves itself to a scratch folder). `console` blocks are the `make`
targets (`make test` inside the test suite would recurse); they may hold nothing else.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def _script(blocks: list[tuple[str, str]]) -> str:
    # a block that fails after `server start &` must not leave the server holding the
    # output pipe open: the test would hang until its timeout instead of failing
    parts = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for language, body in blocks:
        if language == "sh":
            parts.append(body)
        elif language == "python":
            parts.append(f"python - <<'README_PYTHON'\n{body}README_PYTHON")
    return "\n".join(parts) + "\n"


def test_console_blocks_hold_only_make_targets() -> None:
    blocks = _blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert {language for language, _ in blocks} <= {"sh", "python", "console", ""}
    for language, body in blocks:
        if language == "console":
            commands = [line for line in body.splitlines() if line and not line.startswith(" ")]
            assert all(line.startswith("make ") for line in commands), body


def test_every_block_of_the_readme_runs_as_written(tmp_path: Path) -> None:
    blocks = _blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    runnable = [b for b in blocks if b[0] in ("sh", "python")]
    assert len(runnable) >= 6, "the walkthrough's blocks were not found"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVESAFES_")}
    # The README puts .venv/bin first; where the suite runs from another environment,
    # its own interpreter's scripts are next.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TMPDIR"] = str(tmp_path)
    env["NO_COLOR"] = "1"
    script = tmp_path / "readme.sh"
    script.write_text(_script(runnable), encoding="utf-8")
    done = subprocess.run(
        ["bash", str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, f"README failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    # the walkthrough's scratch folder (other sections make their own beside it)
    walk = next(p for p in tmp_path.iterdir() if (p / "workspace").is_dir())
    assert (walk / "workspace" / "releases" / "REL-0001").is_dir()
    assert (walk / "outputs" / "results.json").is_file()
    # the sum table has its folder for release submit; the mean has none (README says so)
    assert sorted(p.name for p in (walk / "outputs" / "tables").iterdir()) == ["output_0"]
    assert "audit log OK" in done.stdout


def test_the_wrapper_runs_the_virtualenv_fivesafes(tmp_path: Path) -> None:
    (tmp_path / "fivesafes").write_bytes((ROOT / "fivesafes").read_bytes())
    (tmp_path / "fivesafes").chmod(0o755)
    missing = subprocess.run(
        [str(tmp_path / "fivesafes"), "--version"], capture_output=True, text=True, check=False
    )
    assert missing.returncode == 127 and "make venv" in missing.stderr
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "fivesafes").symlink_to(Path(sys.executable).parent / "fivesafes")
    done = subprocess.run(
        [str(tmp_path / "fivesafes"), "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "fivesafes, version" in done.stdout
