"""`fivesafes request subject-search` and `subject-export`: a subject access request's records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from fivesafes.cli.acting import call, emit, json_option


@click.command("subject-search")
@click.argument("case_id", type=int)
@click.option(
    "--identifier",
    required=True,
    help="The subject's identifier as the data hold it before pseudonymisation "
    "(e.g. a person or enterprise reference); it is never written to the log.",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    help="A column holding identifiers as written (repeatable). Pseudonymised columns "
    "are always searched, through each area's pseudonym key.",
)
@json_option
def subject_search(case_id: int, identifier: str, columns: tuple[str, ...], as_json: bool) -> None:
    """Find a subject access request's records in every area and seal them for the case.

    The system searches; the officer sees only how many rows each dataset gave, and
    exports them with `fivesafes request subject-export` for sending. The officer must
    pass the people checks (training, declaration) for every area searched.

    \b
    Example:
      fivesafes request subject-search 7 --identifier P-123456 --column person_ref
    """
    found = call(
        "request.subject_search", case_id=case_id, identifier=identifier, columns=list(columns)
    )

    def text() -> str:
        # services.requests.subject.SubjectSearch as JSON-ready data
        lines = [f"request #{case_id}: {len(found['searched'])} dataset(s) searched"]
        lines += [f"  {f['area']}/{f['dataset']}: {f['rows']} row(s) ({', '.join(f['columns'])})"
                  for f in found["found"]]  # fmt: skip
        if not found["found"]:
            lines.append("  no records of this subject were found")
        return "\n".join(lines)

    emit(found, as_json, text)


@click.command("subject-export")
@click.argument("case_id", type=int)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="A private folder (created 0700) for one CSV per dataset, to send to the subject.",
)
@json_option
def subject_export(case_id: int, out: Path, as_json: bool) -> None:
    """Write the records found for a subject access request, for sending (audited).

    \b
    Example:
      fivesafes request subject-export 7 --out sar-7
    """
    # the case's officer only (audited); the files come back from the server, or from
    # the vault in process, and are written here into a new private folder
    done = call("request.subject_export", case_id=case_id)
    from fivesafes.services.requests import subject  # the vault: not for --help

    written = subject.write_subject_export(out, done["files"])
    emit(
        {"files": [str(p) for p in written]},
        as_json,
        lambda: f"request #{case_id}: {len(written)} file(s) in {out} for the subject",
    )


IDENTIFIER = click.option(
    "--identifier",
    required=True,
    help="The subject's identifier as the data hold it before pseudonymisation; "
    "it is never written to the log.",
)
COLUMNS = click.option(
    "--column",
    "columns",
    multiple=True,
    help="A column holding identifiers as written (repeatable). Pseudonymised columns "
    "are always searched, through each area's pseudonym key.",
)


def _outcomes_text(case_id: int, what: str, outcomes: list[dict[str, Any]]) -> str:
    # services.requests.rights.RightOutcome as JSON-ready data (from the server or not)
    lines = [f"request #{case_id}: {what}"]
    for o in outcomes:
        state = "done" if o["done"] else f"refused: {o['reason']}"
        lines.append(f"  {o['area']}/{o['dataset']}: {o['rows']} row(s), {state}")
    if not outcomes:
        lines.append("  no records of this subject were found")
    return "\n".join(lines)


@click.command("erase")
@click.argument("case_id", type=int)
@IDENTIFIER
@COLUMNS
@json_option
def erase(case_id: int, identifier: str, columns: tuple[str, ...], as_json: bool) -> None:
    """Erase a data subject's records (UK GDPR Art 17), where the lawful basis allows.

    For a subject access case (--kind sar), by its officer. Every dataset holding the
    subject's rows is either rewritten without them (a new encrypted version; the old
    one crypto-shredded and the area key rotated) or, when it is held for statistics,
    research or archiving (its registered lawful basis says so: Art 17(3)(d)), left as
    it is with the reason recorded. The log keeps, per dataset, the rows concerned and
    the outcome; never the identifier. Example:

    \b
        fivesafes request erase 7 --identifier P-123456 --column person_ref
    """
    done = call("request.erase", case_id=case_id, identifier=identifier, columns=list(columns))
    emit(done, as_json, lambda: _outcomes_text(case_id, "erasure", done))


def _settings(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip():
            raise click.BadParameter(
                "give COLUMN=VALUE, e.g. --set postcode=AB1 2CD", param_hint="--set"
            )
        values[column.strip()] = value
    return values


@click.command("rectify")
@click.argument("case_id", type=int)
@IDENTIFIER
@click.option(
    "--set",
    "pairs",
    multiple=True,
    required=True,
    metavar="COLUMN=VALUE",
    help="The corrected value of a column in the subject's rows (repeatable); never logged.",
)
@COLUMNS
@json_option
def rectify(
    case_id: int, identifier: str, pairs: tuple[str, ...], columns: tuple[str, ...], as_json: bool
) -> None:
    """Correct a data subject's records (UK GDPR Art 16), where the lawful basis allows.

    As `request erase`, but the subject's rows stay, with the named columns replaced.
    A pseudonymised column is not corrected (it is how the subject is found). Data held
    for statistics, research or archiving are left as they are with the reason recorded
    (DPA 2018 Sch 2 Part 6 para 27). The log names the columns corrected, never the
    values. Example:

    \b
        fivesafes request rectify 7 --identifier P-123456 --column person_ref \\
            --set postcode="AB1 2CD"
    """
    values = _settings(pairs)
    done = call(
        "request.rectify",
        case_id=case_id,
        identifier=identifier,
        values=values,
        columns=list(columns),
    )
    emit(done, as_json, lambda: _outcomes_text(case_id, "rectification", done))
