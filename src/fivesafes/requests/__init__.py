"""Requests for information (FOI, EIR, subject access, parliamentary questions, ad hoc):
cases as a state machine, statutory clocks, and (later) answers that pass the same
disclosure checks as a release. Pure: no database, no I/O; the services gather the facts.

- :mod:`~fivesafes.requests.kinds`: the kinds of request and what the law says of each;
- :mod:`~fivesafes.requests.calendar`: working days, UK bank holidays by nation;
- :mod:`~fivesafes.requests.clock`: the statutory clock (due date, days left, clarification);
- :mod:`~fivesafes.requests.cases`: a case's states and moves (a state machine as data);
- :mod:`~fivesafes.requests.timeliness`: the quarterly timeliness report.
"""
