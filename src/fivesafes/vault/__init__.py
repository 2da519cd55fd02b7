"""Restricted areas for real: confidential datasets encrypted at rest (see docs/vault.md).

Library use (no database needed)::

    from fivesafes.vault import AreaStore, FileKeyProvider, ingest_file, open_table
    provider = FileKeyProvider(workspace / "keys")
    provider.create_key("survey")
    store = AreaStore(workspace / "areas", "survey"); store.create()
    ingest_file(store, provider, "lfs.csv", name="lfs", ingested_by="alice")
    table = open_table(store, provider, "lfs")
"""

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
from fivesafes.vault.shred import Shredded, shred
from fivesafes.vault.store import AreaStore
from fivesafes.vault.writer import write_object

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
