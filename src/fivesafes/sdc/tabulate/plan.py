"""The SQL plan of one tabulation (see :mod:`fivesafes.sdc.tabulate` for the stages).

Every table it creates is temporary, named with the tabulation's prefix, and
listed so that the caller drops it afterwards, whatever happens.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Literal

import duckdb
import pandas as pd

from fivesafes.errors import DataError
from fivesafes.sdc import cells as C
from fivesafes.sdc.hierarchy import Hierarchy
from fivesafes.sdc.spec import TableSpec
from fivesafes.sdc.tabulate.source_rows import first_rows, rows_text
from fivesafes.sdc.tabulate.sources import Source, quote

_SHOW = 10  # offending codes named in an error
_KEY_RING = 2**53  # cell keys: record keys (times 2**53) summed mod 2**53, exact
RollupPlan = Literal["bridge", "grouping_sets"]


def leaf_codes(h: Hierarchy) -> list[tuple[str, int]]:
    """Each leaf code of ``h`` with its id (its display position)."""
    idx = {c: j for j, c in enumerate(h.order)}
    return [(c, idx[c]) for c in h.leaves]


def bridge_pairs(h: Hierarchy) -> list[tuple[int, int]]:
    """Every (leaf id, id of a cell containing it) pair: the leaf itself and its ancestors."""
    idx = {c: j for j, c in enumerate(h.order)}
    return [(idx[leaf], idx[a]) for leaf in h.leaves for a in h.ancestors(leaf)]


def row_expressions(spec: TableSpec) -> tuple[str, str]:
    """SQL for a row's value and rule basis over the columns ``x`` and ``w``.

    The expressions are plain SQL that DuckDB and Spark read alike.
    """
    rules = spec.rules
    w = "w" if spec.weight is not None else None
    if spec.response is None:
        value = "w" if w else "1.0"
        basis = "w" if (w and rules.apply_weights) else "1.0"
    else:
        value = f"x * {w}" if w else "x"
        basis = "abs(x)" if rules.negatives == "absolute" else "x"
        if w and rules.apply_weights:
            basis = f"{basis} * {w}"
    return value, basis


def code_error(
    dimension: str, h: Hierarchy, found: Sequence[tuple[str, int]], *, at: str = ""
) -> DataError | None:
    """The error for the codes of one dimension that map to no leaf, with their row counts.

    ``found`` lists (code, rows) pairs, most frequent first; None when it is empty.
    ``at`` names the first rows, where the engine knows row numbers.
    """
    where = f" (at {at})" if at else ""
    if not found:
        return None
    internal = [(c, n) for c, n in found if c in h.parent]
    unknown = [(c, n) for c, n in found if c not in h.parent]
    if unknown:
        rows = sum(n for _, n in unknown)
        return DataError(
            f"dimension '{dimension}': {len(unknown)} code(s) in {rows} row(s) are not in "
            f"hierarchy '{h.name}': {[c for c, _ in unknown[:_SHOW]]}{where}",
            hint="add the codes to the hierarchy file, or correct the data "
            "(codes are text: '01' and '1' differ)",
            redacted=f"dimension '{dimension}': some codes in the data are not in "
            f"hierarchy '{h.name}'",
        )
    rows = sum(n for _, n in internal)
    return DataError(
        f"dimension '{dimension}': {len(internal)} code(s) in {rows} row(s) are subtotals "
        f"(internal codes) of hierarchy '{h.name}', not leaves: "
        f"{[c for c, _ in internal[:_SHOW]]}{where}",
        hint="microdata rows must carry leaf codes; add a leaf under each such code "
        "(e.g. '<code>_other') and recode the rows to it",
        redacted=f"dimension '{dimension}': some codes in the data are subtotals (internal "
        f"codes) of hierarchy '{h.name}', not leaves",
    )


class TabulationPlan:
    """The SQL of one tabulation; every table it creates is temporary and listed in ``temp``."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        spec: TableSpec,
        source: Source,
        hiers: tuple[Hierarchy, ...],
        k: int,
        prefix: str,
        temp: list[tuple[str, str]],
        rollup_plan: RollupPlan = "bridge",
    ) -> None:
        self.con, self.spec, self.source, self.hiers = con, spec, source, hiers
        self.rollup_plan = rollup_plan
        self.k, self.p, self.temp = k, prefix, temp
        self.n = len(hiers)
        self.index = [{c: j for j, c in enumerate(h.order)} for h in hiers]
        # Level columns per dimension: a1..aD (a0 is the root: "not grouped").
        self.levels = [
            [f"a{i}_{lv}" for lv in range(1, h.max_depth + 1)] for i, h in enumerate(hiers)
        ]

    def t(self, name: str) -> str:
        """The name of temporary object ``name`` of this tabulation."""
        return f"{self.p}{name}"

    def run(self, sql: str) -> None:
        """Execute one statement."""
        self.con.execute(sql)

    def table(self, name: str, sql: str) -> None:
        """Create temporary table ``name`` from a query (dropped by the caller)."""
        self.temp.append(("TABLE", self.t(name)))
        self.run(f"CREATE TEMP TABLE {self.t(name)} AS {sql}")

    def values_table(self, name: str, columns: str, rows: Sequence[tuple[object, ...]]) -> None:
        """Create temporary table ``name`` and fill it with ``rows``."""
        self.temp.append(("TABLE", self.t(name)))
        self.run(f"CREATE TEMP TABLE {self.t(name)} ({columns})")
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self.con.executemany(f"INSERT INTO {self.t(name)} VALUES ({marks})", rows)

    def create_maps(self) -> None:
        """Per dimension: leaf code -> id, leaf id -> ancestor id per level, id -> code."""
        for i, h in enumerate(self.hiers):
            idx = self.index[i]
            self.values_table(f"map{i}", "code VARCHAR, leaf INTEGER", leaf_codes(h))
            anc_cols = ", ".join(["leaf INTEGER", *(f"{c} INTEGER" for c in self.levels[i])])
            rows: list[tuple[object, ...]] = []
            for leaf in h.leaves:
                # -1 marks "this leaf is shallower than the level": its cell is the leaf
                # itself, produced at its own depth; dropping it here avoids duplicates.
                lv = [
                    idx[h.ancestor_at(leaf, d)] if h.depth[leaf] >= d else -1
                    for d in range(1, h.max_depth + 1)
                ]
                rows.append((idx[leaf], *lv))
            self.values_table(f"anc{i}", anc_cols, rows)
            self.values_table(
                f"codes{i}", "id INTEGER, code VARCHAR", [(j, c) for j, c in enumerate(h.order)]
            )

    def _key_sum(self, column: str) -> str:
        """The cell-key aggregate (``, ... AS ck``) when the source has record keys, else ''."""
        if not self.source.has_key:
            return ""
        return f", (sum({column}) % {_KEY_RING})::BIGINT AS ck"

    def stage1(self) -> None:
        """Rows -> (leaf cell, unit) sums; unknown codes surface as NULL leaves."""
        value, basis = row_expressions(self.spec)
        leaves = ", ".join(f"m{i}.leaf AS l{i}" for i in range(self.n))
        joins = " ".join(
            f"LEFT JOIN {self.t(f'map{i}')} m{i} ON s.d{i} = m{i}.code" for i in range(self.n)
        )
        neg = "count_if(x < 0)" if self.spec.response is not None else "0"
        if self.source.has_unit:
            self.table(
                "s1",
                f"SELECT {leaves}, u, count(*) AS rec, sum({value}) AS val, "
                f"sum({basis}) AS rt, {neg} AS neg{self._key_sum('rk::BIGINT')} "
                f"FROM {self.source.view} s {joins} GROUP BY ALL",
            )
        else:
            # Each row is its own contributor: every unit is simple, roll rows up directly.
            self.table(
                "leaf",
                f"SELECT {leaves}, count(*) AS rec, sum({value}) AS val, sum({basis}) AS rt, "
                f"{neg} AS neg, count(*) AS n, max({basis}, {self.k}) AS top"
                f"{self._key_sum('rk::BIGINT')} FROM {self.source.view} s {joins} GROUP BY ALL",
            )
        self._check_codes("s1" if self.source.has_unit else "leaf")

    def _check_codes(self, table: str) -> None:
        nulls = " OR ".join(f"l{i} IS NULL" for i in range(self.n))
        row = self.con.execute(f"SELECT count(*) FROM {self.t(table)} WHERE {nulls}").fetchone()
        if not row or not row[0]:
            return
        for i, h in enumerate(self.hiers):
            found = self.con.execute(
                f"SELECT s.d{i} AS code, count(*) AS n FROM {self.source.view} s "
                f"LEFT JOIN {self.t(f'map{i}')} m ON s.d{i} = m.code WHERE m.leaf IS NULL "
                "GROUP BY ALL ORDER BY n DESC, code"
            ).fetchall()
            if not found:
                continue
            at = rows_text(
                first_rows(
                    self.con,
                    self.source,
                    f"d{i} NOT IN (SELECT code FROM {self.t(f'map{i}')} WHERE leaf IS NOT NULL)",
                ),
                sum(int(n) for _, n in found),
            )
            error = code_error(self.spec.dimension_names[i], h, found, at=at)
            if error is not None:
                raise error
        raise AssertionError("a stage-1 cell had no leaf, yet every code maps")  # pragma: no cover

    def split_units(self) -> None:
        """Mark each unit with the dimensions it varies in; units in one leaf cell are simple."""
        k, n = self.k, self.n
        leaves = ", ".join(f"l{i}" for i in range(n))
        for i, h in enumerate(self.hiers):
            self.values_table(f"bridge{i}", "leaf INTEGER, cell INTEGER", bridge_pairs(h))
        if not self.source.has_unit:
            return
        sig = " + ".join(f"(min(l{i}) <> max(l{i}))::INTEGER * {1 << i}" for i in range(n))
        first = ", ".join(f"min(l{i}) AS l{i}" for i in range(n))
        self.table(
            "units",
            f"SELECT u, {sig} AS sig, {first}, sum(rt) AS rt, "
            f"(row_number() OVER ())::BIGINT AS uid FROM {self.t('s1')} GROUP BY u",
        )
        self.table(
            "leaf",
            f"SELECT {leaves}, sum(rec) AS rec, sum(val) AS val, sum(rt) AS rt, sum(neg) AS neg"
            f"{self._key_sum('ck')} FROM {self.t('s1')} GROUP BY ALL",
        )
        self.table(
            "simple",
            f"SELECT {leaves}, count(*) AS n, max(rt, {k}) AS top "
            f"FROM {self.t('units')} WHERE sig = 0 GROUP BY ALL",
        )
        self.table(
            "pairs",
            f"SELECT {', '.join(f's.l{i}' for i in range(n))}, g.uid, g.sig, s.rt "
            f"FROM {self.t('s1')} s JOIN (SELECT u, uid, sig FROM {self.t('units')} "
            "WHERE sig <> 0) g USING (u)",
        )

    def _cells(self, table: str, fixed: frozenset[int], aggregates: str) -> str:
        """SQL rolling ``table`` (leaf ids ``l{i}``) up to every cell ``c{i}`` it belongs to.

        Dimensions in ``fixed`` already hold cell ids and are kept as they are; the others
        are leaf ids, rolled up through every level of their hierarchy.
        """
        rolled = [i for i in range(self.n) if i not in fixed]
        if self.rollup_plan == "bridge":
            # Join each leaf to itself and its ancestors: one row per (cell, input row).
            joins = " ".join(
                f"JOIN {self.t(f'bridge{i}')} b{i} ON t.l{i} = b{i}.leaf" for i in rolled
            )
            cell = ", ".join(
                f"t.l{i} AS c{i}" if i in fixed else f"b{i}.cell AS c{i}" for i in range(self.n)
            )
            return f"SELECT {cell}, {aggregates} FROM {self.t(table)} t {joins} GROUP BY ALL"
        joins = " ".join(f"JOIN {self.t(f'anc{i}')} a{i} ON t.l{i} = a{i}.leaf" for i in rolled)
        keep_cols = [f"t.l{i}" for i in sorted(fixed)]
        sets = []
        for combo in itertools.product(*([None, *self.levels[i]] for i in rolled)):
            cols = [c for c in combo if c is not None] + keep_cols
            sets.append("(" + ", ".join(cols) + ")")
        cell = ", ".join(
            f"t.l{i} AS c{i}"
            if i in fixed
            else f"coalesce({', '.join([*self.levels[i], str(self.index[i][h.root])])}) AS c{i}"
            for i, h in enumerate(self.hiers)
        )
        keep = " AND ".join(["TRUE", *(f"c{i} <> -1" for i in rolled)])
        return (
            f"SELECT * FROM (SELECT {cell}, {aggregates} FROM {self.t(table)} t {joins} "
            f"GROUP BY GROUPING SETS ({', '.join(sets)})) WHERE {keep}"
        )

    def rollup(self) -> None:
        """Every cell: additive sums; unit counts and top-K per signature, merged per cell."""
        k, n = self.k, self.n
        merge = (
            "list_slice(list_reverse_sort(flatten(list({0}) FILTER (WHERE {0} IS NOT NULL))), "
            f"1, {k})"
        )
        top = merge.format("top")
        self.table(
            "agg",
            self._cells(
                "leaf",
                frozenset(),
                "sum(rec) AS rec, sum(val) AS val, sum(rt) AS rt, sum(neg) AS neg"
                + self._key_sum("ck"),
            ),
        )
        # Units in a single leaf cell (every row, when rows are the units) add up exactly.
        simple = "simple" if self.source.has_unit else "leaf"
        parts = [self._cells(simple, frozenset(), f"sum(n) AS n, {top} AS top")]
        sigs = []
        if self.source.has_unit:
            sigs = [
                int(r[0])
                for r in self.con.execute(
                    f"SELECT DISTINCT sig FROM {self.t('units')} WHERE sig <> 0 ORDER BY sig"
                ).fetchall()
            ]
        for sig in sigs:
            spread = frozenset(i for i in range(n) if sig >> i & 1)
            # A unit varying only in the dimensions of ``sig`` is expanded to its cells in
            # those dimensions alone, summing its rows per cell; in every other dimension it
            # has one leaf, so from there on it rolls up like a simple unit (exactly).
            xs = ", ".join(f"b{i}.cell AS l{i}" if i in spread else f"p.l{i}" for i in range(n))
            bj = " ".join(
                f"JOIN {self.t(f'bridge{i}')} b{i} ON p.l{i} = b{i}.leaf" for i in sorted(spread)
            )
            self.table(
                f"sig{sig}",
                f"SELECT {', '.join(f'l{i}' for i in range(n))}, count(*) AS n, "
                f"max(s, {k}) AS top FROM (SELECT {xs}, p.uid, sum(p.rt) AS s "
                f"FROM {self.t('pairs')} p {bj} WHERE p.sig = {sig} GROUP BY ALL) GROUP BY ALL",
            )
            parts.append(self._cells(f"sig{sig}", spread, f"sum(n) AS n, {top} AS top"))
        cells = ", ".join(f"c{i}" for i in range(n))
        self.table(
            "units_all",
            f"SELECT {cells}, sum(n) AS n, {top} AS top "
            f"FROM ({' UNION ALL '.join(parts)}) GROUP BY ALL",
        )

    def assemble(self) -> pd.DataFrame:
        """The full grid in display order, zero cells included, codes mapped back."""
        k, n = self.k, self.n
        names = self.spec.dimension_names
        grid = ", ".join(f"{self.t(f'codes{i}')} g{i}" for i in range(n))
        on_agg = " AND ".join(f"a.c{i} = g{i}.id" for i in range(n))
        on_units = " AND ".join(f"b.c{i} = g{i}.id" for i in range(n))
        n_expr = "coalesce(b.n, 0)"
        top = "coalesce(b.top, [])"
        dims = ", ".join(f"g{i}.code AS {quote(names[i])}" for i in range(n))
        tops = ", ".join(
            f"coalesce(top[{j}], 0.0)::DOUBLE AS {quote(C.top_column(j))}" for j in range(1, k + 1)
        )
        order = ", ".join(f"g{i}.id AS o{i}" for i in range(n))
        key_out = f", {C.CELL_KEY}" if self.source.has_key else ""
        key_in = f"coalesce(a.ck, 0)::BIGINT AS {C.CELL_KEY}, " if self.source.has_key else ""
        sql = (
            f"SELECT {', '.join(quote(x) for x in names)}, {C.RECORDS}, {C.CONTRIBUTORS}, "
            f"{C.VALUE}, {C.RULE_TOTAL}, {tops}, {C.NEGATIVES}{key_out} FROM ("
            f"SELECT {dims}, coalesce(a.rec, 0)::BIGINT AS {C.RECORDS}, "
            f"({n_expr})::BIGINT AS {C.CONTRIBUTORS}, "
            f"coalesce(a.val, 0.0)::DOUBLE AS {C.VALUE}, "
            f"coalesce(a.rt, 0.0)::DOUBLE AS {C.RULE_TOTAL}, {top} AS top, "
            f"coalesce(a.neg, 0)::BIGINT AS {C.NEGATIVES}, {key_in}{order} "
            f"FROM {grid} LEFT JOIN {self.t('agg')} a ON {on_agg} "
            f"LEFT JOIN {self.t('units_all')} b ON {on_units}) "
            f"ORDER BY {', '.join(f'o{i}' for i in range(n))}"
        )
        frame = self.con.execute(sql).df()
        for name in names:
            frame[name] = frame[name].astype(str)
        return frame
