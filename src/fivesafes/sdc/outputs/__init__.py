"""A protected table's outputs: the files written (``writers``), report.json's content
(``report``) and the table as people read it (``presentation``).
"""
