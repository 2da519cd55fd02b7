"""Perturbation tables (ptables): transition probabilities p(i -> j) of a published count.

Row ``i`` is an original count, ``j`` a published one, ``p`` its probability; the
last row (``i = imax``) applies to every count >= imax, shifted (``j - i`` is the
deviation). Within a row, in ascending ``j``, each outcome owns the interval
``[p_int_lb, p_int_ub)`` of cell keys; a cell with key ``r`` is published as the
``j`` whose interval holds ``r``.

The CSV format is the ptable package's (Destatis, ``pt_create_pTable``):
``i,j,p,v,p_int_lb,p_int_ub,type`` with ``v = j - i`` and ``type = all``; a file
with only ``i,j,p`` is read too (the rest is derived and, when given, checked).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from fivesafes.errors import SpecError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CSV_COLUMNS = ("i", "j", "p", "v", "p_int_lb", "p_int_ub", "type")
BOUND_TOLERANCE = 1e-9  # given cumulative bounds may differ from ours by this much


@dataclass(frozen=True, eq=False)
class PTable:
    """A count ptable: entries (i, j, p) sorted by i then j; zero probabilities dropped."""

    i: IntArray
    j: IntArray
    p: FloatArray

    @property
    def imax(self) -> int:
        """The last row: it applies to every count at or above it."""
        return int(self.i.max())

    @property
    def max_deviation(self) -> int:
        """The largest |j - i| of any outcome."""
        return int(np.abs(self.j - self.i).max())

    def row(self, i: int) -> tuple[IntArray, FloatArray]:
        """Outcomes ``j`` and probabilities of row ``i`` (``i`` capped at ``imax``)."""
        take = self.i == min(i, self.imax)
        return self.j[take], self.p[take]

    @cached_property
    def upper_bounds(self) -> FloatArray:
        """Each entry's ``p_int_ub``: the row's cumulative probability, 1 at its end."""
        ub = np.empty_like(self.p)
        for r in range(self.imax + 1):
            take = np.flatnonzero(self.i == r)
            cum = np.cumsum(self.p[take])
            cum[-1] = 1.0  # rounding must never leave a key without an outcome
            ub[take] = cum
        return ub

    @property
    def lower_bounds(self) -> FloatArray:
        """Each entry's ``p_int_lb``: the previous entry's upper bound (0 first in a row)."""
        lb = np.zeros_like(self.p)
        ub = self.upper_bounds
        same = self.i[1:] == self.i[:-1]
        lb[1:][same] = ub[:-1][same]
        return lb

    @cached_property
    def _lookup(self) -> tuple[FloatArray, IntArray]:
        rows = self.imax + 1
        width = int(np.bincount(self.i, minlength=rows).max())
        bounds = np.full((rows, width), 2.0)  # padding beyond 1: never below a key
        deviations = np.zeros((rows, width), dtype=np.int64)
        start = 0
        for r in range(rows):
            n = int(np.count_nonzero(self.i == r))
            bounds[r, :n] = self.upper_bounds[start : start + n]
            deviations[r, :n] = self.j[start : start + n] - r
            deviations[r, n:] = deviations[r, n - 1]
            start += n
        return bounds, deviations

    def deviations(self, counts: npt.ArrayLike, keys: npt.ArrayLike) -> IntArray:
        """The deviation ``j - i`` each (count, cell key) pair draws."""
        n = np.asarray(counts, dtype=np.int64)
        r = np.asarray(keys, dtype=np.float64)
        if n.shape != r.shape:
            raise ValueError("one key per count")
        if n.size and (n.min() < 0 or r.min() < 0 or r.max() >= 1):
            raise ValueError("counts must be >= 0 and keys in [0, 1)")
        bounds, devs = self._lookup
        row = np.minimum(n, self.imax)
        # the outcome is the first whose upper bound exceeds the key
        pick = (bounds[row] <= r[:, None]).sum(axis=1)
        out: IntArray = devs[row, pick]
        return out

    def perturb(self, counts: npt.ArrayLike, keys: npt.ArrayLike) -> IntArray:
        """Published counts: each count plus the deviation its cell key draws."""
        n = np.asarray(counts, dtype=np.int64)
        out: IntArray = n + self.deviations(n, keys)
        return out

    def to_csv(self) -> str:
        """The ptable package's CSV: i, j, p, v, p_int_lb, p_int_ub, type."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for i, j, p, lb, ub in zip(
            self.i, self.j, self.p, self.lower_bounds, self.upper_bounds, strict=True
        ):
            w.writerow(
                [
                    int(i),
                    int(j),
                    repr(float(p)),
                    int(j - i),
                    repr(float(lb)),
                    repr(float(ub)),
                    "all",
                ]
            )
        return buf.getvalue()


