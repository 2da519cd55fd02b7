"""Requests for information: cases (open, move, show, list), the requester's sealed
details, the overdue list and the timeliness report. Authorise -> act -> audit, in one
transaction; the requester's personal data never reach the audit log.
"""
