"""All SQLAlchemy models; importing this package registers every table on ``Base.metadata``.

Each area of work adds its own module here (``governance.py``, ``research.py``, ...);
they are imported automatically, so no edit of this file is needed.
"""

from __future__ import annotations

import importlib
import pkgutil

from fivesafes.store.models.audit import AuditCheckpoint, AuditRecord

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["AuditCheckpoint", "AuditRecord"]
