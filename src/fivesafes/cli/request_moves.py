"""``fivesafes request`` moves: a case from one state to the next (assign ... complaint-decided).

Each is ``request NAME ID [--on DATE] [options]``, one service of
``services/requests/moves`` called through the server's ``request.move`` (or in process),
with an example in its help.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from fivesafes.cli.acting import DATE, as_date, call, json_option, plain
from fivesafes.cli.request import OUTCOMES, _view, request
from fivesafes.requests.cases import Outcome
from fivesafes.services.requests import moves
from fivesafes.services.requests.cases import CaseView

MOVES: list[str] = []  # the commands this module adds to `request`

ON = click.option("--on", type=DATE, default=None, help="Day it happened (default: today).")


def _move_command(
    name: str,
    fn: Callable[..., CaseView],
    help_text: str,
    example: str,
    extra: list[Any] | None = None,
) -> None:
    """Add ``request NAME ID [--on DATE] [extra options]``, calling the move ``fn``
    (through the server's ``request.move``; ``fn`` documents which service it is)."""

    def command(case_id: int, on: datetime | None, as_json: bool, **options: Any) -> None:
        day = as_date(on)
        given = {k: plain(v) for k, v in options.items()}
        view = call(
            "request.move",
            case_id=case_id,
            move=name,
            on=day.isoformat() if day else None,
            **given,
        )
        _view(as_json, view)

    help_text = f"{help_text}\n\n\b\nExample:\n  fivesafes request {example}"
    command.__doc__ = help_text
    # Click lists a command's parameters outermost decorator first: ID, then the extras.
    decorated: Any = command
    for option in reversed(extra or []):
        decorated = option(decorated)
    decorated = json_option(ON(click.argument("case_id", type=int)(decorated)))
    request.command(name, help=help_text)(decorated)
    MOVES.append(name)


_move_command(
    "assign",
    moves.assign_case,
    "Assign the case to an officer.",
    "assign 1 fiona",
    [click.argument("officer")],
)
_move_command(
    "clarify",
    moves.clarify_case,
    "Ask the requester to clarify: the clock stops.",
    "clarify 1 --on 2026-03-10",
)
_move_command(
    "clarified",
    moves.clarification_received,
    "The clarification arrived: the clock restarts (FOI/EIR/PQ) or resumes (SAR).",
    "clarified 1 --on 2026-03-12",
)
_move_command(
    "extend",
    moves.extend_case,
    "Extend the deadline (FOI public interest, EIR complex, SAR two months); before it passes.",
    'extend 1 --reason "s43 public interest test"',
    [click.option("--reason", required=True, help="Why (recorded).")],
)
_move_command(
    "close",
    moves.close_case,
    "Close the case with its outcome.",
    "close 1 --outcome part-withheld",
    [click.option("--outcome", type=OUTCOMES, required=True, callback=lambda c, p, v: Outcome(v))],
)
_move_command("withdraw", moves.withdraw_case, "The requester withdrew the request.", "withdraw 1")
_move_command(
    "review", moves.request_review, "The requester asked for an internal review.", "review 1"
)
_move_command(
    "review-decided",
    moves.decide_review,
    "Record the internal review's result.",
    "review-decided 1 --result upheld",
    [click.option("--result", required=True, help="Upheld, overturned, in part.")],
)
_move_command(
    "complaint",
    moves.record_complaint,
    "Record a complaint to the regulator (ICO / SIC).",
    "complaint 1",
)
_move_command(
    "complaint-decided",
    moves.decide_complaint,
    "Record the regulator's decision.",
    'complaint-decided 1 --result "not upheld"',
    [click.option("--result", required=True, help="The decision notice's outcome.")],
)
