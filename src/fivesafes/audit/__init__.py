"""The audit log: one hash-chained, signed record of every decision and change.

Pure parts (no database): ``events`` (what an event says), ``chain`` (hashing and
verifying a chain of events), ``checkpoint`` (signed checkpoints), ``checkpoint_file``
(the append-only file of checkpoints outside the database). On the database (below it,
``store``): ``log`` (append, query, sign the head) and ``verify`` (check the stored
chain). Services write events only through ``fivesafes.services.context.record``.
See docs/architecture.md and docs/audit-log.md.
"""
