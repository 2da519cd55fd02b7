"""A researcher session's table folder and the claim that proves its source by recomputation.

``Session(area=..., dataset=...).finalise(folder)`` writes, beside each protected count
or sum table (``tables/<output>/``), ``source.json``: the area, the dataset, the
measure, the dataset columns the table is over, and the SHA-256 of every file of the
folder as finalise wrote it. The claim proves nothing by itself (the researcher's
process wrote it): ``release submit`` reads the dataset through the audited read
path, computes the same table again and compares every cell. Equal: the source is
*verified* (as a stored ``table protect`` output's). Any file changed since finalise,
or a cell that is not the dataset's: refused, never downgraded to "declared".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fivesafes.errors import IntegrityError, ValidationError

CLAIM = "source.json"
CLAIM_FORMAT = "fivesafes.outputs.source/1"


@dataclass(frozen=True)
class SessionClaim:
    """Where a session's table says it comes from: AREA, DATASET, columns and measure."""

    area: str
    dataset: str
    measure: str  # "count" or the values column
    dimensions: tuple[str, ...]
    values: str | None  # the summed column (None for a count)
    files: dict[str, str]  # file name -> SHA-256 at finalise

    @property
    def source(self) -> str:
        """DATASET:MEASURE, as the register names a source."""
        return f"{self.dataset}:{self.measure}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of source.json."""
        return {
            "format": CLAIM_FORMAT,
            "kind": "fivesafes.outputs.Session",
            "area": self.area,
            "dataset": self.dataset,
            "measure": self.measure,
            "dimensions": list(self.dimensions),
            "values": self.values,
            "files": dict(sorted(self.files.items())),
        }


def folder_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of ``folder`` but the claim itself."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != CLAIM
    }


def read_claim(folder: Path) -> SessionClaim | None:
    """The folder's claim (None: not a session's folder); ValidationError when malformed."""
    path = folder / CLAIM
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != CLAIM_FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {CLAIM_FORMAT!r}")
        claim = SessionClaim(
            area=str(doc["area"]),
            dataset=str(doc["dataset"]),
            measure=str(doc["measure"]),
            dimensions=tuple(str(d) for d in doc["dimensions"]),
            values=None if doc["values"] is None else str(doc["values"]),
            files={str(k): str(v) for k, v in dict(doc["files"]).items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(
            f"{path} is not a session's source claim ({exc})",
            hint="submit the folder as `Session.finalise` wrote it, or finalise again",
        ) from None
    if not claim.dimensions or claim.measure != (claim.values or "count"):
        raise ValidationError(
            f"{path}: measure {claim.measure!r} does not fit the values {claim.values!r}",
            hint="submit the folder as `Session.finalise` wrote it, or finalise again",
        )
    return claim


def check_unchanged(folder: Path, claim: SessionClaim) -> None:
    """IntegrityError naming every file added, removed or changed since finalise."""
    now = folder_digests(folder)
    changed = sorted(
        name for name in set(now) | set(claim.files) if now.get(name) != claim.files.get(name)
    )
    if changed:
        raise IntegrityError(
            f"{folder} has changed since the session finalised it: {', '.join(changed)}",
            hint="finalise the session again and submit the new folder unchanged",
        )
