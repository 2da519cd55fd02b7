"""What an author submits: a protected table (cells.csv, report.json, the spec) or another file.

Read once at submission, hashed, and kept as one payload (sealed by the service), so
that what the reviewers checked is exactly what is published, whatever happens to
the folder afterwards.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from fivesafes.errors import DataError, SpecError
from fivesafes.sdc import (
    LOWER,
    PUBLISHED,
    RECORDS,
    STATUS,
    UPPER,
    VALUE,
    Hierarchy,
    OutputTable,
    Population,
    Status,
    TableResult,
    TableSpec,
    cells_csv_text,
    formula_escaped,
    load_spec,
    parse_spec,
    published_cells,
    read_cells,
    restrict,
    spec_hierarchies,
    with_format,
)

CELLS = "cells.csv"
REPORT = "report.json"
# a [table] where filter's every value, kept out of report.json (sdc outputs' writers)
POPULATION = "population.json"
SPEC = "spec.toml"
HIERARCHIES = "hierarchies.json"
MAX_FILE_BYTES = 20 * 1024 * 1024
FILE_TYPES = frozenset({".csv", ".txt", ".md", ".pdf", ".xlsx", ".ods", ".png", ".svg", ".html"})


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def hierarchy_pairs(h: Hierarchy) -> list[list[str | None]]:
    """A hierarchy as [code, parent] pairs, root first (how the register stores it).

    A code with a label has it as a third element: [code, parent, label]."""
    return [
        [code, h.parent[code], h.labels[code]] if code in h.labels else [code, h.parent[code]]
        for code in h.order
    ]


def hierarchy_from_pairs(name: str, pairs: list[list[str | None]]) -> Hierarchy:
    """Inverse of :func:`hierarchy_pairs`."""
    labels = {str(p[0]): str(p[2]) for p in pairs if len(p) > 2 and p[2]}
    return Hierarchy.from_pairs(name, [(str(p[0]), p[1]) for p in pairs], labels)


@dataclass(frozen=True)
class TableSubmission:
    """A protected table as submitted: its cells, report, spec and hierarchies."""

    name: str
    cells_csv: str
    report: Mapping[str, Any]
    spec_text: str
    spec_hash: str
    frequency: bool
    a_priori_percent: float | None
    hierarchies: tuple[Hierarchy, ...]
    files: Mapping[str, str]

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The table's dimension names."""
        return tuple(h.name for h in self.hierarchies)

    @property
    def cells(self) -> pd.DataFrame:
        """cells.csv with codes as strings and a value column (a count table's is its count)."""
        escaped = formula_escaped(self.report)  # as report.json says cells.csv is written
        cells = read_cells(self.cells_csv, self.dimensions, name=CELLS, formula_escaped=escaped)
        if VALUE not in cells.columns:
            cells[VALUE] = cells[RECORDS].astype(float)
        for col in (LOWER, UPPER):
            if col in cells.columns:
                cells[col] = cells[col].fillna(0.0).astype(float)
        return cells

    def _spec(self) -> TableSpec | None:
        try:
            return parse_spec(tomllib.loads(self.spec_text), source_text=self.spec_text)
        except (tomllib.TOMLDecodeError, SpecError):
            return None

    @property
    def measure(self) -> str | None:
        """What the table sums (its spec's response, or "count"); None if the spec is not TOML."""
        spec = self._spec()
        return (spec.response or "count") if spec is not None else None

    @property
    def unit(self) -> str | None:
        """What the values are measured in (the spec's [table] unit), if it says."""
        spec = self._spec()
        return spec.unit if spec is not None else None

    def to_files(self) -> dict[str, bytes]:
        """The table as the files of a stored output: cells, report, spec and hierarchies."""
        pairs = {h.name: hierarchy_pairs(h) for h in self.hierarchies}
        return {
            CELLS: self.cells_csv.encode(),
            REPORT: (json.dumps(self.report, indent=2, ensure_ascii=False) + "\n").encode(),
            SPEC: self.spec_text.encode(),
            HIERARCHIES: json.dumps(pairs, indent=1).encode(),
        }

    @property
    def population(self) -> Population | None:
        """The part of the units the table covers (its spec's ``[table] where``), if any."""
        raw = self.report.get("population")
        if not isinstance(raw, Mapping) or not raw.get("where"):
            return None
        return Population.of(raw["where"], raw.get("domains", {}))

    def output_table(self, label: str) -> OutputTable:
        """The table for the differencing check: safe cells published, hidden ones protected;
        a table of part of the units has its filter as one more dimension."""
        cells = self.cells
        cols = [*self.dimensions, VALUE, STATUS, *(c for c in (LOWER, UPPER) if c in cells)]
        return restrict(OutputTable(label, self.hierarchies, cells[cols]), self.population)

    @property
    def perturbed(self) -> bool:
        """Whether the table publishes changed values (cell key method, rounding)."""
        method = (self.report.get("protection") or {}).get("method")
        return method not in (None, "suppression")

    def published_table(self, label: str) -> OutputTable:
        """The table as published: a perturbed or rounded table's values as published (the
        register records these); otherwise :meth:`output_table`."""
        table = self.output_table(label)
        if not self.perturbed:
            return table
        cells = self.cells
        if PUBLISHED not in cells.columns:
            raise DataError(
                f"table {self.name!r} says it is protected by "
                f"{self.report['protection']['method']} but its cells have no published values",
                hint="protect it again with fivesafes table protect",
            )
        shown = cells[STATUS].astype(str) == Status.SAFE.value
        cells.loc[shown, VALUE] = cells.loc[shown, PUBLISHED].astype(float)
        cols = [*self.dimensions, VALUE, STATUS, *(c for c in (LOWER, UPPER) if c in cells)]
        return restrict(OutputTable(label, self.hierarchies, cells[cols]), self.population)

    def to_payload(self) -> bytes:
        """Everything as one JSON document (sealed by the service)."""
        return json.dumps(
            {
                "kind": "table",
                "name": self.name,
                "cells_csv": self.cells_csv,
                "report": self.report,
                "spec_text": self.spec_text,
                "spec_hash": self.spec_hash,
                "frequency": self.frequency,
                "a_priori_percent": self.a_priori_percent,
                "hierarchies": {h.name: hierarchy_pairs(h) for h in self.hierarchies},
                "files": dict(self.files),
            }
        ).encode()


