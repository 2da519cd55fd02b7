"""Requests for information (FOI/EIR, subject access): cases, statutory deadlines, and
answers that pass the same disclosure checks as a release. Not built yet: see
docs/architecture.md ("Where do I add a request type").
"""
