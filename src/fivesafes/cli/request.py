"""``fivesafes request``: requests for information (FOI, EIR, SAR, PQ, ad hoc), on time.

Thin: each command parses, calls one service of ``services/requests`` in one transaction
(through :func:`fivesafes.cli.acting.acting`) and renders. The requester's details are
shown only by ``request requester`` and only to the case's officers.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fivesafes.cli.acting import DATE, call, emit, json_option
from fivesafes.cli.output_folder import place_files, text_file
from fivesafes.errors import UnsafeTableError
from fivesafes.release.rulesets import DEFAULT_RULE_SET
from fivesafes.requests.cases import CaseState, Outcome
from fivesafes.requests.kinds import RequestKind, parse_kind
from fivesafes.requests.policy import RequestPolicy

if TYPE_CHECKING:
    from fivesafes.workspace import Workspace

KINDS = click.Choice([k.value for k in RequestKind], case_sensitive=False)
OUTCOMES = click.Choice([o.value for o in Outcome])
STATES = click.Choice([s.value for s in CaseState])


def _policy(workspace: Workspace) -> RequestPolicy:
    return RequestPolicy.from_settings(workspace.setting)


# Cases arrive as JSON-ready data (services.requests.cases.CaseView through `plain`),
# from the server or from this process alike.
Case = dict[str, Any]


def _due(v: Case) -> str:
    if v["due"] is None:
        return "clock stopped"
    if v["days_left"] is None:
        return f"due {v['due']}"
    days = v["days_left"]
    left = f"{days} working days left" if days >= 0 else f"{-days} late"
    return f"due {v['due']} ({left})"


def _line(v: Case) -> str:
    officer = v["officer"] or "-"
    return f"#{v['id']:<4} {v['kind']:<6} {v['state']:<17} {officer:<10} {_due(v)}"


def _detail(v: Case) -> str:
    lines = [
        f"request #{v['id']} ({v['kind']}): {v['state']}",
        f"  received  {v['received']}",
        f"  summary   {v['summary']}",
        f"  opened by {v['opened_by']}; officer {v['officer'] or '(none)'}",
        f"  {_due(v)}: {v['clock_basis']}" + (" (extended)" if v["extended"] else ""),
    ]
    if v["answered"]:
        lines.append(f"  answered  {v['answered']}: {v['outcome']}")
    if v["exemptions"]:
        lines.append(f"  exemptions {', '.join(v['exemptions'])}")
    return "\n".join(lines)


def _view(as_json: bool, v: Case) -> None:
    emit(v, as_json, lambda: _detail(v))


def _read_requester(value: str) -> str:
    # "-": from standard input, so that the name stays out of the shell history and `ps`.
    return sys.stdin.read().strip() if value == "-" else value


@click.group()
def request() -> None:
    """Requests for information: FOI, EIR, subject access, PQs, ad hoc (docs/requests.md).

    Each case runs on the statutory clock (working days, UK bank holidays); every figure
    in an answer passes the release checks. Only the case's officers move it or see the
    requester; every step is audited.

    \b
    Examples (as an FOI officer):
      fivesafes request open --kind foi --received 2026-03-07 --requester "A. Person" \\
          --summary "Turnover by region"
      fivesafes request assign 1 fiona
      fivesafes request figure 1 --dataset business/survey --measure turnover \\
          --cell region=K02000001,industry=ALL --contributor enterprise_id --weight w
      fivesafes request close 1 --outcome granted
      fivesafes request overdue
    """


@request.command("open")
@click.option("--kind", "kind", type=KINDS, required=True, help="foi, eir, sar, pq or ad-hoc.")
@click.option("--received", type=DATE, required=True, help="Day it arrived (YYYY-MM-DD).")
@click.option(
    "--requester",
    required=True,
    help="Who asked (personal data: sealed, shown only to the case's officers); '-' reads "
    "it from standard input.",
)
@click.option("--summary", required=True, help="What is asked for (no personal data).")
@json_option
def open_(kind: str, received: datetime, requester: str, summary: str, as_json: bool) -> None:
    """Open a case; prints its id and due date.

    \b
    Examples:
      fivesafes request open --kind foi --received 2026-03-07 --requester "A. Person" \\
          --summary "Turnover by region, 2025"
      echo "A. Person" | fivesafes request open --kind sar --received 2026-03-07 \\
          --requester - --summary "My records"   # the name stays out of shell history
    """
    parse_kind(kind)  # a clear error before anything is sent
    view = call(
        "request.open",
        kind=kind,
        received=received.date().isoformat(),
        requester=_read_requester(requester),
        summary=summary,
    )
    emit(view, as_json, lambda: f"opened request #{view['id']}: {_due(view)}")


@request.command("show")
@click.argument("case_id", type=int)
@json_option
def show(case_id: int, as_json: bool) -> None:
    """Show a case and its clock (never the requester).

    \b
    Example:
      fivesafes request show 1
    """
    _view(as_json, call("request.show", case_id=case_id))


@request.command("list")
@click.option("--state", type=STATES, default=None, help="Only cases in this state.")
@json_option
def list_(state: str | None, as_json: bool) -> None:
    """List the cases, oldest first.

    \b
    Examples:
      fivesafes request list
      fivesafes request list --state assigned --json
    """
    views = call("request.list", state=state)
    emit(views, as_json, lambda: "\n".join(map(_line, views)) or "no requests")


@request.command("overdue")
@json_option
def overdue(as_json: bool) -> None:
    """Live cases past their due date, most overdue first.

    \b
    Example:
      fivesafes request overdue
    """
    views = call("request.overdue")
    emit(views, as_json, lambda: "\n".join(map(_line, views)) or "no request is overdue")


def _quarter(r: dict[str, Any]) -> str:
    # requests.timeliness.QuarterRow.as_dict(), from the server or this process
    percent = "-" if r["on_time_percent"] is None else f"{r['on_time_percent']}%"
    used = ", ".join(f"{k} {v}" for k, v in sorted(r["exemptions"].items())) or "-"
    return (
        f"{r['quarter']}  received {r['received']}  on time {r['on_time']} ({percent})  "
        f"late {r['late']}  pending {r['pending']}  withdrawn {r['withdrawn']}  "
        f"granted {r['granted']}  withheld in full {r['withheld_in_full']}  "
        f"in part {r['withheld_in_part']}  exemptions {used}"
    )


@request.command("timeliness")
@click.option("--kind", "kinds", type=KINDS, multiple=True, help="Only these kinds (repeat).")
@json_option
def timeliness(kinds: tuple[str, ...], as_json: bool) -> None:
    """Timeliness by quarter of receipt, in the shape of the government's FOI statistics.

    \b
    Examples:
      fivesafes request timeliness
      fivesafes request timeliness --kind foi --kind eir --json
    """
    for k in kinds:
        parse_kind(k)  # a clear error before anything is sent
    rows = call("request.timeliness", kinds=list(kinds))
    emit(
        rows,
        as_json,
        lambda: "\n".join(map(_quarter, rows)) or "no requests",
    )


@request.command("requester")
@click.argument("case_id", type=int)
@json_option
def requester_(case_id: int, as_json: bool) -> None:
    """Show who made the request (the case's officers only; audited).

    \b
    Example:
      fivesafes request requester 1
    """
    shown = call("request.requester", case_id=case_id)
    emit(shown, as_json, lambda: str(shown["requester"]))


@request.command("shred")
@json_option
def shred(as_json: bool) -> None:
    """Shred what cases past their retention period kept about people.

    The requester's details of every such case, and for a subject access request the
    subject's records found by `request subject-search` (sealed in the requests area).
    The case's facts (dates, outcome, exemptions) stay for the timeliness report.
    Each shredding is audited with the case, never with what was shredded. Run it
    from a daily job; the retention period is the `requests.retention_months` setting.

    \b
    Example:
      fivesafes request shred
    """
    done = call("request.shred")
    emit(
        done,
        as_json,
        lambda: (
            f"shredded the requester details of {len(done['shredded'])} case(s) and the "
            f"subject records of {len(done['subject_records'])}"
        ),
    )


@request.command("exempt")
@click.argument("case_id", type=int)
@click.option("--part", required=True, help="Which part of the answer is withheld.")
@click.option("--code", required=True, help="The exemption: s40(2), s41, s43, 12(5)(e), ...")
@click.option("--public-interest", default=None, help="The public-interest test (qualified).")
@json_option
def exempt(case_id: int, part: str, code: str, public_interest: str | None, as_json: bool) -> None:
    """Record a withheld part and the exemption it relies on.

    \b
    Example:
      fivesafes request exempt 1 --part "turnover of the largest firm" --code s43 \\
          --public-interest "harm to the firm outweighs the interest in the figure"
    """
    view = call(
        "request.exempt", case_id=case_id, part=part, code=code, public_interest=public_interest
    )
    _view(as_json, view)


@request.command("refusal-notice")
@click.argument("case_id", type=int)
def refusal_notice(case_id: int) -> None:
    """Print the refusal notice generated from the case's withheld parts.

    \b
    Example:
      fivesafes request refusal-notice 1 > notice.txt
    """
    click.echo(call("request.refusal_notice", case_id=case_id), nl=False)


@request.command("figure")
@click.argument("case_id", type=int)
@click.option("--dataset", required=True, help="AREA/NAME: the dataset the figure comes from.")
@click.option("--measure", required=True, help="The column summed, or 'count' for rows.")
@click.option("--cell", required=True, help="dim=code[,dim=code...]; codes joined by + group.")
@click.option("--contributor", default=None, help="The column naming each contributor.")
@click.option(
    "--weight",
    default=None,
    help="The survey weight column, where the published tables of the source are weighted "
    "(their spec's `weight`): the figure is then the weighted estimate, comparable with them.",
)
@click.option("--rule-set", default=DEFAULT_RULE_SET, show_default=True, help="Rules applied.")
@json_option
def figure(
    case_id: int,
    dataset: str,
    measure: str,
    cell: str,
    contributor: str | None,
    weight: str | None,
    rule_set: str,
    as_json: bool,
) -> None:
    """Compute a figure inside the area and pass it through the release checks.

    Exit status 3 when it is refused; the reasons name the rule or the disclosing
    combination, never the value.

    \b
    Examples:
      fivesafes request figure 1 --dataset business/survey --measure turnover \\
          --cell region=K02000001,industry=ALL --contributor enterprise_id --weight w
      fivesafes request figure 1 --dataset business/survey --measure count \\
          --cell region=N,industry=A+B+C     # A+B+C: the three industries together
    """
    from fivesafes.requests.figure import parse_cell  # pandas: not for --help

    parse_cell(cell)  # a clear error before anything is sent
    answer = call(
        "request.figure",
        case_id=case_id,
        dataset=dataset,
        measure=measure,
        cell=cell,
        contributor=contributor,
        weight=weight,
        rule_set=rule_set,
    )

    def text() -> str:
        if answer["approved"] and answer["value"] is not None:
            value = float(answer["value"])
            shown = f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
            return f"{answer['cell']} = {shown}  (approved, figure {answer['id']})"
        return f"{answer['cell']}: refused (figure {answer['id']})\n" + "\n".join(
            f"  - {r}" for r in answer["reasons"]
        )

    emit(answer, as_json, text)
    if not answer["approved"]:
        raise SystemExit(UnsafeTableError.exit_status)


@request.command("disclosure-log")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for disclosure-log.csv and disclosure-log.html.",
)
@json_option
def disclosure_log_(out: Path, as_json: bool) -> None:
    """Write the disclosure log (answered FOI/EIR cases, no personal data) as CSV and HTML.

    \b
    Example:
      fivesafes request disclosure-log --out public/foi
    """
    done = call("request.disclosure_log")
    count = int(done["entries"])
    # both files or neither, each renamed over the earlier log; the folder's other files
    # stay (cli/output_folder.py)
    texts = {"disclosure-log.csv": done["csv"], "disclosure-log.html": done["html"]}
    placed = place_files(
        out,
        {name: text_file(text) for name, text in texts.items()},
        option="--out",
    )
    written = [str(path) for path in placed.values()]
    emit(
        {"entries": count, "files": written},
        as_json,
        lambda: f"disclosure log: {count} answered request(s) in {out}",
    )


@request.command("attach-release")
@click.argument("case_id", type=int)
@click.argument("release_id")
@json_option
def attach_release(case_id: int, release_id: str, as_json: bool) -> None:
    """Record a published release (a table answer) as part of the case's answer.

    \b
    Example:
      fivesafes request attach-release 12 REL-0003
    """
    _view(as_json, call("request.attach_release", case_id=case_id, release_id=release_id))
