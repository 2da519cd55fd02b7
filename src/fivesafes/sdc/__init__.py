"""Statistical disclosure control: a library a statistician can use alone.

No database, no web, no global state: specs and tables in, cells with a status
and a report out.
"""
