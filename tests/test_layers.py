"""The layers of docs/architecture.md hold: dependencies point down, and only down.

The import-linter contracts in pyproject.toml (``lint-imports``) say: no package imports
one above it; domain rules and libraries use no database (no SQLAlchemy, Alembic,
driver or ``store``); the edges never import ``store``. The checks below add what a
contract cannot say in general: ``sdc`` is a library on its own (it imports nothing of
fivesafes but ``errors``, whatever packages are added later), and code outside ``sdc``
uses its public face. Both read the source (grimp), not what one run happened to import.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
# What code outside sdc may import: the library's face, and the engine seam for engines.
SDC_FACES = {"fivesafes.sdc", "fivesafes.sdc.tabulate"}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """Every import in the fivesafes package, read from its source."""
    return grimp.build_graph("fivesafes", include_external_packages=True, cache_dir=None)


def _imports(graph: grimp.ImportGraph, package: str) -> dict[str, set[str]]:
    """``module -> fivesafes modules it imports`` for every module of ``package``."""
    modules = {package} | graph.find_descendants(package)
    return {
        m: {i for i in graph.find_modules_directly_imported_by(m) if i.startswith("fivesafes")}
        for m in modules
    }


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_sdc_imports_nothing_of_fivesafes_but_errors(graph: grimp.ImportGraph) -> None:
    allowed = {"fivesafes", "fivesafes.errors"}  # the root gives the version, errors the errors
    wrong = {
        m: sorted(i for i in imported if i not in allowed and not i.startswith("fivesafes.sdc"))
        for m, imported in _imports(graph, "fivesafes.sdc").items()
    }
    assert not {m: w for m, w in wrong.items() if w}, "sdc must stay usable alone"


def test_code_outside_sdc_uses_its_public_face(graph: grimp.ImportGraph) -> None:
    inside = {"fivesafes.sdc"} | graph.find_descendants("fivesafes.sdc")
    wrong = {}
    for module in sorted(graph.modules):
        if module in inside or not module.startswith("fivesafes"):
            continue
        internal = {
            i
            for i in graph.find_modules_directly_imported_by(module)
            if i in inside and i not in SDC_FACES
        }
        if internal:
            wrong[module] = sorted(internal)
    assert not wrong, "import these from fivesafes.sdc (its __init__ exports the public API)"


def test_every_test_module_has_a_name_of_its_own() -> None:
    """pytest imports test modules by basename (rootdir mode): two files of one name in
    different folders make collection fail for the whole run, not for one test."""
    seen: dict[str, Path] = {}
    twins = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if path.name in seen:
            twins.append(f"{seen[path.name].relative_to(ROOT)} and {path.relative_to(ROOT)}")
        seen.setdefault(path.name, path)
    assert not twins, "rename one of each pair: " + "; ".join(twins)
