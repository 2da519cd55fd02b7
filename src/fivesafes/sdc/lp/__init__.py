"""Linear programming shared by the audit, secondary suppression and the differencing check.

``structure`` turns a table (or linked tables, ``linked``) into its additive relations
``A x = 0``; ``attack`` is the attacker's LP engine over any system of published sums;
``highs`` makes every (quiet) HiGHS solver instance.
"""
