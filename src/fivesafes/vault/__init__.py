"""Restricted areas for real: confidential datasets encrypted at rest (see docs/vault.md).

Library use (no database needed)::

    from fivesafes.vault import AreaStore, FileKeyProvider, ingest_file, open_table
    provider = FileKeyProvider(workspace / "keys")
    provider.create_key("survey")
    store = AreaStore(workspace / "areas", "survey"); store.create()
    ingest_file(store, provider, "lfs.csv", name="lfs", ingested_by="alice")
    table = open_table(store, provider, "lfs")
"""

from typing import TYPE_CHECKING, Any

# ``shred`` is also its submodule's name: bound here, or importing the submodule would
# leave the package's ``shred`` the module, not the function
from fivesafes.vault.shred import Shredded, shred

if TYPE_CHECKING:
    from fivesafes.vault.envelope import new_data_key, open_data_key, rewrap, seal_data_key
    from fivesafes.vault.ingest import file_sha256, ingest_file
    from fivesafes.vault.keys import FileKeyProvider, KeyProvider, PassphraseKeyProvider, WrappedKey
    from fivesafes.vault.manifest import Column, Manifest, Provenance
    from fivesafes.vault.pseudonymise import area_pseudonym_key, pseudonym, pseudonymise_batch
    from fivesafes.vault.query import QueryResult, query_area
    from fivesafes.vault.reader import (
        AreaSession,
        Decrypted,
        area_connection,
        decrypt,
        open_batches,
        open_table,
        run_sql,
    )
    from fivesafes.vault.rotate import Rotation, rotate_area_key
    from fivesafes.vault.store import AreaStore
    from fivesafes.vault.writer import write_object

# name -> the submodule defining it. Imported when first used (PEP 562): every part of
# fivesafes that touches one submodule (a key, the store) ran this package's __init__,
# and so imported ingest's table code (pandas, SciPy, DuckDB) with it.
_WHERE = {
    "AreaSession": "reader",
    "AreaStore": "store",
    "Column": "manifest",
    "Decrypted": "reader",
    "FileKeyProvider": "keys",
    "KeyProvider": "keys",
    "Manifest": "manifest",
    "PassphraseKeyProvider": "keys",
    "Provenance": "manifest",
    "QueryResult": "query",
    "Rotation": "rotate",
    "WrappedKey": "keys",
    "area_connection": "reader",
    "area_pseudonym_key": "pseudonymise",
    "decrypt": "reader",
    "file_sha256": "ingest",
    "ingest_file": "ingest",
    "new_data_key": "envelope",
    "open_batches": "reader",
    "open_data_key": "envelope",
    "open_table": "reader",
    "pseudonym": "pseudonymise",
    "pseudonymise_batch": "pseudonymise",
    "query_area": "query",
    "rewrap": "envelope",
    "rotate_area_key": "rotate",
    "run_sql": "reader",
    "seal_data_key": "envelope",
    "write_object": "writer",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "AreaSession",
    "AreaStore",
    "Column",
    "Decrypted",
    "FileKeyProvider",
    "KeyProvider",
    "Manifest",
    "PassphraseKeyProvider",
    "Provenance",
    "QueryResult",
    "Rotation",
    "Shredded",
    "WrappedKey",
    "area_connection",
    "area_pseudonym_key",
    "decrypt",
    "file_sha256",
    "ingest_file",
    "new_data_key",
    "open_batches",
    "open_data_key",
    "open_table",
    "pseudonym",
    "pseudonymise_batch",
    "query_area",
    "rewrap",
    "rotate_area_key",
    "run_sql",
    "seal_data_key",
    "shred",
    "write_object",
]
