"""The cell key method: record keys, ptables, and perturbed counts and magnitudes.

Entry points for other layers:

- :func:`record_keys` (``secret, ids -> keys``): what the vault draws once per record
  at ingest and stores, encrypted, with the dataset;
- :func:`generate_ptable`, :func:`read_ptable`, :func:`write_ptable`, :func:`check_ptable`;
- :func:`load_key_material` for the ``--data`` path (key file or environment).

The method itself runs from :func:`fivesafes.sdc.tables` with ``method="cellkey"``.
"""

from __future__ import annotations

from fivesafes.sdc.perturbation.attach import attach_record_keys
from fivesafes.sdc.perturbation.cellkey import PTables, perturb_counts, ptables_for
from fivesafes.sdc.perturbation.keys import (
    RECORD_KEY_COLUMN,
    KeyMaterial,
    StoredKeys,
    load_key_material,
    record_keys,
)
from fivesafes.sdc.perturbation.ptable import PTable, ptable_identity, read_ptable, write_ptable
from fivesafes.sdc.perturbation.ptable_build import generate_ptable
from fivesafes.sdc.perturbation.ptable_check import PTableCheck, check_ptable

__all__ = [
    "RECORD_KEY_COLUMN",
    "KeyMaterial",
    "PTable",
    "PTableCheck",
    "PTables",
    "StoredKeys",
    "attach_record_keys",
    "check_ptable",
    "generate_ptable",
    "load_key_material",
    "perturb_counts",
    "ptable_identity",
    "ptables_for",
    "read_ptable",
    "record_keys",
    "write_ptable",
]
