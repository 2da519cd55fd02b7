"""Governance rules, pure: people and roles, training, declarations, areas, grants, the
access decision, approved researchers and projects, and the periodic reviews (T6.5).

Decisions are functions over plain facts (``decide_access(facts) -> Decision``); the
services gather the facts and record the outcome. See docs/architecture.md.
"""
