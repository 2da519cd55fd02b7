"""Fuzz every parser of outside input: whatever comes in, a FivesafesError (code + hint) or a
result, never a traceback, and nothing half-written.

The bounded run here is part of `make test` (FIVESAFES_FUZZ_EXAMPLES examples per parser,
default 40); `make fuzz` runs thousands. Targets: CSV and Parquet ingest, the table spec
(TOML), hierarchy CSV files, the cells.csv that `table audit` reads, and the release
folder that `release submit` reads, and the backup archive that `restore` reads.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fivesafes.cli.table_audit import read_cells_csv
from fivesafes.errors import FivesafesError
from fivesafes.release.submission import read_table_dir
from fivesafes.sdc import Hierarchy, audit_table, load_spec, parse_spec, spec_hierarchies
from fivesafes.sdc.audit.inputs import read_audit_cells
from fivesafes.vault import AreaStore, FileKeyProvider, ingest_file
from fivesafes.vault.store import STAGING

EXAMPLES = int(os.environ.get("FIVESAFES_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Tokens that have broken CSV readers and number parsers before.
TOKENS = st.sampled_from(
    [
        "",
        "0",
        "01",
        "-1",
        "1e309",
        "-1e309",
        "NaN",
        "nan",
        "inf",
        "NA",
        "NULL",
        "null",
        "1,5",
        '"',
        '""',
        "'",
        "=1+1",
        "\t",
        " ",
        "é",
        "\u0000",
        "9" * 30,
        "0x10",
        "true",
        "safe",
        "primary",
        "secondary",
        "Total",
        "\r",
        "\n",
    ]
)
FIELD = st.one_of(TOKENS, st.text(max_size=8), st.integers().map(str), st.floats().map(repr))


def _csv_text(draw_rows: list[list[str]]) -> str:
    def quote(field: str) -> str:
        return '"' + field.replace('"', '""') + '"' if any(c in field for c in ',"\n\r') else field

    return "\n".join(",".join(quote(f) for f in row) for row in draw_rows)


@st.composite
def csv_documents(draw: st.DrawFn, header: list[str] | None = None) -> bytes:
    """A CSV (mostly well-formed, sometimes ragged or binary) with hostile fields."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    cols = header or draw(st.lists(st.one_of(TOKENS, st.text(max_size=6)), min_size=1, max_size=5))
    width = len(cols)
    rows = draw(
        st.lists(
            st.lists(FIELD, min_size=max(0, width - 1), max_size=width + 1),
            max_size=12,
        )
    )
    text = _csv_text([cols, *rows])
    if draw(st.booleans()):
        text += "\n"
    return (
        text.encode("utf-8", errors="surrogatepass")
        if draw(st.booleans())
        else text.encode("utf-8", errors="replace")
    )


def _only_fivesafes_errors(fn: Callable[[], Any]) -> Any:
    """Run ``fn``: a result, or a FivesafesError with a code and a message; nothing else."""
    try:
        return fn()
    except FivesafesError as exc:
        assert exc.code and exc.message, exc
        return None


def _ingested_nothing(store: AreaStore) -> bool:
    staging = store.dir / STAGING
    return store.names() == [] and (not staging.exists() or not any(staging.iterdir()))