@dataclass(frozen=True)
class FileSubmission:
    """Any other output (a chart, a note): a human must check it."""

    name: str
    content: bytes

    @property
    def files(self) -> dict[str, str]:
        """The file's name and hash."""
        return {self.name: sha256(self.content)}

    def to_payload(self) -> bytes:
        """The file as one JSON document (sealed by the service)."""
        return json.dumps(
            {"kind": "file", "name": self.name, "content": self.content.hex()}
        ).encode()


Submission = TableSubmission | FileSubmission


def from_payload(data: bytes) -> Submission:
    """Inverse of ``to_payload``."""
    raw = json.loads(data)
    if raw["kind"] == "file":
        return FileSubmission(raw["name"], bytes.fromhex(raw["content"]))
    return TableSubmission(
        name=raw["name"],
        cells_csv=raw["cells_csv"],
        report=raw["report"],
        spec_text=raw["spec_text"],
        spec_hash=raw["spec_hash"],
        frequency=raw["frequency"],
        a_priori_percent=raw["a_priori_percent"],
        hierarchies=tuple(hierarchy_from_pairs(n, p) for n, p in raw["hierarchies"].items()),
        files=raw["files"],
    )


def table_of_result(
    result: TableResult, source: Mapping[str, Any] | None = None
) -> TableSubmission:
    """A protected table as a submission, built in memory (nothing is written anywhere).

    ``source`` replaces the report's description of the data (e.g. the area's dataset)."""
    report = dict(result.report)
    if source is not None:
        report["source"] = {**dict(source), "rows": report.get("source", {}).get("rows")}
    # the files of a stored output are those of table protect --out: text escaped, said so
    report = with_format(report)
    cells = cells_csv_text(published_cells(result))
    spec = result.spec
    return _with_hashes(
        TableSubmission(
            name=result.name,
            cells_csv=cells,
            report=report,
            spec_text=spec.source_text,
            spec_hash=spec.spec_hash,
            frequency=spec.is_frequency,
            a_priori_percent=spec.suppression.a_priori_percent,
            hierarchies=tuple(result.hierarchies),
            files={},
        )
    )


def _with_hashes(table: TableSubmission) -> TableSubmission:
    files = {name: sha256(data) for name, data in table.to_files().items()}
    return replace(table, files=files)


def table_of_files(files: Mapping[str, bytes]) -> TableSubmission:
    """Inverse of :meth:`TableSubmission.to_files` (a stored output read back)."""
    missing = sorted({CELLS, REPORT, SPEC, HIERARCHIES} - set(files))
    if missing:
        raise DataError(
            "the stored output is not a protected table (no " + ", ".join(missing) + ")",
            hint="submit an output written by `fivesafes table protect SPEC --dataset AREA/NAME`",
        )
    spec_text = files[SPEC].decode()
    spec = parse_spec(tomllib.loads(spec_text), source_text=spec_text)
    pairs = json.loads(files[HIERARCHIES])
    return TableSubmission(
        name=spec.name,
        cells_csv=files[CELLS].decode(),
        report=json.loads(files[REPORT]),
        spec_text=spec_text,
        spec_hash=spec.spec_hash,
        frequency=spec.is_frequency,
        a_priori_percent=spec.suppression.a_priori_percent,
        hierarchies=tuple(hierarchy_from_pairs(n, p) for n, p in pairs.items()),
        files={name: sha256(data) for name, data in files.items()},
    )


