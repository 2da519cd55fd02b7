"""Governance use cases: people, training, declarations, areas, datasets, grants,
access decisions and the periodic reviews (T6.5). See docs/architecture.md.
"""
