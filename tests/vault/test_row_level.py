"""What a query may show: the summary classifier and the showing policy (pure)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from fivesafes.vault.row_level import SUMMARY_ROWS, is_summary, shown

SUMMARIES = [
    "SELECT region, count(*) AS n FROM t GROUP BY region",
    "SELECT region, count(*) AS n FROM t GROUP BY 1 ORDER BY 1",
    "SELECT upper(region) AS r, avg(pay) + 1 FROM t GROUP BY r",
    "SELECT avg(pay), stddev(pay), median(pay) FROM t",
    "WITH x AS (SELECT * FROM t) SELECT count(*) FROM x",
]
LISTINGS = [
    "SELECT * FROM t",
    "SELECT pay FROM t",
    "SELECT 1 FROM t",
    "SELECT list(pay) FROM t",
    "SELECT string_agg(name, ',') FROM t",
    "SELECT first(name) FROM t",
    "SELECT region, pay FROM t GROUP BY region",
    "SELECT region, nino FROM t GROUP BY ALL",
    "SELECT max(pay) OVER () FROM t",
    "SELECT sum(pay) FILTER (WHERE id = 1) FROM t",
    "SELECT count(*) FROM t UNION ALL SELECT pay FROM t",
    "SELECT (SELECT pay FROM t LIMIT 1), count(*) FROM t",
]


@pytest.mark.parametrize("sql", SUMMARIES)
def test_summaries_are_recognised(sql: str) -> None:
    assert is_summary(sql)


@pytest.mark.parametrize("sql", LISTINGS)
def test_anything_else_counts_as_rows(sql: str) -> None:
    assert not is_summary(sql)


def _table(n: int) -> pa.Table:
    return pa.table({"id": [f"P{i}" for i in range(n)], "n": list(range(n))})


def test_a_listing_beyond_the_area_limit_is_withheld_whole() -> None:
    seen = shown(_table(5), summary=False, max_rows=0, wanted=20, area="a")
    assert seen.rows == () and seen.withheld and "row-level" in seen.withheld
    within = shown(_table(5), summary=False, max_rows=5, wanted=3, area="a")
    assert within.rows == (("P0", "0"), ("P1", "1"), ("P2", "2")) and within.withheld is None


def test_the_reason_a_listing_is_withheld_reads_as_a_sentence() -> None:
    # "the result has 5 rows: row-level output than area a shows" said nothing readable
    seen = shown(_table(5), summary=False, max_rows=2, wanted=20, area="a")
    assert seen.withheld == (
        "the result has 5 rows of row-level output: more than area a shows (at most 2); "
        "it stays in the area"
    )
    groups = shown(_table(SUMMARY_ROWS + 1), summary=True, max_rows=0, wanted=20, area="a")
    assert groups.withheld == (
        f"the result has {SUMMARY_ROWS + 1} rows, a summary of more groups than area a shows "
        f"(at most {SUMMARY_ROWS}); it stays in the area"
    )


def test_a_summary_shows_up_to_its_group_cap_and_nested_columns_are_rows() -> None:
    assert shown(_table(SUMMARY_ROWS), True, 0, 10**6, "a").withheld is None
    assert shown(_table(SUMMARY_ROWS + 1), True, 0, 10**6, "a").withheld
    nested = pa.table({"v": [[1, 2, 3]]})
    assert shown(nested, True, 0, 20, "a").withheld


def test_the_hash_is_of_what_was_shown() -> None:
    a = shown(_table(3), False, 3, 3, "a")
    b = shown(_table(3), False, 3, 2, "a")
    assert a.sha256 != b.sha256 and len(a.sha256) == 64
    assert a.sha256 == shown(_table(3), False, 3, 3, "a").sha256
