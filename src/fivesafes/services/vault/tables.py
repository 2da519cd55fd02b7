"""Protected tables of an area's dataset stay in the area, encrypted, with their provenance.

``table protect SPEC --dataset AREA/NAME`` reads the dataset through the audited access
decision; each protected table (every cell's true value, the report, the spec and the
hierarchies) is then stored as an encrypted analysis output of the area, never written
in plain text. Its register row and the ``table.protect`` audit event, in one
transaction, record the provenance: the dataset read, the measure, the spec's hash and
who made it. ``release submit --output AREA/NAME`` reads it back through
:func:`stored_table`, which proves the source (DATASET:MEASURE) from that provenance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from fivesafes.engine.memory import memory_bounded, memory_only_connection
from fivesafes.errors import (
    ConflictError,
    FivesafesError,
    IntegrityError,
    KeyProviderError,
    NotFoundError,
    SpecError,
    UnsafeTableError,
)
from fivesafes.governance.grants import STATISTICAL
from fivesafes.release.differencing_scope import EarlierRelease, releases_to_protect_with
from fivesafes.release.families import Family, family_releases, membership
from fivesafes.release.regimes import (
    clash_reason,
    clashes,
    regime_of_spec,
    stored_keys,
    what_to_do,
)
from fivesafes.release.source import SourceOrigin, split_source
from fivesafes.release.submission import (
    Submission,
    TableSubmission,
    table_of_files,
    table_of_result,
)
from fivesafes.sdc import (
    KEYED_METHODS,
    RECORD_KEY_COLUMN,
    DuckDBTabulator,
    OutputTable,
    Population,
    Progress,
    StoredKeys,
    TableResult,
    TableSpec,
    Tabulator,
    progress_stage,
    protect_all,
    with_protection,
)
from fivesafes.services.context import record
from fivesafes.services.governance.lookup import area_row, dataset_row
from fivesafes.services.release.checks import submission_of, version_row
from fivesafes.services.release.regimes import earlier_regimes
from fivesafes.services.release.scope import area_families, area_releases
from fivesafes.services.vault.read import open_dataset_for
from fivesafes.services.vault.register import (
    DATASET,
    OUTPUT,
    StoredObject,
    Transact,
    Vault,
    object_of,
    row_from_manifest,
    stored_row,
)
from fivesafes.store.models.release import ReleaseRequestRow
from fivesafes.vault import AreaStore, Manifest, shred
from fivesafes.vault.area_lock import area_lock
from fivesafes.vault.files import files_digest, read_files, write_files
from fivesafes.vault.key_schemes import keys_drawn
from fivesafes.vault.names import check_name
from fivesafes.vault.query import output_name, sql_name

TABLE_FORMAT = "table"  # source_format of a protected table output in the vault register


@dataclass(frozen=True)
class ProtectedOutput:
    """A protected table stored in its area, and what may be shown of it: counts, no values."""

    output: StoredObject
    table: str
    source: str  # DATASET:MEASURE, from the dataset read and the spec
    spec_sha256: str
    cells: int
    by_status: dict[str, int]
    by_rule: dict[str, int]
    method: str
    audit: str
    rows: int | None
    notes: tuple[str, ...]
    published_releases: tuple[str, ...] = ()  # protected together with these releases
    hidden_for_releases: int = 0  # cells hidden so that none of theirs is recovered
    with_releases: bool = True  # False: --ignore-published (release submit still checks)
    population: dict[str, list[str]] = field(default_factory=dict)  # [table] where
    # a dataset of a family: the membership it was protected with ({"membership of P": [...]})
    membership: dict[str, list[str]] = field(default_factory=dict)


def measure_of(spec: TableSpec) -> str:
    """What a table sums: its response variable, or "count" for a count table."""
    return spec.response or "count"


def output_names(specs: Sequence[TableSpec], name: str | None = None) -> list[str]:
    """One valid, distinct output name per spec (NAME, or NAME-<table> when several)."""
    base = name or output_name(prefix="t")
    if len(specs) == 1:
        names = [base]
    else:
        names = [f"{base}-{re.sub(r'[^A-Za-z0-9_.-]', '_', s.name)}"[:64] for s in specs]
    if len(set(names)) != len(names):
        raise SpecError(
            f"the tables' output names repeat: {names}", hint="give each [table] a distinct name"
        )
    return [check_name("output", n) for n in names]


def _method_of(report: dict[str, Any]) -> str:
    """The protection actually used: a method that changes values, else the secondary's."""
    changed = (report.get("protection") or {}).get("method")
    if changed:
        return str(changed)
    return str((report.get("secondary") or {}).get("method") or report["suppression"]["method"])


