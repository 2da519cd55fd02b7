"""Release operations: submit (a stored table, or a folder or file sent), the reviews,
publication and the register. What is checked, voted and published stays in the
server's workspace; what comes back is the request as the caller may see it (blinded)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from fivesafes.app import Acting, App
from fivesafes.errors import ValidationError
from fivesafes.governance import permissions
from fivesafes.release.rulesets import DEFAULT_RULE_SET, RuleSetting
from fivesafes.release.submission import (
    CELLS,
    POPULATION,
    REPORT,
    Submission,
    read_file,
    read_table_dir,
)
from fivesafes.release.votes import Vote
from fivesafes.release.workflow import RequestState
from fivesafes.server.operation import Operation, Params, in_one, in_one_sealing, plain
from fivesafes.server.operations_tables import SpecText, spec_in
from fivesafes.server.upload import UploadOperation, safe_name, scratch_folder, unpack_files
from fivesafes.services.release import inspect as release_inspect
from fivesafes.services.release import publish as release_publish
from fivesafes.services.release import register as published_register
from fivesafes.services.release import requests as release_requests
from fivesafes.services.release import reviews as release_reviews
from fivesafes.services.release import rule_sets
from fivesafes.services.release.reconcile import reconcile_releases
from fivesafes.services.release.requests import SubmissionContext

RequestId = Field(ge=1, le=2**31 - 1)
Short = Field(default="", max_length=2000)
# the media type of a folder sent for submission: a plain tar of its regular files
FOLDER_SUFFIX = ".fivesafes-folder.tar"
FOLDER_FILES = (CELLS, REPORT, POPULATION)  # population.json: a table of part of the units


class Submit(Params):
    purpose: str = Field(min_length=1, max_length=2000)
    title: str = Field(default="", max_length=500)
    # (a dataset's name is at most 64 characters: a longer one is copied into the audit log
    # and the refusal only to say it is not registered)
    datasets: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=50
    )
    method_notes: str = Field(default="", max_length=20_000)
    for_release: str = Short
    source: str | None = Field(default=None, max_length=200)
    rule_set: str = Field(default=DEFAULT_RULE_SET, max_length=64)
    request_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    project: str = Field(default="", max_length=64)

    def context(self) -> SubmissionContext:
        return SubmissionContext(
            self.purpose, tuple(self.datasets), self.method_notes, self.for_release, self.project
        )


class SubmitStored(Submit):
    output: str = Field(min_length=3, max_length=130)


class SubmitPath(Submit):
    area: str = Field(min_length=1, max_length=64)
    # a folder's spec, sent as text with its hierarchies (None: a single file is sent)
    spec: SpecText | None = None
    spec_name: str | None = Field(default=None, max_length=200)


class StateFilter(Params):
    state: RequestState | None = None


class RequestRef(Params):
    request_id: int = RequestId


class VoteParams(Params):
    request_id: int = RequestId
    vote: Vote
    comment: str = Short


class Resolve(Params):
    request_id: int = RequestId
    outcome: Vote
    comment: str = Field(min_length=1, max_length=2000)


class ConfirmSource(Params):
    request_id: int = RequestId
    note: str = Field(min_length=1, max_length=2000)


class Withdraw(Params):
    request_id: int = RequestId
    reason: str = Short


class Publish(Params):
    request_id: int = RequestId
    organisation: str | None = Field(default=None, max_length=500)
    withhold_thresholds: bool = False
    wide_csv: bool = False


class PublishedFilter(Params):
    source: str | None = Field(default=None, max_length=200)


class RuleSetParams(Params):
    name: str = Field(min_length=1, max_length=64)
    threshold: int | None = Field(default=None, ge=0, le=10**6)
    p_percent: float | None = Field(default=None, ge=0, le=100)
    dominance: list[list[float]] = Field(default_factory=list, max_length=10)
    frequency_threshold: int | None = Field(default=None, ge=0, le=10**6)
    zeros: str | None = Field(default=None, pattern="^(safe|sensitive)$")
    note: str = Short


class NoParams(Params):
    """No parameters."""


def _rule_set(r: RuleSetting) -> dict[str, Any]:
    shown: dict[str, Any] = plain(r)
    return shown | {"label": r.label}


def _rules_set(app: App, login: str, p: RuleSetParams) -> Any:
    params: dict[str, Any] = {"threshold": p.threshold}
    if p.p_percent is not None:
        params["p_percent"] = p.p_percent
    if p.dominance:
        params["dominance"] = p.dominance
    if p.frequency_threshold is not None:
        params["frequency_threshold"] = p.frequency_threshold
    if p.zeros:
        params["zeros"] = p.zeros
    return in_one(
        app,
        login,
        lambda a: _rule_set(rule_sets.define_rule_set(a.session, a.actor, p.name, params, p.note)),
    )


def _rules_list(app: App, login: str, _p: NoParams) -> Any:
    return in_one(app, login, lambda a: [_rule_set(r) for r in rule_sets.list_rule_sets(a.session)])


def _submit_stored(app: App, login: str, p: SubmitStored) -> Any:
    vault = app.vault()
    area, sep, name = p.output.partition("/")  # malformed: the service says so

    def admit(a: Acting) -> None:
        if sep:  # (malformed: nothing to decide on; the submission says what is wrong)
            release_requests.admit_submission(
                a.session, a.actor, area, p.context(), output_name=name
            )

    return in_one_sealing(
        app,
        login,
        vault,
        area if sep else None,
        lambda a: release_requests.submit_stored_output(
            a.session,
            a.actor,
            vault,
            p.output,
            p.context(),
            title=p.title,
            source=p.source,
            rule_set=p.rule_set,
            request_id=p.request_id,
        ),
        admit=admit,
    )


def _unpack_folder(archive: Path, into: Path) -> Path:
    """The folder a client sent as a tar: its cells.csv and report.json (and the
    population.json of a table of part of the units), nothing else."""
    taken = f"{CELLS} and {REPORT} (and {POPULATION}, of a table of part of the units)"
    return unpack_files(
        archive,
        into / archive.name.removesuffix(FOLDER_SUFFIX),
        refuse=lambda name, plain: (
            None if plain and name in FOLDER_FILES else f"only {taken} are taken"
        ),
        max_files=len(FOLDER_FILES),
        hint="send the table's cells.csv, report.json (and population.json, if any); "
        "the spec goes as text",
    )


def submission_of(path: Path, p: SubmitPath, scratch: Path) -> Submission:
    """What ``path`` (a file, or a folder's cells and report sent as a tar) submits."""
    if not path.name.endswith(FOLDER_SUFFIX):
        return read_file(path)
    if p.spec is None or p.spec_name is None:
        raise ValidationError(
            "a folder sent for submission needs its spec", hint="the CLI sends it; send spec"
        )
    folder = _unpack_folder(path, scratch)
    spec_path = folder / safe_name(p.spec_name)
    if spec_path.exists():
        raise ValidationError(f"the folder sent already holds {spec_path.name}", hint="")
    spec_path.write_text(p.spec.text, encoding="utf-8")
    loaded = spec_in(scratch, 0, p.spec)
    return read_table_dir(folder, spec_path, loaded=loaded)


def _submit_path(app: App, login: str, p: SubmitPath, path: Path) -> Any:
    scratch = scratch_folder(app.workspace.home)
    try:
        item = submission_of(path, p, scratch)
        vault = app.vault()
        provider = vault.provider

        def act(a: Acting) -> Any:
            return release_requests.submit_output(
                a.session,
                a.actor,
                provider,
                p.area,
                item,
                p.context(),
                title=p.title,
                source=p.source,
                rule_set=p.rule_set,
                request_id=p.request_id,
            )

        return in_one_sealing(
            app,
            login,
            vault,
            p.area,
            act,
            admit=lambda a: release_requests.admit_submission(
                a.session, a.actor, p.area, p.context(), source=p.source, request_id=p.request_id
            ),
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _list(app: App, login: str, p: StateFilter) -> Any:
    return in_one(app, login, lambda a: release_requests.list_requests(a.session, login, p.state))


def _show(app: App, login: str, p: RequestRef) -> Any:
    return in_one(
        app, login, lambda a: release_requests.get_request(a.session, p.request_id, login)
    )


def _intervals(app: App, login: str, p: RequestRef) -> Any:
    # the confidential intervals: the same permission and audited opening as the web's
    # request page (an output checker who is not the author, people checks passed)
    provider = app.vault().provider

    def act(a: Acting) -> Any:
        view, _content, found = release_inspect.inspect_with_intervals(
            a.session, a.actor, provider, p.request_id
        )
        if found is None:
            return {"request_id": view.id, "version": view.version, "mode": None, "cells": []}
        return {
            "request_id": view.id,
            "version": view.version,
            "mode": found.mode,
            "safe": found.safe,
            "dimensions": list(found.dimensions),
            "cells": found.rows(),
        }

    return in_one(app, login, act)


def _vote(app: App, login: str, p: VoteParams) -> Any:
    vault = app.vault()
    return in_one(
        app,
        login,
        lambda a: release_reviews.review_request(
            a.session, a.actor, vault.provider, p.request_id, p.vote, p.comment, vault=vault
        ),
    )


def _resolve(app: App, login: str, p: Resolve) -> Any:
    return in_one(
        app,
        login,
        lambda a: release_reviews.resolve_conflict(
            a.session, a.actor, p.request_id, p.outcome, p.comment
        ),
    )


def _confirm(app: App, login: str, p: ConfirmSource) -> Any:
    from fivesafes.services.release.sources import confirm_source

    return in_one(app, login, lambda a: confirm_source(a.session, a.actor, p.request_id, p.note))


def _withdraw(app: App, login: str, p: Withdraw) -> Any:
    return in_one(
        app,
        login,
        lambda a: release_requests.withdraw_request(a.session, a.actor, p.request_id, p.reason),
    )


def _publish(app: App, login: str, p: Publish) -> Any:
    workspace = app.workspace
    vault = app.vault()
    # the hidden cells are sealed under the request's area's key, read first: the key is
    # held for sealing before the publication's transaction begins
    with app.transaction() as session:
        area = release_publish.publication_area(session, p.request_id)
    return in_one_sealing(
        app,
        login,
        vault,
        area,
        lambda a: release_publish.publish_request(
            a.session,
            a.actor,
            vault.provider,
            workspace.releases_dir,
            p.request_id,
            organisation=p.organisation or workspace.setting("publication_organisation"),
            withhold_thresholds=p.withhold_thresholds,
            contact=workspace.setting("publication_contact"),
            wide_csv=p.wide_csv,
            vault=vault,
        ),
        admit=lambda a: release_publish.check_may_publish(a.session, a.actor, p.request_id),
    )


def _reconcile(app: App, login: str, _p: NoParams) -> Any:
    releases_dir = app.workspace.releases_dir

    def act(a: Acting) -> Any:
        # it moves and removes folders in the releases folder: the administrators' (and
        # every publication's own first step), not anyone's who can reach the server
        permissions.check_administer(a.actor.person)
        events = reconcile_releases(a.session, releases_dir)
        return [{"release": e.subject, **e.details, "outcome": e.outcome.value} for e in events]

    return in_one(app, login, act)


def _published(app: App, login: str, p: PublishedFilter) -> Any:
    return in_one(app, login, lambda a: published_register.list_published(a.session, p.source))


RELEASE_OPERATIONS = (
    Operation("release.submit", SubmitStored, _submit_stored, "Submit a stored table."),
    Operation("release.list", StateFilter, _list, "Release requests, newest first."),
    Operation("release.show", RequestRef, _show, "One request (reviews blinded)."),
    Operation("release.intervals", RequestRef, _intervals, "Audit intervals (checkers, audited)."),
    Operation("release.review", VoteParams, _vote, "Vote as an output checker."),
    Operation("release.resolve", Resolve, _resolve, "Resolve conflicting reviews."),
    Operation("release.confirm_source", ConfirmSource, _confirm, "Confirm a declared source."),
    Operation("release.withdraw", Withdraw, _withdraw, "Withdraw your request."),
    Operation("release.publish", Publish, _publish, "Publish an approved request."),
    Operation("release.published", PublishedFilter, _published, "The published register."),
    Operation("release.reconcile", NoParams, _reconcile, "Settle crashed publications (admins)."),
    Operation("rules.set", RuleSetParams, _rules_set, "Put a rule set version in force."),
    Operation("rules.list", NoParams, _rules_list, "The rule sets in force."),
)

RELEASE_UPLOADS = (
    UploadOperation(
        "release.submit_file", SubmitPath, _submit_path, "Submit a folder or file sent."
    ),
)
