"""Operations on requests for information (``fivesafes request``), as the CLI and the API share.

Routed: a case's life (open, moves, exemptions, show, list, overdue, the refusal notice,
a release attached), the timeliness report, who asked (to the case's officers), figures
through the disclosure gate, a subject's records (search, erasure, rectification) and
shredding at the end of retention. Commands that write files on the caller's machine
(the disclosure log, a subject-access export) get the files' contents back and write them
there: the server never writes to a path a caller names.

The server is long-running, so the request gate's model of each area's register stays
warm here between figures (services/requests/gates.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from pydantic import Field

from fivesafes.app import Acting, App
from fivesafes.errors import ValidationError
from fivesafes.release.rulesets import DEFAULT_RULE_SET
from fivesafes.requests.cases import CaseState, Outcome
from fivesafes.requests.disclosure_log import log_csv, log_html
from fivesafes.requests.figure import parse_cell
from fivesafes.requests.kinds import parse_kind
from fivesafes.requests.policy import RequestPolicy
from fivesafes.server.operation import Operation, Params, Text, in_one, in_one_sealing, plain
from fivesafes.services.requests import (
    answers,
    cases,
    disclosure_log,
    exemptions,
    figures,
    moves,
    reports,
    requester,
    retention,
    rights,
    subject,
)

CaseId = Field(ge=1, le=2**62)
Short = Field(min_length=1, max_length=200)
Identifier = Field(min_length=1, max_length=200)
Columns: Any = Field(default_factory=list, max_length=20)


class NoParams(Params):
    """No parameters."""


class CaseRef(Params):
    case_id: int = CaseId


class CaseOpen(Params):
    kind: str = Field(min_length=1, max_length=16)
    received: date
    requester: str = Text
    summary: str = Text


class CaseList(Params):
    state: str | None = Field(default=None, max_length=32)


MOVES: dict[str, Callable[..., Any]] = {
    "assign": moves.assign_case,
    "clarify": moves.clarify_case,
    "clarified": moves.clarification_received,
    "extend": moves.extend_case,
    "close": moves.close_case,
    "withdraw": moves.withdraw_case,
    "review": moves.request_review,
    "review-decided": moves.decide_review,
    "complaint": moves.record_complaint,
    "complaint-decided": moves.decide_complaint,
}
# The one argument each move takes besides the case (none for the others).
MOVE_ARGUMENT = {
    "assign": "officer",
    "extend": "reason",
    "close": "outcome",
    "review-decided": "result",
    "complaint-decided": "result",
}


class CaseMove(Params):
    case_id: int = CaseId
    move: Literal[
        "assign",
        "clarify",
        "clarified",
        "extend",
        "close",
        "withdraw",
        "review",
        "review-decided",
        "complaint",
        "complaint-decided",
    ]
    on: date | None = None
    officer: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=2000)
    outcome: str | None = Field(default=None, max_length=32)
    result: str | None = Field(default=None, max_length=2000)


class Exempt(Params):
    case_id: int = CaseId
    part: str = Text
    code: str = Short
    public_interest: str | None = Field(default=None, max_length=4000)


class Timeliness(Params):
    kinds: list[str] = Field(default_factory=list, max_length=5)


class AttachRelease(Params):
    case_id: int = CaseId
    release_id: str = Field(min_length=1, max_length=64)


class SubjectSearch(Params):
    case_id: int = CaseId
    identifier: str = Identifier
    columns: list[str] = Columns


class Figure(Params):
    case_id: int = CaseId
    dataset: str = Short
    measure: str = Short
    cell: str = Field(min_length=1, max_length=2000)
    contributor: str | None = Field(default=None, max_length=200)
    weight: str | None = Field(default=None, max_length=200)
    rule_set: str = Field(default=DEFAULT_RULE_SET, min_length=1, max_length=64)


class Erase(Params):
    case_id: int = CaseId
    identifier: str = Identifier
    columns: list[str] = Columns


class Rectify(Params):
    case_id: int = CaseId
    identifier: str = Identifier
    values: dict[str, str] = Field(min_length=1, max_length=50)
    columns: list[str] = Columns


def policy_of(app: App) -> RequestPolicy:
    """The request policy (clocks, retention) of the workspace's settings."""
    return RequestPolicy.from_settings(app.workspace.setting)


def _open(app: App, login: str, p: CaseOpen) -> Any:
    vault, policy = app.vault(), policy_of(app)
    # the requester is sealed under the requests area's key
    return in_one_sealing(
        app,
        login,
        vault,
        policy.area,
        lambda a: cases.open_case(
            a.session,
            a.actor,
            vault.provider,
            policy,
            parse_kind(p.kind),
            p.received,
            p.requester,
            p.summary,
        ),
        admit=lambda a: cases.check_may_open(a.actor, parse_kind(p.kind)),
    )


def _show(app: App, login: str, p: CaseRef) -> Any:
    return in_one(
        app, login, lambda a: cases.get_case(a.session, a.actor, policy_of(app), p.case_id)
    )


def _list(app: App, login: str, p: CaseList) -> Any:
    state = CaseState(p.state) if p.state else None
    return in_one(
        app, login, lambda a: cases.list_cases(a.session, a.actor, policy_of(app), state=state)
    )


def _overdue(app: App, login: str, _p: NoParams) -> Any:
    return in_one(app, login, lambda a: cases.overdue_cases(a.session, a.actor, policy_of(app)))


