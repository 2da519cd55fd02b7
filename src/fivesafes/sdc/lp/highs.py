"""A quiet HiGHS: every solver instance fivesafes makes comes from here.

HiGHS prints a copyright banner on stdout the first time a solver is built in a
process, which would corrupt ``--json`` output and CSV written to stdout. The
banner is swallowed once by pointing file descriptor 1 at /dev/null while the
first instance is made; after that, instances are created with output off. Every
instance also runs single-threaded (see ``_configure``).
"""

from __future__ import annotations

import os
import sys
import threading

import highspy

_lock = threading.Lock()
_banner_shown = False


def new_highs() -> highspy.Highs:
    """A HiGHS instance with all console output switched off."""
    global _banner_shown
    with _lock:
        if not _banner_shown:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()  # type: ignore[no-untyped-call]
                _configure(h)
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _banner_shown = True
            return h
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    _configure(h)
    return h


def _configure(h: highspy.Highs) -> None:
    h.setOptionValue("output_flag", False)
    # HiGHS starts one thread scheduler per process, sized by the first solve; a later
    # instance asking for another size cannot run at all ("Not Set"). Every model here
    # is small or many, so all use one thread, always.
    h.setOptionValue("threads", 1)
