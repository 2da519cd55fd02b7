"""docs/releases.md shows the workflow diagram generated from the workflow tables."""

from __future__ import annotations

import re
from pathlib import Path

from fivesafes.release.workflow import mermaid

DOC = Path(__file__).resolve().parents[2] / "docs" / "releases.md"


def test_the_docs_diagram_is_the_generated_one() -> None:
    blocks = re.findall(r"```mermaid\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks == [mermaid()]
