"""Retention: which datasets are past their retention date (pure), and shredding them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from fivesafes.vault.shred import Shredded, shred
from fivesafes.vault.store import AreaStore


def due_for_destruction(retain_until: Mapping[str, date | None], today: date) -> list[str]:
    """Names whose retention date has passed (a dataset is kept through its last day)."""
    return sorted(n for n, d in retain_until.items() if d is not None and d < today)


def run_retention(
    store: AreaStore, retain_until: Mapping[str, date | None], today: date
) -> list[Shredded]:
    """Shred every dataset of the area that is past its retention date."""
    present = set(store.names("datasets"))
    return [shred(store, n) for n in due_for_destruction(retain_until, today) if n in present]
