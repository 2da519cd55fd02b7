"""Differencing check of a release against a register of 1 million published cells in the database.

Issue target: the check of a new output against a register of 1 million published
cells from 100 releases finishes in under 30 seconds. The register is a real one:
100 releases recorded through the publication service's own register write
(``published_register.register_release``: public cells one row each, hidden cells
sealed under the area key), on SQLite and, when a server answers, PostgreSQL.
Recording them is set-up, not timed. The timed path is what a release check runs:
load every earlier output of the source from the database (unsealing the hidden
cells) and check the new output against them.

Baseline, measured in the same run: the same check on the same outputs already in
memory (no database); the ratio says what loading from the register adds.

    .venv/bin/python bench/bench_differencing.py            # 100 releases, ~1.4M cells
    .venv/bin/python bench/bench_differencing.py --quick    # 10 releases
    .venv/bin/python bench/bench_differencing.py --database sqlite
    FIVESAFES_BENCH_PG_URL=postgresql+psycopg://me@host/db  (default 127.0.0.1:5432/test)
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from bench_databases import database
from fivesafes.governance.roles import Role
from fivesafes.release.submission import TableSubmission
from fivesafes.release.workflow import RequestState
from fivesafes.sdc.differencing import DifferencingResult, OutputTable, check_differencing
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.services.context import now, resolve_actor
from fivesafes.services.governance import areas, people
from fivesafes.services.governance.lookup import area_row
from fivesafes.services.release import register as published_register
from fivesafes.store.db import make_engine, migrate, transaction
from fivesafes.store.models.release import ReleaseRequestRow
from fivesafes.vault.keys import FileKeyProvider

AREA = "business"
SOURCE = "business-survey:turnover"


def tree(name: str, groups: list[list[str]]) -> Hierarchy:
    """Total > groups > leaves."""
    pairs: list[tuple[str, str | None]] = [("T", None)]
    for gi, leaves in enumerate(groups):
        g = f"{name[0].upper()}{gi}"
        pairs.append((g, "T"))
        pairs.extend((leaf, g) for leaf in leaves)
    return Hierarchy.from_pairs(name, pairs)


def hierarchies() -> dict[str, list[Hierarchy]]:
    regions = [f"r{i:02d}" for i in range(12)]
    industries = [f"{i:02d}" for i in range(1, 21)]
    products = [f"p{i}" for i in range(10)]
    return {
        "region": [
            tree("region", [regions[0:3], regions[3:6], regions[6:9], regions[9:12]]),
            # another grouping of the same codes, differing by a few areas
            tree("region", [regions[0:4], regions[4:7], regions[7:12]]),
        ],
        "industry": [
            tree("industry", [industries[i : i + 4] for i in range(0, 20, 4)]),
            tree("industry", [industries[i : i + 5] for i in range(0, 20, 5)]),
        ],
        "size": [Hierarchy.flat("size", ["small", "large"], total="T")],
        "product": [tree("product", [products[0:3], products[3:6], products[6:10]])],
    }


def aggregation(h: Hierarchy, leaves: list[str]) -> np.ndarray:
    """codes x leaves 0/1 matrix: which leaves make each code."""
    pos = {leaf: i for i, leaf in enumerate(leaves)}
    m = np.zeros((len(h.order), len(leaves)))
    for r, code in enumerate(h.order):
        m[r, [pos[x] for x in h.leaves_under(code)]] = 1
    return m


def make_table(label: str, hs: list[Hierarchy], leaf: np.ndarray, leaves: dict, rng) -> OutputTable:
    """Every cell of the table from the leaf tensor, with a hypercube pattern around small cells."""
    all_dims = ["region", "industry", "size", "product"]
    names = [h.name for h in hs]
    # sum out the dimensions the table does not have
    axes = tuple(i for i, d in enumerate(all_dims) if d not in names)
    data = leaf.sum(axis=axes) if axes else leaf
    for i, h in enumerate(hs):
        data = np.moveaxis(
            np.tensordot(aggregation(h, leaves[h.name]), data, axes=([1], [i])), 0, i
        )
    grids = np.meshgrid(*[np.arange(len(h.order)) for h in hs], indexing="ij")
    cells = pd.DataFrame(
        {h.name: np.array(h.order, dtype=object)[g.ravel()] for h, g in zip(hs, grids, strict=True)}
    )
    cells["value"] = data.ravel()
    status = np.full(len(cells), "safe", dtype=object)
    # primaries: small leaf cells; each protected by a hypercube of sibling leaves
    is_leaf = np.logical_and.reduce([cells[h.name].isin(h.leaves).to_numpy() for h in hs])
    small = is_leaf & (cells["value"].to_numpy() < np.quantile(cells["value"][is_leaf], 0.02))
    index = {tuple(r): i for i, r in enumerate(cells[names].itertuples(index=False))}
    for i in np.flatnonzero(small):
        codes = cells.loc[i, names].tolist()
        partners = []
        for h, c in zip(hs, codes, strict=True):
            sib = [s for s in h.children[h.parent[c]] if s != c]
            partners.append([c, sib[0]])  # the same partner in every release
        for combo in itertools.product(*partners):
            j = index[combo]
            if status[j] == "safe":
                status[j] = "secondary"
        status[i] = "primary"
    cells["status"] = status
    value = cells["value"].to_numpy()
    cells["lower_protection"] = np.where(status == "primary", 0.1 * value, 0.0)
    cells["upper_protection"] = np.where(status == "primary", 0.1 * value, 0.0)
    return OutputTable(label, tuple(hs), cells)


def make_tables(n: int, seed: int) -> list[OutputTable]:
    """``n`` outputs of one source, each one of the grouping combinations."""
    rng = np.random.default_rng(seed)
    hs = hierarchies()
    leaves = {d: list(v[0].leaves) for d, v in hs.items()}
    leaves["region"] = sorted(leaves["region"])
    leaf = rng.lognormal(8, 1.5, size=tuple(len(leaves[d]) for d in hs))
    tables = []
    for r in range(n):
        layout = [
            hs["region"][r % 2],
            hs["industry"][(r // 2) % 2],
            *([hs["size"][0]] if r % 3 else []),
            hs["product"][0],
        ]
        tables.append(make_table(f"REL-{r + 1:04d}", layout, leaf, leaves, rng))
    return tables


def submission(t: OutputTable) -> TableSubmission:
    """The output as an author submits it (cells.csv text, spec, hierarchies)."""
    text = t.cells.to_csv(index=False)
    spec = f"name = '{t.label}'\nresponse = 'turnover'\n"
    digest = hashlib.sha256(spec.encode()).hexdigest()
    return TableSubmission(
        name=t.label,
        cells_csv=text,
        report={"rules": {"threshold": 10}, "suppression": {"method": "fast"}},
        spec_text=spec,
        spec_hash=digest,
        frequency=False,
        a_priori_percent=None,
        hierarchies=t.hierarchies,
        files={"cells.csv": hashlib.sha256(text.encode()).hexdigest()},
    )


def build_register(engine: Engine, provider: FileKeyProvider, tables: list[OutputTable]) -> int:
    """People, the area, and every table published through the register write; cells recorded."""
    with transaction(engine) as s:
        people.bootstrap_administrator(s, "root", "Root")
    with transaction(engine) as s:
        root = resolve_actor(s, "root")
        people.register_person(s, root, "iris", "Iris", [Role.INFORMATION_ASSET_OWNER])
        people.register_person(s, root, "ada", "Ada", [Role.STATISTICIAN])
        areas.create_area(s, root, AREA, "iris")
    recorded = 0
    for t in tables:
        # One approved request per release (inserted directly: the workflow is not what is
        # measured), then the publication service's own register write.
        with transaction(engine) as s:
            request = ReleaseRequestRow(
                title=t.label,
                kind="table",
                area=area_row(s, AREA),
                author_id=resolve_actor(s, "ada").id,
                source=SOURCE,
                state=RequestState.RELEASED.value,
                current_version=1,
                created_at=now(),
                updated_at=now(),
            )
            s.add(request)
            s.flush()
            _, cells = published_register.register_release(
                s,
                provider,
                request,
                submission(t),
                release_id=t.label,
                bundle_path=Path("releases") / t.label,
                manifest={},
                published_on=date(2026, 1, 1),
                published_by="ada",
            )
            recorded += cells
    return recorded


def release_check(engine: Engine, provider: FileKeyProvider, new: OutputTable) -> tuple:
    """What the release check runs: earlier outputs from the register, then the check."""
    t0 = time.perf_counter()
    with transaction(engine) as s:
        earlier = published_register.earlier_outputs(s, provider, SOURCE)
    loaded = time.perf_counter() - t0
    result = check_differencing(new, earlier)
    return loaded, time.perf_counter() - t0, result, earlier


def _same(a: DifferencingResult, b: DifferencingResult) -> bool:
    keys = ("safe", "checked_cells", "hidden_cells", "published_cells", "atoms")
    da, db = a.to_dict(), b.to_dict()
    return all(da[k] == db[k] for k in keys) and len(a.disclosures) == len(b.disclosures)


def run(
    kind: str, tables: list[OutputTable], in_memory: DifferencingResult, baseline: float
) -> None:
    """Record the register on ``kind``, then time the release check against it."""
    earlier, new = tables[:-1], tables[-1]
    with database(kind, "bench_diff") as url, tempfile.TemporaryDirectory() as keys:
        if url is None:
            return
        engine = make_engine(url)
        try:
            migrate(engine)
            provider = FileKeyProvider(Path(keys))
            provider.create_key(AREA)  # as creating the area in a workspace does
            t0 = time.perf_counter()
            recorded = build_register(engine, provider, earlier)
            setup = time.perf_counter() - t0
            loaded, total, result, outputs = release_check(engine, provider, new)
        finally:
            engine.dispose()
    cells = sum(len(t.cells) for t in outputs)
    print(
        f"{kind}: {len(earlier)} releases recorded in {setup:.1f} s "
        f"({recorded:,} published cells one row each, {cells - recorded:,} hidden sealed)"
    )
    print(
        f"{kind}: release check end to end {total:.2f} s = load {loaded:.2f} s "
        f"+ check {total - loaded:.2f} s (build {result.timings['build']:.2f} s, "
        f"solve {result.timings['solve']:.2f} s); same verdict as in memory: "
        f"{_same(result, in_memory)}; ratio to the in-memory check {total / baseline:.2f}x"
    )
    print(
        f"{kind}: target under 30 s for 1 million cells from 100 releases -> "
        + ("met" if total < 30 else "NOT met")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--releases", type=int, default=100, help="releases in the register")
    ap.add_argument("--quick", action="store_true", help="10 releases, a smoke run")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both", help="register"
    )
    args = ap.parse_args()
    n_releases = 10 if args.quick else args.releases
    started = time.perf_counter()
    tables = make_tables(n_releases + 1, args.seed)  # the register, then the new output
    gen = time.perf_counter() - started
    n_cells = sum(len(t.cells) for t in tables[:-1])

    # baseline: the same check on the outputs already in memory (after one warm-up run,
    # so that first-call costs do not flatter the database path)
    check_differencing(tables[-1], tables[:-1])
    t1 = time.perf_counter()
    result = check_differencing(tables[-1], tables[:-1])
    baseline = time.perf_counter() - t1
    print(f"releases: {n_releases}, register cells: {n_cells:,} (generated in {gen:.1f} s)")
    print(
        f"hidden cells: {result.hidden_cells:,} ({result.checked_cells:,} distinct), "
        f"atoms: {result.atoms:,}, LPs solved: {result.lp_count:,}; "
        f"safe: {result.safe}, disclosures: {len(result.disclosures)}"
    )
    print(
        f"baseline (check on outputs in memory, no database): {baseline:.2f} s "
        f"(build {result.timings['build']:.2f} s, solve {result.timings['solve']:.2f} s)"
    )
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        run(kind, tables, result, baseline)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