def _audit_line(report: dict[str, Any]) -> str:
    audit = report.get("audit", {})
    if audit.get("method") == "cellkey":
        return "every cell published perturbed (cell key method)" + (
            "" if audit.get("safe") else ": UNSAFE (a ptable check failed)"
        )
    if not audit.get("run"):
        return "not run (primary suppression only: not safe to release)"
    return "every primary cell protected" if audit.get("safe") else "UNSAFE"


@contextmanager
def _confined(tabulator: Tabulator | None, memory_limit: str | None) -> Iterator[Tabulator]:
    """The engine for an area's rows: DuckDB only on a memory-only, locked connection.

    Asked for DuckDB (the default, or a DuckDBTabulator with no connection of its own),
    it gets one with no temporary directory and no file access, closed after; any other
    engine (a caller's own connection, Spark) is used as given.
    """
    if tabulator is not None and not (
        isinstance(tabulator, DuckDBTabulator) and tabulator.connection is None
    ):
        yield tabulator
        return
    # one thread: the same rows give the same table every time (duckdb_tabulator.py)
    connection = memory_only_connection(memory_limit, threads=1)
    try:
        if tabulator is None:
            yield DuckDBTabulator(connection)
        else:
            yield DuckDBTabulator(connection, rollup=tabulator.rollup)
    finally:
        connection.close()


