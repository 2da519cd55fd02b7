"""The operations' registry: a CLI command in process imports only its operation's module.

``fivesafes.server.operations`` imported every ``operations_*`` module, and with them
the table code (pandas, SciPy, DuckDB, ...), for ``people list`` too. An operation is
now found through its name's first part; this checks that table against the lists.
"""

from __future__ import annotations

from fivesafes.server import operations


def _modules_holding(parts: tuple[tuple[str, str], ...]) -> dict[str, set[str]]:
    held: dict[str, set[str]] = {}
    for module, attribute in parts:
        for op in operations._part(module, attribute):
            held.setdefault(op.name, set()).add(module)
    return held


def test_every_operation_is_found_by_its_first_name_part_without_importing_all() -> None:
    held = _modules_holding(operations._PARTS)
    for name in operations.OPERATIONS:
        if name in operations._OWN_BY_NAME:
            assert name not in held, name
            continue
        assert held[name] & set(operations._MODULES_OF[name.split(".")[0]]), name


def test_every_upload_is_found_by_its_first_name_part() -> None:
    held = _modules_holding(operations._UPLOAD_PARTS)
    assert set(held) == set(operations.UPLOADS)
    for name in operations.UPLOADS:
        assert held[name] & set(operations._MODULES_OF[name.split(".")[0]]), name


def test_the_registry_lists_every_operation_once_in_the_same_order() -> None:
    own = [op.name for op in operations._OWN]
    parts = [op.name for part in operations._PARTS for op in operations._part(*part)]
    names = [*own, *parts, "auth.password"]
    assert list(operations.OPERATIONS) == names and len(set(names)) == len(names)
