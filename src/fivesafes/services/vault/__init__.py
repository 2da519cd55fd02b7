"""Vault use cases: ingest into restricted areas, the one audited read path, protected
tables kept in an area, key rotation and retention. See docs/architecture.md.
"""
