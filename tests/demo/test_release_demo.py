"""The release demo runs the whole path and ends with an answer blocked by differencing."""

from __future__ import annotations

from pathlib import Path

from fivesafes.demo.release_demo import run_release_demo
from fivesafes.release.bundle import verify_bundle


def test_release_demo_publishes_then_blocks_the_differencing_answer(tmp_path: Path) -> None:
    lines = run_release_demo(tmp_path / "ws", rows=800)
    text = "\n".join(lines)
    assert "check audit: pass" in text and "check differencing: pass" in text
    # the table stays in the area, encrypted, and its source is the one the system recorded
    assert "stored encrypted as output release-demo/t-" in text
    assert "check source: pass - verified: stored output release-demo/t-" in text
    assert not list((tmp_path / "ws").rglob("cells.csv"))
    # the hand-made answer's source is only declared: the reviewers are told so
    assert "check source: review - source declared by the author, not verified" in text
    assert "oscar.checker approved -> approved" in text
    assert "published REL-0001" in text
    verify_bundle(tmp_path / "ws" / "releases" / "REL-0001")
    blocked = lines.index("  approval BLOCKED by the differencing check:")
    reasons = "\n".join(lines[blocked + 1 :])
    assert "is determined exactly by" in reasons and "request 2 v1(" in reasons
    # read as a report: one disclosure per line, none of them a wall of text
    assert max(len(line) for line in lines) < 300, max(lines, key=len)
    assert "hidden:" in text and "cells (" in text
