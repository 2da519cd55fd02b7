"""Jinja2 templates (autoescaped: every value from data is shown inert) and error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from fivesafes.errors import FivesafesError, IdentityError
from fivesafes.sdc import entry_text, interval_text, safe_text
from fivesafes.server.api import ERROR_STATUS

TEMPLATES = Path(__file__).parent / "templates"
ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["entry"] = entry_text
ENV.filters["interval"] = interval_text
ENV.filters["safe_text"] = safe_text


def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    """Render template ``name`` with ``values`` (``me`` and ``csrf`` for the layout)."""
    values.setdefault("me", None)
    values.setdefault("csrf", "")
    return HTMLResponse(ENV.get_template(name).render(**values), status_code=status)


def error_page(exc: FivesafesError, **values: Any) -> HTMLResponse:
    """A service's refusal as a page: message, reasons and hint; never a traceback."""
    status = ERROR_STATUS.get(exc.code, 400)
    if isinstance(exc, IdentityError):
        status = 403
    return page(
        "error.html",
        status,
        title="Refused" if status == 403 else "Not done",
        message=exc.message,
        reasons=list(getattr(exc, "reasons", ())),
        hint=exc.hint,
        **values,
    )