def make_ptable(entries: list[tuple[int, int, float]]) -> PTable:
    """A PTable from (i, j, p) entries in any order; zero probabilities are dropped."""
    kept = sorted((int(i), int(j), float(p)) for i, j, p in entries if p > 0)
    if not kept:
        raise SpecError("a ptable needs at least one outcome with p > 0")
    arr = np.array([(i, j) for i, j, _ in kept], dtype=np.int64)
    pt = PTable(i=arr[:, 0], j=arr[:, 1], p=np.array([p for *_, p in kept], dtype=np.float64))
    _check_shape(pt, "the ptable")
    return pt


def write_ptable(pt: PTable, path: Path) -> None:
    """Write the ptable's CSV (see :meth:`PTable.to_csv`)."""
    path.write_text(pt.to_csv(), encoding="utf-8")


GENERATED = "generated"  # a ptable made from D, V and js by maximum entropy (no file)


def ptable_identity(path: Path | None) -> str:
    """What decides a ptable's outcomes besides D, V and js: ``generated`` (they alone do),
    or the SHA-256 of the file's bytes (two files may meet the same D, V and js with other
    probabilities, and one path may hold another table later). The release register
    compares it between releases of one source (release/regimes.py)."""
    if path is None:
        return GENERATED
    try:
        return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise SpecError(
            f"cannot read ptable {path}: {exc}", hint="give the path of a ptable CSV"
        ) from None


def read_ptable(path: Path) -> PTable:
    """Read a ptable CSV (columns i, j, p; v, p_int_lb, p_int_ub checked when present)."""
    where = f"ptable {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{where} does not exist", hint="give the path of a ptable CSV") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read {where}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("i", "j", "p") if c not in header]
    if missing:
        raise SpecError(
            f"{where} has no column(s) {missing}",
            hint="a ptable CSV has columns i, j, p (and optionally v, p_int_lb, p_int_ub, type)",
        )
    entries: list[tuple[int, int, float]] = []
    given: dict[tuple[int, int], tuple[float | None, float | None]] = {}
    for line, rec in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in rec.items() if k is not None}
        if row.get("type", "all") not in ("all", ""):
            raise SpecError(
                f"{where} line {line}: type {row['type']!r} (even/odd tables) is not supported",
                hint="use one ptable for all cells (type = all)",
            )
        i, j = _whole(row["i"], where, line), _whole(row["j"], where, line)
        p = _real(row["p"], where, line)
        if p is None or not 0 <= p <= 1:
            raise SpecError(f"{where} line {line}: p must be a probability, got {row['p']!r}")
        v = _real(row.get("v", ""), where, line)
        if v is not None and v != j - i:
            raise SpecError(f"{where} line {line}: v = {v:g} but j - i = {j - i}")
        if (i, j) in given:
            raise SpecError(f"{where} line {line}: (i={i}, j={j}) is listed twice")
        entries.append((i, j, p))
        lb = _real(row.get("p_int_lb", ""), where, line)
        given[(i, j)] = (lb, _real(row.get("p_int_ub", ""), where, line))
    pt = make_ptable(entries)
    _check_bounds(pt, given, where)
    return pt


def _check_bounds(
    pt: PTable, given: dict[tuple[int, int], tuple[float | None, float | None]], where: str
) -> None:
    lower, upper = pt.lower_bounds, pt.upper_bounds
    for k, (i, j) in enumerate(zip(pt.i.tolist(), pt.j.tolist(), strict=True)):
        lb, ub = given.get((i, j), (None, None))
        for name, mine, theirs in (("p_int_lb", lower[k], lb), ("p_int_ub", upper[k], ub)):
            if theirs is not None and abs(mine - theirs) > BOUND_TOLERANCE:
                raise SpecError(
                    f"{where}: {name} of (i={i}, j={j}) is {theirs:.12g}, "
                    f"but the cumulative probability there is {mine:.12g}",
                    hint="cell-key intervals must run over each row in ascending j",
                )


def _check_shape(pt: PTable, where: str) -> None:
    rows = set(pt.i.tolist())
    missing = sorted(set(range(pt.imax + 1)) - rows)
    if missing:
        raise SpecError(f"{where} has no row for count(s) {missing[:10]}")
    if pt.i.min() < 0 or pt.j.min() < 0:
        raise SpecError(f"{where} has a negative count")


def _whole(text: str, where: str, line: int) -> int:
    try:
        value = float(text)
    except ValueError:
        raise SpecError(f"{where} line {line}: {text!r} is not a whole number") from None
    if not math.isfinite(value) or not value.is_integer():
        raise SpecError(f"{where} line {line}: {text!r} is not a whole number")
    return int(value)


def _real(text: str, where: str, line: int) -> float | None:
    if text in ("", "NA"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise SpecError(f"{where} line {line}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise SpecError(f"{where} line {line}: {text!r} is not a finite number")
    return value
