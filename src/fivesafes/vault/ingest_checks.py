"""What ingest must not do silently: turn NaN into a missing value, an overflow into
infinity, or a file with no rows into an empty dataset.

pyarrow's CSV reader treats ``NaN`` as a null and reads ``1e309`` as infinity. Here only
the usual missing-value markers are nulls (and they are counted, per column, so the
person ingesting is told); ``NaN`` stays NaN and, like any infinite value, is refused
with its count per column. A file with no data rows is refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from fivesafes.errors import DataError

# Missing values in a CSV: empty fields and the usual markers; never a NaN spelling.
CSV_NULL_VALUES = ("", "NA", "N/A", "n/a", "NULL", "null", "#N/A", "#N/A N/A", "#NA")


def check_column_names(path: Path, names: list[str]) -> None:
    """Refuse a file whose columns are not named, or named twice (a dataset needs both)."""
    seen: Counter[str] = Counter(names)
    repeated = sorted(n for n, k in seen.items() if k > 1)
    if "" in seen or any(not n.strip() for n in seen):
        raise DataError(
            f"{path.name} has a column without a name",
            hint="give every column a name in the header line",
        )
    if repeated:
        raise DataError(
            f"{path.name} names column(s) more than once: " + ", ".join(repeated[:10]),
            hint="give every column its own name in the header line",
        )


@dataclass
class ColumnTally:
    """Per column: missing values, NaN and infinite values seen so far; and the rows."""

    rows: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    nan: Counter[str] = field(default_factory=Counter)
    infinite: Counter[str] = field(default_factory=Counter)

    def observe(self, batch: pa.RecordBatch) -> None:
        """Count one batch."""
        self.rows += batch.num_rows
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if column.null_count:
                self.missing[name] += column.null_count
            if pa.types.is_floating(column.type):
                nan = pc.sum(pc.is_nan(column)).as_py() or 0
                inf = pc.sum(pc.is_inf(column)).as_py() or 0
                if nan:
                    self.nan[name] += nan
                if inf:
                    self.infinite[name] += inf

    def refuse_if_bad(self, path: Path) -> None:
        """Raise a DataError naming every column with NaN or infinite values, or no rows."""
        if self.rows == 0:
            raise DataError(
                f"{path.name} has no data rows (a header alone, or an empty table)",
                hint="ingest a file that holds the data; an empty dataset is never stored",
            )
        bad = sorted(set(self.nan) | set(self.infinite))
        if bad:
            parts = []
            for name in bad:
                counts = [
                    f"{n} {what}"
                    for n, what in ((self.nan[name], "NaN"), (self.infinite[name], "infinite"))
                    if n
                ]
                parts.append(f"{name}: {', '.join(counts)}")
            raise DataError(
                f"{path.name} has values that are not finite numbers: " + "; ".join(parts),
                hint="write a missing value as an empty field (or NA); a number too large for "
                "a 64-bit float (e.g. 1e309) reads as infinite and cannot be stored",
            )

    def missing_report(self) -> dict[str, int]:
        """Missing values per column (only the columns that have some)."""
        return dict(sorted(self.missing.items()))


def tallied(
    batches: Iterator[pa.RecordBatch], tally: ColumnTally, path: Path
) -> Iterator[pa.RecordBatch]:
    """The batches, counted; refuses (before the dataset is committed) at the end."""
    for batch in batches:
        tally.observe(batch)
        yield batch
    tally.refuse_if_bad(path)


def missing_warnings(missing: dict[str, int], rows: int) -> list[str]:
    """One line per column with missing values, for the person who ingested the file."""
    return [
        f"column {name}: {count} of {rows} value(s) missing (empty, NA or NULL)"
        for name, count in sorted(missing.items())
    ]
