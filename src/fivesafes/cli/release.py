"""``fivesafes release``: submission, output checking by two reviewers, and publication.

The rule sets the checks apply are managed by ``fivesafes rules`` (:mod:`fivesafes.cli.rules`).
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import click

from fivesafes.cli.acting import call, call_upload, emit, json_option, opened, plain, server
from fivesafes.cli.colour import paint
from fivesafes.errors import ValidationError
from fivesafes.release.rulesets import DEFAULT_RULE_SET
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState

VOTES = click.Choice([v.value for v in Vote])


def _minute(when: str | None) -> str:
    """An ISO timestamp to the minute, as the lines show it."""
    return (when or "")[:16].replace("T", " ")


def _line(v: dict[str, Any]) -> str:
    return (
        f"#{v['id']:<4} {v['state']:<18} v{v['version']} {v['kind']:<5} {v['author']:<10} "
        f"{v['source']:<20} {v['title']}"
    )


def _detail(v: dict[str, Any]) -> str:
    lines = [
        _line(v),
        f"  area {v['area']}; owner now: {v['owner']}; rule set {v['rule_set'] or '-'}",
        f"  source {v['source']}: " + _source_line(v),
        f"  reviews in: {v['reviews_in']}/2; verdict: {v['verdict']}"
        + ("; CONFLICT: an output checker must resolve it" if v["conflict"] else ""),
    ]
    lines += [
        f"  review by {r['reviewer']}: {r['vote']} {r['comment']}".rstrip() for r in v["reviews"]
    ]
    current = v["versions"][-1]
    lines += [
        f"  check {c['name']}: {paint(c['verdict'].upper())} ({_when(c)}) - {c['summary']}"
        for c in current["checks"]
    ]
    earlier = len(current["check_history"]) - len(current["checks"])
    if earlier > 0:
        lines.append(f"  ({earlier} earlier check result(s) kept: --json shows check_history)")
    if v["blocked_by"]:
        lines.append(f"  {paint('BLOCKED')}: approval is refused until the output changes")
    lines += [
        f"  version {h['version']} by {h['submitted_by']} at {_minute(h['submitted_at'])}: "
        + ", ".join(f"{n} {d[:12]}" for n, d in h["files"].items())
        for h in v["versions"]
    ]
    return "\n".join(lines)


def _source_line(v: dict[str, Any]) -> str:
    # the release checks' modules bring the table code (pandas, SciPy): imported where
    # used, not for --help
    from fivesafes.release.source import UNVERIFIED

    if v["source_verified"]:
        return "verified (a stored table's provenance)"
    if v["source_confirmed_by"]:
        return f"{UNVERIFIED}; confirmed by the asset owner {v['source_confirmed_by']}"
    return f"{UNVERIFIED}; NOT yet confirmed by the area's asset owner (approval waits for it)"


def _when(c: dict[str, Any]) -> str:
    """When a check result was obtained: its stage, who ran it, the rule set in force."""
    parts = [c["stage"]]
    if c["run_by"]:
        parts.append(f"for {c['run_by']}")
    if c["checked_at"] is not None:
        parts.append(_minute(c["checked_at"]))
    if c["rule_set"]:
        parts.append(f"rule set {c['rule_set']}")
    return ", ".join(parts)


def _folder_tar(folder: Path, into: Path) -> Path:
    """The folder's cells.csv and report.json (and population.json, if the table covers
    part of the units) as a plain tar (the spec goes as text)."""
    from fivesafes.server.operations_release import FOLDER_FILES, FOLDER_SUFFIX

    archive = into / f"{folder.resolve().name}{FOLDER_SUFFIX}"
    with tarfile.open(archive, "w:") as tar:
        for name in FOLDER_FILES:
            if (folder / name).is_file():
                tar.add(folder / name, arcname=name, recursive=False)
    return archive


@click.group()
def release() -> None:
    """Output checking by two independent reviewers, and publication.

    \b
    States: submitted -> partially_reviewed -> reviewed -> approved -> released;
    reviewed -> returned (changes requested) -> submitted (new version) | rejected;
    the author may withdraw any time before release. Two output checkers (never
    the author) vote without seeing each other's vote until both are in.
    Approval and publication are refused while an automated check fails: the
    table audit, the rule set in force, or disclosure by differencing against
    every cell already published from the same source.

    \b
    Examples:
      fivesafes release submit --output earnings/pay-2026 --purpose "Annual bulletin"
      fivesafes release show 1
      fivesafes release approve 1 --comment "checked totals"
      fivesafes release review 1 --vote request_changes --comment "hide a4"
      fivesafes release publish 1
    """


@release.command("submit")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--output",
    metavar="AREA/NAME",
    help="Instead of PATH: a table stored in its area by `table protect --dataset`; its "
    "source is taken from the stored provenance (verified).",
)
@click.option(
    "--area",
    help="With PATH: the restricted area the output comes from (a session's folder names it).",
)
@click.option("--purpose", required=True, help="What the output is for.")
@click.option("--title", default="", help="Title (default: the table's name).")
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    help=(
        "A dataset used (repeatable): one you may read (staff: a grant to its area; an "
        "approved researcher: under the project, which must cover it)."
    ),
)
@click.option("--method-notes", default="", help="How the output was made.")
@click.option("--for", "for_release", default="", help="Which release or request it is for.")
@click.option(
    "--source",
    metavar="DATASET:MEASURE",
    help="With PATH (required): a dataset registered in the area and the table's measure; "
    "declared by you, shown to the reviewers as not verified. With --output or a "
    "session's folder: refused unless it is the proven source.",
)
@click.option("--spec", type=click.Path(exists=True, path_type=Path), help="The table's spec.")
@click.option("--rule-set", default=DEFAULT_RULE_SET, show_default=True)
@click.option("--request", "request_id", type=int, help="Resubmit a returned request.")
@click.option(
    "--project",
    default="",
    help="The approved project the output was made under (approved researchers: default "
    "your only active project covering its dataset; staff: optional, and refused unless "
    "it exists, is active today and covers the output's dataset).",
)
@json_option
def submit(
    path: Path | None,
    output: str | None,
    area: str | None,
    purpose: str,
    title: str,
    datasets: tuple[str, ...],
    method_notes: str,
    for_release: str,
    source: str | None,
    spec: Path | None,
    rule_set: str,
    request_id: int | None,
    project: str,
    as_json: bool,
) -> None:
    """Submit an output for output checking: a stored table, a table's folder, or a file.

    \b
    --output AREA/NAME submits a table that `table protect --dataset` stored
    in the area: what is checked is what the system computed, and the source
    (DATASET:MEASURE) that the differencing check compares it with comes from
    its provenance. PATH (a folder with cells.csv, report.json and the spec,
    or another file) needs --area and --source naming a dataset registered in
    the area; that source is declared, not verified, and the reviewers see so.
    A folder that `Session.finalise` wrote in an area (with source.json) needs
    neither: the table is computed again from the dataset (an audited read)
    and, every cell equal and no file changed since, its source is verified;
    otherwise it is refused.
    The audit, rule-set, source and differencing checks run now and their
    results are attached; a file gets a type/size check and a human check.
    You need a current grant to the area, valid training and the current
    declaration signed; an approved researcher also a current accreditation and
    an active project that includes them and covers the output's dataset
    and every --dataset named (--project, or their only such project),
    decided as a read is (audited). A project staff name must exist, be
    active today and cover the output's dataset.

    \b
    Examples:
      fivesafes release submit --output earnings/turnover-2026 --purpose "Bulletin"
      fivesafes release submit out/ --area earnings --source ashe:pay --purpose "Bulletin"
      fivesafes release submit chart.png --area earnings --purpose "Blog" --source ashe:pay
      fivesafes release submit --output earnings/t-2 --purpose "Bulletin" --request 3
    """
    if (path is None) == (output is None):
        raise ValidationError(
            "give exactly one of PATH or --output AREA/NAME",
            hint="--output submits a table stored by `table protect --dataset`; PATH a folder "
            "or file you hold",
        )
    common: dict[str, Any] = {
        "purpose": purpose,
        "datasets": list(datasets),
        "method_notes": method_notes,
        "for_release": for_release,
        "title": title,
        "source": source,
        "rule_set": rule_set,
        "request_id": request_id,
        "project": project,
    }
    if output is not None:
        if spec is not None or (area is not None and not output.startswith(f"{area}/")):
            raise ValidationError(
                "--spec and another --area do not go with --output",
                hint="a stored output keeps its spec and names its area: AREA/NAME",
            )
        view = call("release.submit", output=output, **common)
        emit(view, as_json, lambda: "submitted " + _detail(view))
        return
    assert path is not None
    if path.is_dir() and (path / "source.json").is_file():  # fivesafes.outputs.claim.CLAIM
        # a researcher session's folder: its source is proven by computing it again
        if spec is not None:
            raise ValidationError(
                "--spec does not go with a session's folder", hint="leave out --spec"
            )
        if server() is not None:
            # sent whole (source.json too: its digests cover every file); the server runs
            # the same service, computing the table again from the dataset
            from fivesafes.server.operations_session_folder import session_tar

            with tempfile.TemporaryDirectory() as scratch:
                archive = session_tar(path, Path(scratch))
                view = call_upload(
                    "release.submit_session", archive, area=area, folder=str(path), **common
                )
            emit(view, as_json, lambda: "submitted " + _detail(view))
            return
        # imported here: the outputs' tabulation (pandas, DuckDB) is not for every command
        from fivesafes.services.release.requests import SubmissionContext
        from fivesafes.services.release.session_folder import submit_session_folder

        context = SubmissionContext(purpose, datasets, method_notes, for_release, project)

        with opened() as (app, login):
            view = submit_session_folder(
                app.transaction,
                app.vault(),
                login,
                path,
                context,
                area=area,
                title=title,
                source=source,
                rule_set=rule_set,
                request_id=request_id,
            )
        emit(plain(view), as_json, lambda: "submitted " + _detail(plain(view)))
        return
    if area is None:
        raise ValidationError("--area is required with PATH", hint="give --area AREA")
    if not path.is_dir():
        view = call_upload("release.submit_file", path, area=area, **common)
        emit(view, as_json, lambda: "submitted " + _detail(view))
        return
    # a folder: read here first (what is missing is said about your folder), then sent
    from fivesafes.release.submission import read_table_dir
    from fivesafes.sdc import load_spec
    from fivesafes.server.operations_tables import spec_text

    read_table_dir(path, spec)
    spec_path = _spec_path(path, spec)
    with tempfile.TemporaryDirectory() as scratch:
        archive = _folder_tar(path, Path(scratch))
        view = call_upload(
            "release.submit_file",
            archive,
            area=area,
            spec=spec_text(load_spec(spec_path)).model_dump(),
            spec_name=spec_path.name,
            **common,
        )
    emit(view, as_json, lambda: "submitted " + _detail(view))


def _spec_path(folder: Path, spec: Path | None) -> Path:
    from fivesafes.release.submission import _spec_path as find

    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    return find(folder, report, spec)


@release.command("list")
@click.option("--state", type=click.Choice([s.value for s in RequestState]))
@json_option
def list_(state: str | None, as_json: bool) -> None:
    """List release requests, newest first.

    \b
    Example:
      fivesafes release list --state submitted
    """
    views = call("release.list", state=state)
    emit(views, as_json, lambda: "\n".join(_line(v) for v in views) or "no requests")


@release.command("show")
@click.argument("request_id", type=int)
@click.option(
    "--intervals",
    is_flag=True,
    help="Output checkers: also each hidden cell's required and achieved protection "
    "interval from the audit run at submission (confidential; the opening is audited "
    "as release.inspect, and refused to the author).",
)
@json_option
def show(request_id: int, intervals: bool, as_json: bool) -> None:
    """Show a request: state, checks, versions and the reviews you may see (blinded).

    \b
    Examples:
      fivesafes release show 1 --json
      fivesafes release show 1 --intervals
    """
    view = call("release.show", request_id=request_id)
    if not intervals:
        emit(view, as_json, lambda: _detail(view))
        return
    found = call("release.intervals", request_id=request_id)
    emit({**view, "intervals": found}, as_json, lambda: _detail(view) + _intervals(found))


def _intervals(found: dict[str, Any]) -> str:
    if found["mode"] is None:
        return "\n  no audit intervals were kept for this version"
    how = "exact" if found["mode"] == "exact" else "check mode: requirements proven"
    lines = [f"\n  audit intervals of version {found['version']} ({how}; CONFIDENTIAL):"]
    for c in found["cells"]:
        where = ", ".join(f"{d}={c['codes'][d]}" for d in found["dimensions"])
        required = f"required {c['required_text']}; " if c["required_text"] else ""
        lines.append(f"    {where} ({c['status']}): {required}achieved {c['achieved']}")
    return "\n".join(lines)


def _vote(request_id: int, vote: Vote, comment: str, as_json: bool) -> None:
    view = call("release.review", request_id=request_id, vote=vote.value, comment=comment)
    emit(view, as_json, lambda: f"{vote.value}: " + _detail(view))


@release.command("review")
@click.argument("request_id", type=int)
@click.option("--vote", required=True, type=VOTES)
@click.option("--comment", default="", help="Your reasons (shown to all once both are in).")
@json_option
def review(request_id: int, vote: str, comment: str, as_json: bool) -> None:
    """Record your vote as an output checker.

    \b
    Example:
      fivesafes release review 1 --vote request_changes --comment "hide area a4 too"
    """
    _vote(request_id, Vote(vote), comment, as_json)


@release.command("approve")
@click.argument("request_id", type=int)
@click.option("--comment", default="")
@json_option
def approve(request_id: int, comment: str, as_json: bool) -> None:
    """Vote to approve (refused while a check blocks it).

    \b
    Example:
      fivesafes release approve 1 --comment "totals checked"
    """
    _vote(request_id, Vote.APPROVE, comment, as_json)


@release.command("reject")
@click.argument("request_id", type=int)
@click.option("--comment", default="")
@json_option
def reject(request_id: int, comment: str, as_json: bool) -> None:
    """Vote to reject.

    \b
    Example:
      fivesafes release reject 1 --comment "identifies a business"
    """
    _vote(request_id, Vote.REJECT, comment, as_json)


@release.command("resolve")
@click.argument("request_id", type=int)
@click.option("--outcome", required=True, type=click.Choice(["request_changes", "reject"]))
@click.option("--comment", required=True)
@json_option
def resolve(request_id: int, outcome: str, comment: str, as_json: bool) -> None:
    """Resolve conflicting reviews: return the request to its author, or reject it.

    \b
    Example:
      fivesafes release resolve 1 --outcome request_changes --comment "hide a4"
    """
    view = call("release.resolve", request_id=request_id, outcome=outcome, comment=comment)
    emit(view, as_json, lambda: _detail(view))


@release.command("confirm-source")
@click.argument("request_id", type=int)
@click.option("--note", required=True, help="How you know the output comes from its source.")
@json_option
def confirm_source(request_id: int, note: str, as_json: bool) -> None:
    """Confirm, as the area's asset owner, the source an author declared for a folder or file.

    A declared source is not proven: approval of the request cannot complete until
    the area's information asset owner confirms it (audited). A new version needs a
    new confirmation. A table made by `table protect --dataset` (submitted with
    --output) has a verified source and needs none.

    \b
    Example:
      fivesafes release confirm-source 4 --note "made from the 2026 survey extract"
    """
    view = call("release.confirm_source", request_id=request_id, note=note)
    emit(view, as_json, lambda: "source confirmed: " + _detail(view))


@release.command("withdraw")
@click.argument("request_id", type=int)
@click.option("--reason", default="")
@json_option
def withdraw(request_id: int, reason: str, as_json: bool) -> None:
    """Withdraw your request (any time before release).

    \b
    Example:
      fivesafes release withdraw 1 --reason "superseded"
    """
    view = call("release.withdraw", request_id=request_id, reason=reason)
    emit(view, as_json, lambda: "withdrawn " + _line(view))


@release.command("publish")
@click.argument("request_id", type=int)
@click.option(
    "--organisation",
    default=None,
    help="The organisation named in the bundle [default: the publication_organisation setting].",
)
@click.option(
    "--withhold-thresholds",
    is_flag=True,
    help="Do not state exact rule thresholds in the methods note. An area set to withhold "
    "them (`area set AREA --withhold-thresholds`) always does, with or without this flag.",
)
@click.option(
    "--wide-csv",
    is_flag=True,
    help="Also write each table's wide layout (as in the spreadsheets) as NAME_wide.csv, "
    "besides the tidy CSV (one row per cell, with a status column).",
)
@json_option
def publish(
    request_id: int,
    organisation: str | None,
    withhold_thresholds: bool,
    wide_csv: bool,
    as_json: bool,
) -> None:
    """Publish an approved request: bundle in the releases folder, cells in the register.

    The bundle's contact comes from the publication_contact setting (config.toml).

    \b
    Example:
      fivesafes release publish 1 --organisation "Office for Statistics"
    """
    done = call(
        "release.publish",
        request_id=request_id,
        organisation=organisation,
        withhold_thresholds=withhold_thresholds,
        wide_csv=wide_csv,
    )
    emit(
        done,
        as_json,
        lambda: (
            f"published {done['release_id']}: {done['cells']} cells in the register; "
            f"bundle {done['bundle_path']}"
        ),
    )


@release.command("published")
@click.option("--source", help="Only releases of this source.")
@json_option
def published(source: str | None, as_json: bool) -> None:
    """List published releases (the register).

    \b
    Example:
      fivesafes release published --source ashe:pay
    """
    rows = call("release.published", source=source)
    emit(
        rows,
        as_json,
        lambda: (
            "\n".join(
                f"{r['release_id']} {r['published_on']} {r['source']} {r['cells']} cells "
                f"{r['bundle_path']}"
                for r in rows
            )
            or "nothing published"
        ),
    )


@release.command("reconcile")
@json_option
def reconcile(as_json: bool) -> None:
    """Settle what a crashed publication left in the releases folder (audited).

    A staged bundle never committed to the register is removed; one whose
    publication committed is checked against the register's manifest and put in
    place; a folder the register does not know is moved to releases/.orphaned/.
    Every publication does this first. Administrators only.

    \b
    Example:
      fivesafes release reconcile
    """
    done = call("release.reconcile")
    emit(
        done,
        as_json,
        lambda: (
            "\n".join(f"{d['release']}: {d['action']} ({d['outcome']})" for d in done)
            or "nothing to reconcile"
        ),
    )
