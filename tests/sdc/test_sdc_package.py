"""``fivesafes.sdc`` imports a name's submodule when the name is first used.

Its ``__init__`` imported every submodule (pandas, SciPy, HiGHS, DuckDB: seconds), so a
constant in a command's --help cost every command as much.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import fivesafes.sdc


def test_every_public_name_is_its_submodules_object() -> None:
    for name in fivesafes.sdc.__all__:
        if name == "tabulate":
            continue
        module, attribute = fivesafes.sdc._WHERE[name]
        where = importlib.import_module(f"fivesafes.sdc.{module}")
        assert getattr(fivesafes.sdc, name) is getattr(where, attribute), name
    assert set(fivesafes.sdc._WHERE) | {"tabulate"} == set(fivesafes.sdc.__all__)
    with pytest.raises(AttributeError):
        _ = fivesafes.sdc.nothing_of_that_name


def test_tabulate_is_the_function_also_after_its_subpackage_is_imported() -> None:
    probe = (
        "import fivesafes.sdc as sdc; import fivesafes.sdc.tabulate; "
        "from fivesafes.sdc import tabulate; "
        "from fivesafes.sdc.tabulate.duckdb_tabulator import tabulate as f; "
        "assert tabulate is f and sdc.tabulate is f; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_importing_the_library_or_a_spec_constant_imports_no_table_library() -> None:
    probe = (
        "import json, sys; import fivesafes.sdc; "
        "from fivesafes.sdc import SECONDARY_METHODS, RuleSet, SILENT; "
        "print(json.dumps(sorted(m for m in ('pandas', 'scipy', 'duckdb', 'highspy', "
        "'openpyxl') if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
