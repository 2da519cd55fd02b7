"""`fivesafes request subject-search` and `subject-export`: a subject access request's records."""

from __future__ import annotations

from pathlib import Path

import click

from fivesafes.cli.acting import emit, json_option, opened
from fivesafes.services.requests import subject


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
    """
    with opened() as (app, login):
        found = subject.search_subject(
            app.transaction, app.vault(), login, case_id, identifier, columns=columns
        )

    def text() -> str:
        lines = [f"request #{case_id}: {len(found.searched)} dataset(s) searched"]
        lines += [f"  {f.area}/{f.dataset}: {f.rows} row(s) ({', '.join(f.columns)})"
                  for f in found.found]  # fmt: skip
        if not found.found:
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
    """Write the records found for a subject access request, for sending (audited)."""
    with opened() as (app, login):
        written = subject.export_subject(app.transaction, app.vault(), login, case_id, out)
    emit(
        {"files": [str(p) for p in written]},
        as_json,
        lambda: f"request #{case_id}: {len(written)} file(s) in {out} for the subject",
    )