def _move(app: App, login: str, p: CaseMove) -> Any:
    args: list[Any] = []
    field = MOVE_ARGUMENT.get(p.move)
    if field is not None:
        value = getattr(p, field)
        if value is None:
            raise ValidationError(
                f"`request {p.move}` needs --{field}", hint=f"see fivesafes request {p.move} --help"
            )
        args.append(Outcome(value) if field == "outcome" else value)

    def act(a: Acting) -> Any:
        return MOVES[p.move](a.session, a.actor, policy_of(app), p.case_id, *args, on=p.on)

    return in_one(app, login, act)


def _exempt(app: App, login: str, p: Exempt) -> Any:
    return in_one(
        app,
        login,
        lambda a: exemptions.record_exemption(
            a.session, a.actor, policy_of(app), p.case_id, p.part, p.code, p.public_interest
        ),
    )


def _timeliness(app: App, login: str, p: Timeliness) -> Any:
    chosen = frozenset(parse_kind(k) for k in p.kinds) or None
    return in_one(
        app,
        login,
        lambda a: [
            r.as_dict()
            for r in reports.timeliness_report(a.session, a.actor, policy_of(app), kinds=chosen)
        ],
    )


def _refusal_notice(app: App, login: str, p: CaseRef) -> Any:
    return in_one(
        app, login, lambda a: exemptions.refusal_notice_for(a.session, a.actor, p.case_id)
    )


def _attach_release(app: App, login: str, p: AttachRelease) -> Any:
    return in_one(
        app,
        login,
        lambda a: answers.attach_release(
            a.session, a.actor, policy_of(app), p.case_id, p.release_id
        ),
    )


def _subject_search(app: App, login: str, p: SubjectSearch) -> Any:
    return plain(
        subject.search_subject(
            app.transaction, app.vault(), login, p.case_id, p.identifier, columns=p.columns
        )
    )


def _subject_export(app: App, login: str, p: CaseRef) -> Any:
    # personal data, to the case's officer only (the service decides, and audits the
    # hand-over); the caller writes the files into its own private folder
    files = subject.subject_export_files(app.transaction, app.vault(), login, p.case_id)
    return {"files": files}


def _requester(app: App, login: str, p: CaseRef) -> Any:
    return in_one(
        app,
        login,
        lambda a: {
            "id": p.case_id,
            "requester": requester.reveal_requester(
                a.session, a.actor, app.vault().provider, p.case_id
            ),
        },
    )


def _figure(app: App, login: str, p: Figure) -> Any:
    return plain(
        figures.answer_figure(
            app.transaction,
            app.vault(),
            login,
            p.case_id,
            p.dataset,
            p.measure,
            parse_cell(p.cell),
            contributor=p.contributor,
            weight=p.weight,
            rule_set=p.rule_set,
        )
    )


def _erase(app: App, login: str, p: Erase) -> Any:
    return plain(
        rights.erase_subject(
            app.transaction, app.vault(), login, p.case_id, p.identifier, columns=p.columns
        )
    )


def _rectify(app: App, login: str, p: Rectify) -> Any:
    return plain(
        rights.rectify_subject(
            app.transaction,
            app.vault(),
            login,
            p.case_id,
            p.identifier,
            p.values,
            columns=p.columns,
        )
    )


def _shred(app: App, login: str, _p: NoParams) -> Any:
    done = retention.shred_expired_records(app.transaction, app.vault(), login)
    return {"shredded": list(done.requesters), "subject_records": list(done.subject_records)}


def _disclosure_log(app: App, login: str, _p: NoParams) -> Any:
    organisation = str(app.workspace.setting("publication_organisation"))

    def act(a: Acting) -> Any:
        entries = disclosure_log.disclosure_log(a.session, a.actor)
        # the documents, for the caller to write where it chose (never a server-side path)
        return {
            "entries": len(entries),
            "csv": log_csv(entries),
            "html": log_html(entries, organisation),
        }

    return in_one(app, login, act)


REQUEST_OPERATIONS = (
    Operation("request.open", CaseOpen, _open, "Open a request for information."),
    Operation("request.show", CaseRef, _show, "One case and its clock (never the requester)."),
    Operation("request.list", CaseList, _list, "The cases, oldest first."),
    Operation("request.overdue", NoParams, _overdue, "Live cases past their due date."),
    Operation("request.move", CaseMove, _move, "Move a case (assign, clarify, close, ...)."),
    Operation("request.exempt", Exempt, _exempt, "Record a withheld part and its exemption."),
    Operation("request.requester", CaseRef, _requester, "Who asked (the case's officers)."),
    Operation("request.timeliness", Timeliness, _timeliness, "Timeliness by quarter."),
    Operation("request.refusal_notice", CaseRef, _refusal_notice, "The refusal notice."),
    Operation("request.attach_release", AttachRelease, _attach_release, "A release in the answer."),
    Operation(
        "request.subject_search", SubjectSearch, _subject_search, "Find a subject's records."
    ),
    Operation("request.subject_export", CaseRef, _subject_export, "A subject's records, to send."),
    Operation("request.figure", Figure, _figure, "A figure through the disclosure gate."),
    Operation("request.erase", Erase, _erase, "Erase a subject's records where allowed."),
    Operation("request.rectify", Rectify, _rectify, "Correct a subject's records where allowed."),
    Operation("request.shred", NoParams, _shred, "Shred what expired cases kept about people."),
    Operation("request.disclosure_log", NoParams, _disclosure_log, "The disclosure log's files."),
)