def _spec_path(folder: Path, report: Mapping[str, Any], spec: Path | None) -> Path:
    if spec is not None:
        return spec
    tomls = sorted(folder.glob("*.toml"))
    if len(tomls) == 1:
        return tomls[0]
    recorded = report.get("spec", {}).get("path")
    if recorded:
        return Path(recorded)
    raise SpecError(f"{folder} has no spec", hint="put the .toml spec in the folder or pass --spec")


def _unreadable(folder: Path, name: str, why: str) -> DataError:
    return DataError(
        f"{folder / name} {why}",
        hint="submit the folder written by `fivesafes table protect SPEC --out DIR`, unchanged "
        "(protect the table again if it was edited)",
    )


def read_table_dir(
    folder: Path, spec: Path | None = None, *, loaded: TableSpec | None = None
) -> TableSubmission:
    """Read a protected table's folder; DataError/SpecError say what is missing or inconsistent.

    ``loaded``: the spec at ``spec`` already parsed (a server parses what a client sent
    with its hierarchies in a folder of its own, never paths the spec names)."""
    for name in (CELLS, REPORT):
        if not (folder / name).is_file():
            raise DataError(
                f"{folder} has no {name}",
                hint="submit the folder written by: fivesafes table protect SPEC --out DIR",
            )
    cells_bytes = (folder / CELLS).read_bytes()
    report_bytes = (folder / REPORT).read_bytes()
    try:
        report = json.loads(report_bytes)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
        raise _unreadable(folder, REPORT, f"is not valid JSON ({exc})") from None
    if not isinstance(report, dict):
        raise _unreadable(folder, REPORT, "is not a JSON object")
    report, population_files = _with_population(folder, report)
    spec_path = _spec_path(folder, report, spec)
    loaded = loaded or load_spec(spec_path)
    recorded = report.get("spec", {}).get("sha256")
    if recorded and recorded != loaded.spec_hash:
        raise SpecError(
            f"{spec_path} has changed since the table was protected (report.json has another hash)",
            hint="protect the table again with the current spec, or pass the spec it was made with",
        )
    try:
        cells_text = cells_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _unreadable(
            folder, CELLS, f"is not a UTF-8 CSV table ({type(exc).__name__})"
        ) from None
    cells = read_cells(
        cells_text,
        loaded.dimension_names,
        name=str(folder / CELLS),
        formula_escaped=formula_escaped(report),
    )
    missing = [c for c in (*loaded.dimension_names, STATUS) if c not in cells.columns]
    if VALUE not in cells.columns and RECORDS not in cells.columns:
        missing.append(VALUE)
    if missing:
        raise _unreadable(folder, CELLS, "lacks the column(s) " + ", ".join(missing))
    hierarchies = spec_hierarchies(loaded, cells)
    files = {CELLS: sha256(cells_bytes), REPORT: sha256(report_bytes), **population_files}
    files[spec_path.name] = sha256(spec_path.read_bytes())
    for dim in loaded.dimensions:
        if dim.hierarchy is not None:
            files[Path(dim.hierarchy).name] = sha256(Path(dim.hierarchy).read_bytes())
    return TableSubmission(
        name=loaded.name,
        cells_csv=cells_text,
        report=report,
        spec_text=loaded.source_text,
        spec_hash=loaded.spec_hash,
        frequency=loaded.is_frequency,
        a_priori_percent=loaded.suppression.a_priori_percent,
        hierarchies=hierarchies,
        files=files,
    )


def _with_population(folder: Path, report: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The report with its filter's every value read back from population.json (the
    differencing check needs them; report.json names the kept ones only), and the
    file's digest; a report without a filter, or with its values in it, as it is."""
    raw = report.get("population")
    if not isinstance(raw, dict) or not raw.get("where") or "domains" in raw:
        return report, {}
    path = folder / POPULATION
    if not path.is_file():
        raise DataError(
            f"{folder} has no {POPULATION}: its report.json says the table covers part of "
            "the units, and the differencing check needs every value of the filter's column",
            hint="submit the folder written by `fivesafes table protect SPEC --out DIR` whole "
            f"(its {POPULATION} with it)",
        )
    data = path.read_bytes()
    try:
        loaded = json.loads(data)
    except ValueError as exc:
        raise _unreadable(folder, POPULATION, f"is not valid JSON ({exc})") from None
    domains = loaded.get("domains") if isinstance(loaded, dict) else None
    if not isinstance(domains, dict) or loaded.get("where") != raw["where"]:
        raise _unreadable(folder, POPULATION, "is not the population of its report.json")
    population = {k: v for k, v in raw.items() if k != "domains_in"}
    return {**report, "population": {**population, "domains": domains}}, {POPULATION: sha256(data)}


def read_file(path: Path) -> FileSubmission:
    """Read any other output file."""
    if not path.is_file():
        raise DataError(f"file not found: {path}", hint="give the path of the output to release")
    return FileSubmission(path.name, path.read_bytes())
