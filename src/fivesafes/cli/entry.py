"""The ``fivesafes`` console script and ``python -m fivesafes``: Ctrl-C at start-up too.

Importing the command line took a second or more (it now imports a command's module
only when the command is named, inside ``FivesafesGroup``, which words a Ctrl-C then).
A Ctrl-C in that time raised KeyboardInterrupt out of the import, before
``FivesafesGroup`` could word it: a Python traceback and exit status -2. This
module imports nothing heavy, so it is in place before the signal can come, and says
what every command says. (SIGTERM then still ends the process at once: nothing has been
written yet to clean up.)
"""

from __future__ import annotations

import json
import signal
import sys
from typing import NoReturn

INTERRUPTED_STATUS = 130  # as Interrupted (fivesafes.errors), without importing it


def main() -> None:
    """Console-script entry point."""
    try:
        from fivesafes.cli.main import main as run
    except KeyboardInterrupt:
        _interrupted("interrupted (Ctrl-C) while fivesafes was starting: nothing was done")
    try:
        run()
    except KeyboardInterrupt:
        # FivesafesGroup words an interrupt while the command line is read and while the
        # command runs: one that reaches here came in the instant after it had finished
        # (its result already written), e.g. on the way out of `--version`
        _interrupted(
            "interrupted (Ctrl-C) as fivesafes was finishing: what it printed is complete",
            "nothing to do if it printed its result; otherwise run the command again",
        )
    finally:
        # the command is done: a Ctrl-C while the process exits changes nothing (before,
        # it ended the process by the signal, exit status -2)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interrupted(message: str, hint: str = "run the command again") -> NoReturn:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # worded once: a second Ctrl-C is not news
    options = sys.argv[1 : sys.argv.index("--")] if "--" in sys.argv else sys.argv[1:]
    if "--json" in options:  # stdout stays one JSON document, as for any other error
        error = {"code": "interrupted", "message": message, "hint": hint, "reasons": []}
        print(json.dumps({"error": {**error, "exit_status": INTERRUPTED_STATUS}}, indent=2))
    print(f"error [interrupted]: {message}\nwhat to do: {hint}", file=sys.stderr)
    raise SystemExit(INTERRUPTED_STATUS)
