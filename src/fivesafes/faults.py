"""Crash points for the tests that kill a process mid-operation (kill -9 at every step).

``crash_point("publish.committed")`` does nothing unless the environment variable
``FIVESAFES_FAULT`` names that point: then the process kills itself with SIGKILL there,
as a power cut or ``kill -9`` would, with no cleanup and no ``finally``. Only tests set it.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "FIVESAFES_FAULT"


def crash_point(name: str) -> None:
    """Die here, at once, if FIVESAFES_FAULT names this point (tests only)."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
