"""``fivesafes.vault`` imports a submodule's names when first used.

Its ``__init__`` imported every submodule, ingest's table code (pandas, SciPy, DuckDB)
among them, so touching a key or the store cost every command seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import fivesafes.vault
from fivesafes.vault import shred
from fivesafes.vault.shred import shred as shred_function


def test_the_package_names_are_the_submodules_objects() -> None:
    for name in fivesafes.vault.__all__:
        module = fivesafes.vault._WHERE.get(name, "shred")
        where = sys.modules.get(f"fivesafes.vault.{module}") or __import__(
            f"fivesafes.vault.{module}", fromlist=[name]
        )
        assert getattr(fivesafes.vault, name) is getattr(where, name), name
    assert shred is shred_function and callable(fivesafes.vault.shred)
    with pytest.raises(AttributeError):
        _ = fivesafes.vault.nothing_of_that_name


def test_a_key_or_the_store_imports_no_table_library() -> None:
    probe = (
        "import json, sys; import fivesafes.vault.keys, fivesafes.vault.store; "
        "import fivesafes.vault.shred; from fivesafes.vault import shred; assert callable(shred); "
        "print(json.dumps(sorted(m for m in ('pandas', 'scipy', 'duckdb', 'highspy') "
        "if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