@FUZZ
@given(doc=csv_documents())
def test_csv_ingest(doc: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        provider = FileKeyProvider(root / "keys")
        provider.create_key("a")
        store = AreaStore(root / "areas", "a")
        store.create()
        src = root / "in.csv"
        src.write_bytes(doc)
        done = _only_fivesafes_errors(
            lambda: ingest_file(store, provider, src, name="d", ingested_by="fuzz")
        )
        if done is None:
            assert _ingested_nothing(store)
        else:
            assert store.names() == ["d"] and done.rows > 0


@FUZZ
@given(
    doc=st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=200).map(lambda b: b"PAR1" + b + b"PAR1"),
    ),
    valid=st.booleans(),
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5),
)
def test_parquet_ingest(doc: bytes, valid: bool, values: list[float]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        provider = FileKeyProvider(root / "keys")
        provider.create_key("a")
        store = AreaStore(root / "areas", "a")
        store.create()
        src = root / "in.parquet"
        if valid:
            pq.write_table(pa.table({"x": pa.array(values, pa.float64())}), src)
        else:
            src.write_bytes(doc)
        done = _only_fivesafes_errors(
            lambda: ingest_file(store, provider, src, name="d", ingested_by="fuzz")
        )
        if done is None:
            assert _ingested_nothing(store)
        else:
            assert valid and values and all(math.isfinite(v) for v in values)


SPEC_KEYS = {
    "table": ["name", "response", "weight", "contributor", "holding", "kind", "x"],
    "dimension": ["name", "hierarchy", "total_code", "x"],
    "rules": [
        "threshold",
        "dominance",
        "p_percent",
        "pq",
        "frequency_threshold",
        "threshold_protection_percent",
        "zero",
        "negative",
        "x",
    ],
    "suppression": ["method", "a_priori_percent", "singleton", "time_limit", "cost", "x"],
}
TOML_VALUES = st.one_of(
    st.text(max_size=10),
    st.integers(-5, 200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(
        st.one_of(st.integers(-2, 100), st.lists(st.integers(-2, 100), max_size=3)), max_size=3
    ),
)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


@st.composite
def spec_documents(draw: st.DrawFn) -> str:
    """A TOML spec built from the real keys with wrong, missing and extra values; or noise."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=200))
    lines: list[str] = []
    for section in ("table", "rules", "suppression"):
        if draw(st.booleans()) or section == "table":
            lines.append(f"[{section}]")
            for key in draw(st.lists(st.sampled_from(SPEC_KEYS[section]), unique=True)):
                lines.append(f"{key} = {_toml_value(draw(TOML_VALUES))}")
    for _ in range(draw(st.integers(0, 3))):
        lines.append("[[dimension]]")
        for key in draw(st.lists(st.sampled_from(SPEC_KEYS["dimension"]), unique=True)):
            lines.append(f"{key} = {_toml_value(draw(TOML_VALUES))}")
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=spec_documents())
def test_spec_toml(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        _only_fivesafes_errors(lambda: load_spec(path))
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return
        _only_fivesafes_errors(lambda: parse_spec(raw, source_text=text))


@FUZZ
@given(doc=csv_documents(), header=st.sampled_from([None, ["code", "parent"], ["parent", "code"]]))
def test_hierarchy_csv(doc: bytes, header: list[str] | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "h.csv"
        body = doc if header is None else (",".join(header) + "\n").encode() + doc
        path.write_bytes(body)
        _only_fivesafes_errors(lambda: Hierarchy.from_csv("region", path))


AUDIT_SPEC = """
[table]
name = "fuzz"
response = "x"
[[dimension]]
name = "region"
[[dimension]]
name = "size"
[rules]
threshold = 3
"""
CELL_COLUMNS = ["region", "size", "value", "status", "lower_protection", "upper_protection"]


@FUZZ
@given(doc=csv_documents(header=CELL_COLUMNS), percent=st.sampled_from([None, 10.0]))
def test_cells_csv_for_table_audit(doc: bytes, percent: float | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "spec.toml"
        spec_path.write_text(AUDIT_SPEC)
        cells_path = Path(tmp) / "cells.csv"
        cells_path.write_bytes(doc)

        def audit() -> Any:
            spec = load_spec(spec_path)
            cells = read_cells_csv(cells_path, spec.dimension_names)
            hierarchies = spec_hierarchies(spec, cells)
            read_audit_cells(cells, protection_percent=percent)
            return audit_table(cells, hierarchies, protection_percent=percent)

        _only_fivesafes_errors(audit)


@FUZZ
@given(
    cells=csv_documents(header=["area", "records", "value", "status"]),
    report=st.one_of(
        st.binary(max_size=40),
        st.recursive(
            st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
            lambda c: st.one_of(
                st.lists(c, max_size=3), st.dictionaries(st.text(max_size=5), c, max_size=3)
            ),
            max_leaves=8,
        ).map(lambda v: json.dumps(v).encode()),
    ),
    spec=spec_documents(),
)
def test_release_folder(cells: bytes, report: bytes, spec: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "cells.csv").write_bytes(cells)
        (folder / "report.json").write_bytes(report)
        (folder / "spec.toml").write_text(spec, encoding="utf-8", errors="surrogatepass")
        _only_fivesafes_errors(lambda: read_table_dir(folder))


def _honest_archive(folder: Path) -> bytes:
    """A small backup archive as `fivesafes backup` writes it (signed manifest)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from fivesafes.workspace.archive import write_archive

    key = Ed25519PrivateKey.generate()
    dest = folder / "honest.tar"
    members: list[tuple[str, Path | bytes]] = [
        ("database.sqlite3", b"SQLite format 3\x00" + bytes(200)),
        ("workspace/config.toml", b'format = 1\nworkspace_id = "w"\n'),
        ("workspace/areas/a/datasets/d/data.fsv", bytes(range(256)) * 4),
    ]
    write_archive(dest, members, {"workspace_id": "w"}, key.sign)
    return dest.read_bytes()


_HONEST: dict[str, bytes] = {}


@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=6),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
    noise=st.one_of(st.none(), st.binary(max_size=600)),
)
def test_backup_archive(edits: list[tuple[int, int]], cut: int | None, noise: bytes | None) -> None:
    from fivesafes.workspace.archive import extract_archive

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "tar" not in _HONEST:
            with tempfile.TemporaryDirectory() as elsewhere:
                _HONEST["tar"] = _honest_archive(Path(elsewhere))
        data = bytearray(_HONEST["tar"] if noise is None else noise)
        for at, value in edits:
            if data:
                data[at % len(data)] = value
        if cut is not None and data:
            del data[cut % len(data) :]
        archive = root / "fuzzed.tar"
        archive.write_bytes(bytes(data))
        into = root / "into"
        into.mkdir()
        _only_fivesafes_errors(lambda: extract_archive(archive, into))
        # Whatever happened, nothing was written outside the folder it was given.
        assert sorted(p.name for p in root.iterdir()) == ["fuzzed.tar", "into"]