def protect_dataset_for(
    tx: Transact,
    vault: Vault,
    login: str,
    area: str,
    dataset: str,
    specs: Sequence[TableSpec],
    purpose: str = STATISTICAL,
    *,
    secondary: str | None = None,
    project_ref: str | None = None,
    name: str | None = None,
    today: date | None = None,
    tabulator: Tabulator | None = None,
    memory_limit: str | None = None,
    progress: Progress | None = None,
    with_releases: bool = True,
    method: str | None = None,
) -> list[ProtectedOutput]:
    """Protect each spec's table of AREA/DATASET for ``login``; store each in the area.

    ``method`` overrides the specs' ``[table] protection``. The cell key method and random
    rounding use the record keys drawn at ingest (vault/record_keys.py), never others: a
    dataset stored without them is refused for those methods (re-ingest it).

    ``with_releases`` (the default): each table is protected together with every release
    published from its source (DATASET:MEASURE) that ``release submit``'s differencing
    check compares it with, so that it passes that check by construction; the output
    names them. For a dataset of a family (``dataset add --derived-from``), those are the
    releases of the same measure of the parent and of every derived dataset, each with
    its membership of the parent, as the check sees them (the report's ``membership``).
    False protects the table alone: the check at submission still blocks it if it would
    reveal a release's hidden cell (nothing is weakened, only later).

    ``tabulator``: the engine that makes the cells (default: DuckDB in this process). DuckDB
    runs on a memory-only, locked connection (``memory_limit``, else the vault's): a table
    that outgrows it fails with a DataError instead of spilling plaintext to disk.
    ``progress`` hears of each stage (reading the dataset, the library's stages, storing
    the outputs): stage names and counts only, never a code or a value. An error of the
    tabulation quotes no value or row of the dataset (:func:`area_error`)."""
    for spec in specs:
        if not spec.source_text:
            raise SpecError(
                f"spec {spec.name!r} has no TOML text to keep with the table",
                hint="load the spec from its .toml file (fivesafes table protect SPEC ...)",
            )
    if method is not None:
        specs = [with_protection(s, method) for s in specs]
    # the cell key method and random rounding read the record keys drawn at ingest, and
    # only those: never key material from outside the area (fail closed)
    keyed = any(s.protection in KEYED_METHODS for s in specs)
    names = output_names(specs, name)
    with tx() as session:
        area_id = area_row(session, area).id
        drawn = _keys_drawn(vault, area, dataset) if keyed else ""
        taken = [n for n in names if stored_row(session, area_id, OUTPUT, n) is not None]
        published = None
        if with_releases:
            earlier = area_releases(session, vault.provider, area_id)
            families = area_families(session, area_id)
            # before any work: a table the register will refuse for its method is not made
            _check_regimes(session, vault, area_id, dataset, specs, earlier, families, drawn)
            published = _releases_by_measure(dataset, specs, earlier, families)
    if taken:
        raise ConflictError(
            f"area {area} already holds output(s) named {', '.join(taken)}",
            hint="choose another --name",
        )
    if keyed:
        _check_record_keys(vault, area, dataset)
    with progress_stage(progress, f"read dataset {area}/{dataset}"):
        data = open_dataset_for(
            tx,
            vault,
            login,
            area,
            dataset,
            purpose,
            today=today,
            project_ref=project_ref,
            record_keys=keyed,
        )
    limit = memory_limit or vault.memory_limit
    try:
        with (
            _confined(tabulator, limit) as engine,
            memory_bounded(f"tabulating {area}/{dataset}"),
        ):
            results = protect_all(
                specs,
                data,
                secondary=secondary,
                tabulator=engine,
                progress=progress,
                published=published.by_measure if published is not None else None,
                membership=published.membership if published is not None else None,
                keys=StoredKeys(RECORD_KEY_COLUMN, drawn) if keyed else None,
            )
    except FivesafesError as exc:
        # the rows stay in the area: no value or row number of them in the error
        raise area_error(exc, area, dataset) from None
    del data  # the plaintext rows are not needed any more
    with tx() as session:
        ds = stored_row(session, area_id, DATASET, dataset)
        if ds is None:  # destroyed while the tables were protected
            raise NotFoundError(f"dataset {area}/{dataset} is no longer stored")
        read = {"kind": "dataset", "area": area, "dataset": dataset, "object_id": ds.object_id}
        dataset_id = ds.dataset_id
    store = vault.store(area)
    written: list[Manifest] = []
    with (
        area_lock(store, exclusive=False),
        progress_stage(progress, "store outputs (encrypted)", total=len(results)) as storing,
    ):
        try:
            for result, out_name in zip(results, names, strict=True):
                written.append(_store_one(store, vault, login, result, out_name, read))
                storing.advance()
            storing.outcome = f"{len(written)} output(s) in {area}"
            return _register(
                tx,
                login,
                area_id,
                dataset_id,
                purpose,
                project_ref,
                results,
                written,
                with_releases,
            )
        except BaseException:
            for manifest in written:  # nothing stays in the area that the register lacks
                shred(store, manifest.name, kind="outputs")
            raise


def area_error(exc: FivesafesError, area: str, dataset: str) -> FivesafesError:
    """``exc``, raised while tabulating AREA/DATASET, as its caller may see it.

    The standalone library's errors quote the rows (examples of bad values, row numbers,
    counts); nothing leaves an area but what passed the disclosure checks, so the caller
    gets the error's kind, the problem and the columns (``FivesafesError.withheld``: an
    error not known to be value-free keeps its kind only), and where to look at the rows:
    the area's audited query service, which shows what the area's row-level policy lets.
    """
    hint = (
        f"values and rows of {area}/{dataset} are not shown here: look at them within the "
        f"area's policy, with an audited query (fivesafes query {area} "
        f'"SELECT ... FROM {sql_name(dataset)} WHERE ...")'
    )
    return exc.withheld(f"tabulating {area}/{dataset}", hint)


