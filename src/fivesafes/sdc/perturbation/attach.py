"""Attach record keys to microdata that has none stored (the ``--data`` path).

A dataset ingested into a restricted area keeps its record keys, drawn once at
ingest; a file read with ``--data`` gets them here, from a record identifier column
and the key material, as an extra column. The data are read exactly as the
tabulation reads them (CSV as text), so the keys go with the same rows.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from fivesafes.errors import DataError, SpecError
from fivesafes.sdc.perturbation.keys import RECORD_KEY_COLUMN, KeyMaterial, record_keys
from fivesafes.sdc.spec import TableSpec
from fivesafes.sdc.tabulate.connection import private_connection
from fivesafes.sdc.tabulate.sources import drop, new_prefix, quote, register

_ID = "_fivesafes_record_id"


def attach_record_keys(spec: TableSpec, data: Any, material: KeyMaterial) -> pa.Table:
    """The data as an Arrow table with one more column of record keys (RECORD_KEY_COLUMN)."""
    column = spec.perturbation.record_id
    if column is None:
        raise SpecError(
            "record keys need a record identifier: set [perturbation] record_id",
            hint='name the column that identifies each record, e.g. record_id = "person_id"',
        )
    con = private_connection()
    prefix = new_prefix()
    try:
        source = register(con, spec, data, prefix, own_connection=True)
        try:
            if column not in source.columns:
                raise DataError(
                    f"the data have no record identifier column '{column}'",
                    hint=f"the data's columns are {sorted(source.columns)[:30]}",
                )
            ident = quote(column)
            (row,) = con.execute(
                f"SELECT count(*), count({ident}), count(DISTINCT {ident}) FROM {source.raw}"
            ).fetchall()
            rows, present, distinct = (int(v) for v in row)
            if present < rows:
                raise DataError(
                    f"record identifier '{column}' is missing in {rows - present} row(s)",
                    hint="every record needs its identifier",
                )
            if distinct < rows:
                raise DataError(
                    f"record identifier '{column}' repeats: {rows - distinct} row(s) share an "
                    "identifier with an earlier one",
                    hint="record_id must identify each row (record) of the data",
                )
            table = con.sql(
                f"SELECT *, CAST({ident} AS VARCHAR) AS {_ID} FROM {source.raw}"
            ).to_arrow_table()
        finally:
            drop(con, source.temp_objects)
    finally:
        con.close()
    if RECORD_KEY_COLUMN in table.column_names:
        raise DataError(f"the data already have a column '{RECORD_KEY_COLUMN}'")
    keys = record_keys(material.secret, table.column(_ID).to_pylist())
    table = table.drop_columns([_ID])
    return table.append_column(RECORD_KEY_COLUMN, pa.array(keys, type=pa.float64()))
