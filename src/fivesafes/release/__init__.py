"""Output checking and publication, as data: what an author submits, the automated checks
(rules, audit, differencing, source), the workflow's states and moves, the reviewers'
votes, the organisation's rule sets, sealing and the published bundle.
See docs/architecture.md and docs/releases.md.
"""
