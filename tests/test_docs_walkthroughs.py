"""The step-by-step pages of docs/ work when pasted, as the README does (tests/test_readme.py).

docs/governance.md sets up a demo workspace and its register; docs/researchers-and-reviews.md
goes on in it (researchers, projects, reviews). Their `sh` blocks run in order in one bash
session in a scratch folder. Before, an administrator following governance.md was refused
at `grant approve` (the owner had neither training nor the declaration), and the project
commands of researchers-and-reviews.md were refused (the administrator led and approved
the project, and the scope change named a dataset that is not registered).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGES = ("governance.md", "researchers-and-reviews.md")


def _sh_blocks(page: str) -> list[str]:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    return [body for language, body in FENCE.findall(text) if language == "sh"]


def test_the_register_and_research_pages_run_as_written(tmp_path: Path) -> None:
    blocks = [block for page in PAGES for block in _sh_blocks(page)]
    assert len(blocks) >= 6, "the pages' blocks were not found"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIVESAFES_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TMPDIR"] = str(tmp_path)
    env["NO_COLOR"] = "1"
    script = tmp_path / "docs.sh"
    script.write_text("set -euo pipefail\n" + "\n".join(blocks), encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        ["bash", str(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, f"docs failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert "ALLOWED: ada -> ashe (statistical)" in done.stdout
    assert "approved PRJ-2026-001" in done.stdout and "closed PRJ-2026-001" in done.stdout
    assert list((work / "reviews" / "2026-Q3").glob("review-*.html"))


def test_the_research_pages_python_api_imports() -> None:
    text = (ROOT / "docs" / "researchers-and-reviews.md").read_text(encoding="utf-8")
    api = [body for language, body in FENCE.findall(text) if language == "python"][-1]
    imports = "\n".join(line for line in api.splitlines() if line.startswith("from "))
    assert "services" in imports
    namespace: dict[str, object] = {}
    exec(imports, namespace)  # the listing's signatures are not code; its imports are
    for name in ("researchers", "research", "research_projects", "review"):
        assert name in namespace
    for call in re.findall(r"^(\w+)\.(\w+)\(", api, re.MULTILINE):
        assert hasattr(namespace[call[0]], call[1]), call
