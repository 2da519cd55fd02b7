"""Release use cases: submit, check, review and publish outputs; the rule sets; the
register of published cells. See docs/architecture.md.
"""
