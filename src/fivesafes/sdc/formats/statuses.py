"""Cell statuses as other tools write them, translated to fivesafes' safe/primary/secondary.

=========  =================================================================
preset     codes
=========  =================================================================
fivesafes  ``safe``, ``primary``, ``secondary`` (cells.csv)
argus      tau-Argus: ``V`` safe, ``A``/``B``/``C`` primary (frequency, dominance,
           frequency for n > 1), ``D`` secondary (the SBS output and rtauargus'
           ``Status``); its table-input markers ``S`` safe, ``U`` unsafe
           (primary), ``P`` protected (published, so safe)
sdctable   sdcTable ``sdcStatus``: ``s`` safe, ``z`` safe (must be published),
           ``u`` primary, ``x`` secondary
=========  =================================================================

A map is a preset name, ``CODE=STATUS`` pairs, or both (``argus,M=secondary``),
compared without case. A code that the map does not know is an error, never
guessed: a cell read as safe by mistake would be audited as published.
"""

from __future__ import annotations

import pandas as pd

from fivesafes.errors import DataError, SpecError
from fivesafes.sdc.cells import STATUS, VALUE, Status
from fivesafes.sdc.suggest import did_you_mean

PRESETS: dict[str, dict[str, str]] = {
    "fivesafes": {s.value: s.value for s in Status},
    "argus": {
        "V": "safe",
        "A": "primary",
        "B": "primary",
        "C": "primary",
        "D": "secondary",
        "S": "safe",
        "U": "primary",
        "P": "safe",
    },
    "sdctable": {"s": "safe", "z": "safe", "u": "primary", "x": "secondary"},
}
# the column each tool writes its statuses to, and the preset it implies
STATUS_COLUMNS = {STATUS: "fivesafes", "sdcStatus": "sdctable", "Status": "argus"}
VALUES = tuple(s.value for s in Status)


def parse_status_map(text: str) -> dict[str, str]:
    """``argus``, ``sdctable``, ``B=primary,D=secondary,V=safe`` or a mix, as code -> status."""
    out: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if "=" not in item:
            preset = PRESETS.get(item.lower())
            if preset is None:
                raise SpecError(
                    f"unknown status map {item!r}{did_you_mean(item, PRESETS)}",
                    hint="give a preset (" + ", ".join(PRESETS) + ") or CODE=STATUS pairs, "
                    "e.g. --status-map B=primary,D=secondary,V=safe",
                )
            pairs = list(preset.items())
        else:
            code, _, status = (x.strip() for x in item.partition("="))
            if not code or status.lower() not in VALUES:
                raise SpecError(
                    f"status map entry {item!r}: the status must be one of {', '.join(VALUES)}"
                    f"{did_you_mean(status, VALUES)}",
                    hint="e.g. --status-map B=primary,D=secondary,V=safe",
                )
            pairs = [(code, status.lower())]
        for code, status in pairs:
            key = code.casefold()
            if key in out and out[key] != status:
                raise SpecError(
                    f"status code {code!r} is mapped to both {out[key]} and {status}",
                    hint="give each code one status",
                )
            out[key] = status
    if not out:
        raise SpecError("the status map is empty", hint="e.g. --status-map argus")
    return out


def normalise_cells(
    cells: pd.DataFrame,
    *,
    status_map: str | None = None,
    status_column: str | None = None,
    value_column: str | None = None,
    where: str = "the cells table",
) -> tuple[pd.DataFrame, list[str]]:
    """``cells`` with fivesafes' ``status`` and ``value`` columns; notes say what was read."""
    notes: list[str] = []
    column = status_column or next((c for c in STATUS_COLUMNS if c in cells.columns), None)
    if column is None or column not in cells.columns:
        asked = f"no column {column!r}" if column else "no status column"
        raise DataError(
            f"{where} has {asked}{did_you_mean(column or STATUS, list(map(str, cells.columns)))}",
            hint="name it with --status-column (cells.csv: status; sdcTable: sdcStatus; "
            "tau-Argus: Status)",
        )
    if status_map is None:
        preset = STATUS_COLUMNS.get(column, "fivesafes")
        mapping = PRESETS[preset]
        mapping = {k.casefold(): v for k, v in mapping.items()}
        if preset != "fivesafes":
            notes.append(f"statuses read from column {column!r} as {preset} codes")
    else:
        mapping = parse_status_map(status_map)
        notes.append(f"statuses read from column {column!r} with the map {status_map!r}")
    raw = cells[column].astype(str).str.strip()
    translated = raw.str.casefold().map(mapping)
    unknown = sorted(set(raw[translated.isna()]))
    if unknown:
        rows = [int(i) + 1 for i in translated.index[translated.isna().to_numpy()][:5]]
        raise DataError(
            f"{where}: status code(s) {unknown[:5]} in column {column!r} are not in the status "
            f"map (rows {', '.join(map(str, rows))})",
            hint="say what each code means, e.g. --status-map argus,M=secondary "
            "(presets: " + ", ".join(PRESETS) + ")",
        )
    out = cells.copy()
    if column != STATUS and STATUS in out.columns:
        out = out.drop(columns=[STATUS])
    out[STATUS] = translated.to_numpy()
    if value_column is not None and value_column != VALUE:
        if value_column not in cells.columns:
            raise DataError(
                f"{where} has no column {value_column!r}"
                f"{did_you_mean(value_column, list(map(str, cells.columns)))}",
                hint=f"columns found: {list(cells.columns)[:20]}",
            )
        out = out.drop(columns=[VALUE]) if VALUE in out.columns else out
        out[VALUE] = cells[value_column]
        notes.append(f"values read from column {value_column!r}")
    return out, notes