def _keys_drawn(vault: Vault, area: str, dataset: str) -> str:
    """How the dataset's record keys were drawn (its manifest), in words (vault/key_schemes.py):
    by unit across the area (the same in every dataset naming the unit column), by unit
    within a family (scheme v1), or by row of one file (another file has other keys).
    Empty if the manifest does not say."""
    manifest = vault.store(area).manifest(dataset, "datasets")
    drawn = manifest.extra.get("record_keys") or {}
    return keys_drawn(drawn, dataset, manifest.provenance.sha256)


def _check_record_keys(vault: Vault, area: str, dataset: str) -> None:
    """Refuse (KeyProviderError) a dataset stored without record keys (ingested before them)."""
    manifest = vault.store(area).manifest(dataset, "datasets")
    if (manifest.extra.get("record_keys") or {}).get("column") != RECORD_KEY_COLUMN:
        raise KeyProviderError(
            f"dataset {area}/{dataset} has no record keys (it was ingested before fivesafes "
            "drew them): the cell key method and random rounding are never run without them",
            hint="ingest the file again (fivesafes dataset ingest ...) to draw its record "
            "keys, or protect the table by suppression or controlled-rounding",
        )


@dataclass(frozen=True)
class _WithReleases:
    """What a table of the dataset is protected with: per measure, the releases the check
    at submission compares it with; for a dataset of a family, its membership."""

    by_measure: dict[str, list[OutputTable]]
    membership: Population | None = None


def _releases_by_measure(
    dataset: str,
    specs: Sequence[TableSpec],
    earlier: Sequence[EarlierRelease],
    families: Sequence[Family],
) -> _WithReleases:
    """Per measure of the specs: the releases submission will check a table of it with.

    A dataset of a family (a parent or a derived dataset) is checked with the releases of
    the same measure of the whole family, each with its membership of the parent, and its
    own tables with their membership (release/families.py: the very functions the check
    uses, so what is protected here is what is checked there)."""
    measures = sorted({measure_of(s) for s in specs})
    by_measure = {
        m: releases_to_protect_with(
            f"{dataset}:{m}", family_releases(f"{dataset}:{m}", earlier, families)
        )
        for m in measures
    }
    # the membership is the dataset's, whatever the measure
    linked = membership(f"{dataset}:", families)
    return _WithReleases(by_measure, linked[1] if linked is not None else None)


def _check_regimes(
    session: Session,
    vault: Vault,
    area_id: int,
    dataset: str,
    specs: Sequence[TableSpec],
    earlier: Sequence[EarlierRelease],
    families: Sequence[Family],
    drawn: str,
) -> None:
    """Refuse (UnsafeTableError) a spec whose method and parameters differ from those of a
    release or pending request of its source or family: the check at submission would
    block the table (release/regimes.py, one regime per source), so it is not made.

    The same rule as that check, on the releases linked by name or family; one whose
    source was only declared is compared at submission, once the table's cells exist."""

    def read(req: ReleaseRequestRow) -> Submission:
        return submission_of(vault.provider, req, version_row(session, req))

    for spec in specs:
        source = f"{dataset}:{measure_of(spec)}"
        found = earlier_regimes(session, read, area_id, source, True, earlier, families)
        regime = regime_of_spec(spec, stored_keys(drawn))
        clashing = clashes(regime, found)
        if clashing:
            raise UnsafeTableError(
                clash_reason(f"table {spec.name!r}", regime, clashing[0]),
                hint=what_to_do(clashing)
                + " (`--ignore-published` makes the table anyway; `release submit` refuses it)",
                value_free=True,
            )


def _store_one(
    store: AreaStore,
    vault: Vault,
    login: str,
    result: TableResult,
    name: str,
    read: dict[str, Any],
) -> Manifest:
    table = table_of_result(result, source=read)
    measure = measure_of(result.spec)
    return write_files(
        store,
        vault.provider,
        table.to_files(),
        name=name,
        source=f"{read['dataset']}:{measure}",
        made_by=login,
        source_format=TABLE_FORMAT,
        # The manifest is plain text next to the ciphertext: facts only, no cell.
        extra={
            "table": result.name,
            "datasets": [read["dataset"]],
            "measure": measure,
            "spec_sha256": table.spec_hash,
        },
    )


