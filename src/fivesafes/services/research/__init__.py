"""Research use cases: approved researchers, their accreditation, and approved projects.

See docs/architecture.md.
"""
