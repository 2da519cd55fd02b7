"""Use cases: authorise -> act -> audit, in one transaction.

Wings named after the domain: ``governance/``, ``research/``, ``release/``, ``vault/``;
``audit_log`` (read, verify, checkpoint the log), ``context`` (who acts, and ``record``,
the one way services write audit events) and ``setup`` (a new workspace).
See docs/architecture.md.
"""