def _register(
    tx: Transact,
    login: str,
    area_id: int,
    dataset_id: int | None,
    purpose: str,
    project_ref: str | None,
    results: Sequence[TableResult],
    written: Sequence[Manifest],
    checked: bool,
) -> list[ProtectedOutput]:
    done = []
    with tx() as session:
        for result, manifest in zip(results, written, strict=True):
            row = row_from_manifest(area_id, OUTPUT, manifest, dataset_id)
            session.add(row)
            session.flush()
            report = result.report
            with_releases: dict[str, Any] = report.get("published", {})
            out = ProtectedOutput(
                output=object_of(row),
                table=result.name,
                source=manifest.provenance.source,
                spec_sha256=manifest.extra["spec_sha256"],
                cells=int(report["cells"]["total"]),
                by_status=dict(report["cells"]["by_status"]),
                by_rule=dict(report["cells"]["by_rule"]),
                method=_method_of(report),
                audit=_audit_line(report),
                rows=report["source"].get("rows"),
                notes=tuple(str(n) for n in report.get("notes", ())),
                published_releases=tuple(str(r) for r in with_releases.get("releases", ())),
                hidden_for_releases=int(with_releases.get("hidden_for_releases", 0)),
                with_releases=checked,
                population=dict(report.get("population", {}).get("where", {})),
                membership=dict(report.get("membership", {}).get("where", {})),
            )
            record(
                session,
                login,
                "table.protect",
                area=manifest.area,
                dataset=manifest.extra["datasets"][0],
                subject=manifest.name,
                details={
                    "output": manifest.name,
                    "object_id": manifest.object_id,
                    "table": out.table,
                    "datasets": manifest.extra["datasets"],
                    "measure": manifest.extra["measure"],
                    "source": out.source,
                    "spec_sha256": out.spec_sha256,
                    "sha256": manifest.provenance.sha256,
                    "purpose": purpose,
                    "project": project_ref,
                    "cells": out.cells,
                    "by_status": out.by_status,
                    "method": out.method,
                    "audit": out.audit,
                    "with_releases": out.with_releases,
                    "published_releases": list(out.published_releases),
                    "hidden_for_releases": out.hidden_for_releases,
                    "population": out.population,
                    "membership": out.membership,
                },
            )
            done.append(out)
    return done


def _broken(ref: str, why: str) -> IntegrityError:
    return IntegrityError(
        f"stored output {ref} {why}",
        hint="its provenance cannot be proven: protect the table again with "
        "`fivesafes table protect SPEC --dataset AREA/NAME` and submit the new output",
    )


def stored_table(
    session: Session, vault: Vault, area: str, name: str
) -> tuple[TableSubmission, SourceOrigin]:
    """A stored protected table and its source, proven from the register and the content."""
    ref = f"{area}/{name}"
    area_id = area_row(session, area).id
    row = stored_row(session, area_id, OUTPUT, name)
    if row is None:
        raise NotFoundError(
            f"area {area} holds no stored output {name!r}",
            hint=f"see its outputs: fivesafes dataset stored {area}",
        )
    if row.source_format != TABLE_FORMAT:
        raise NotFoundError(
            f"output {ref} is not a protected table (it is a {row.source_format} result)",
            hint="make one with: fivesafes table protect SPEC --dataset AREA/NAME",
        )
    store = vault.store(area)
    if store.manifest(name, "outputs").object_id != row.object_id:
        raise _broken(ref, "on disk is not the object the register holds")
    files = read_files(store, vault.provider, name)  # authenticated decryption
    if files_digest(files) != row.source_sha256:
        raise _broken(ref, "does not hold the content the register recorded")
    table = table_of_files(files)
    dataset, measure = split_source(row.source)
    registered = dataset_row(session, dataset)
    if registered.area_id != area_id or registered.id != row.dataset_id:
        raise _broken(ref, f"names dataset {dataset!r}, which is not the dataset it was made from")
    if table.measure != measure:
        raise _broken(ref, f"tabulates {table.measure!r}, its provenance says {measure!r}")
    return table, SourceOrigin(row.source, verified=True, output=ref, object_id=row.object_id)
