"""``table protect --dataset`` as an operation: the specs travel as text, the table stays.

A spec names its hierarchies (and its ptables, under ``[perturbation]``) as files beside
it; the client sends each spec's text and the text of each of those files (codes and
probabilities, not data), and the server writes them to a private folder of its own to
read them there, so a spec cannot make the server read a file of its choosing. The
protected tables are stored encrypted in the area; what comes back is their counts and
method, never a cell's value.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from fivesafes.app import App
from fivesafes.engine import get_tabulator
from fivesafes.errors import SpecError, ValidationError
from fivesafes.governance.grants import STATISTICAL
from fivesafes.sdc import Progress, TableSpec, parse_spec
from fivesafes.server.operation import Operation, Params
from fivesafes.server.upload import safe_name, scratch_folder

# [perturbation]'s keys that name a file (a ptable CSV): PerturbationSpec's fields too
PTABLE_KEYS: tuple[Literal["ptable", "magnitude_ptable"], ...] = ("ptable", "magnitude_ptable")


class SpecText(Params):
    text: str = Field(min_length=1, max_length=1_000_000)
    # the text of each [[dimension]]'s hierarchy file, in order (None: it has none)
    hierarchies: list[str | None] = Field(default_factory=list, max_length=50)
    # the text of each ptable file [perturbation] names, by its key
    ptables: dict[Literal["ptable", "magnitude_ptable"], str] = Field(default_factory=dict)


class TableProtect(Params):
    dataset: str = Field(min_length=3, max_length=130)
    specs: list[SpecText] = Field(min_length=1, max_length=50)
    purpose: str = Field(default=STATISTICAL, min_length=1, max_length=64)
    project: str | None = Field(default=None, max_length=64)
    secondary: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=64)
    engine: str | None = Field(default=None, pattern="^(duckdb|polars|spark)$")
    engine_master: str | None = Field(default=None, max_length=500)
    with_releases: bool = True
    method: str | None = Field(default=None, max_length=64)


def spec_text(spec: TableSpec) -> SpecText:
    """What the client sends of a spec it loaded: its text and its hierarchies' texts."""
    return SpecText(
        text=spec.source_text,
        hierarchies=[
            d.hierarchy.read_text(encoding="utf-8-sig") if d.hierarchy is not None else None
            for d in spec.dimensions
        ],
        ptables={
            key: _client_text(path)
            for key in PTABLE_KEYS
            if (path := getattr(spec.perturbation, key)) is not None
        },
    )


def _client_text(path: Path) -> str:
    # the bytes as they are (no newline translation): the register keeps their SHA-256
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpecError(
            f"ptable {path} does not exist", hint="give the path of a ptable CSV"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read ptable {path}: {exc}", hint="give a UTF-8 CSV") from None


def spec_in(folder: Path, index: int, sent: SpecText) -> TableSpec:
    """The spec sent, parsed with its hierarchies written in ``folder`` (the server's own)."""
    try:
        raw = tomllib.loads(sent.text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(
            f"spec #{index + 1} is not valid TOML: {exc}", hint="fix the spec"
        ) from None
    dims = raw.get("dimension")
    if isinstance(dims, list):
        for i, d in enumerate(dims):
            if not isinstance(d, dict) or "hierarchy" not in d:
                continue
            content = sent.hierarchies[i] if i < len(sent.hierarchies) else None
            if content is None:
                raise SpecError(
                    f"spec #{index + 1}: dimension #{i + 1}'s hierarchy was not sent",
                    hint="send the hierarchy's text with the spec (the CLI does)",
                )
            # the file's own base name, as reviewers see it; its folder is this one
            local = folder / f"s{index}-d{i}" / safe_name(str(d["hierarchy"]))
            local.parent.mkdir(mode=0o700)
            local.write_text(content, encoding="utf-8")
            d["hierarchy"] = str(local.relative_to(folder))
    _ptables_in(folder, index, raw.get("perturbation"), sent)
    return parse_spec(raw, base_dir=folder, source_text=sent.text)


def _ptables_in(folder: Path, index: int, perturbation: Any, sent: SpecText) -> None:
    """Each ptable the spec names, written in ``folder`` from the text sent (never read
    from the path named: that would be a file of the server's machine)."""
    if not isinstance(perturbation, dict):
        return  # parse_spec says what is wrong with it
    for key in PTABLE_KEYS:
        named = perturbation.get(key)
        if not isinstance(named, str) or not named:
            continue
        content = sent.ptables.get(key)
        if content is None:
            raise SpecError(
                f"spec #{index + 1}: the file of [perturbation] {key} was not sent",
                hint="send the ptable's text with the spec (the CLI sends it); the server "
                "never reads a file a spec names",
            )
        local = folder / f"s{index}-{key}" / safe_name(named)
        local.parent.mkdir(mode=0o700)
        local.write_bytes(content.encode("utf-8"))
        perturbation[key] = str(local.relative_to(folder))


def protect(app: App, login: str, p: TableProtect, progress: Progress | None = None) -> Any:
    """Protect and store the tables; ``progress`` only in process (a server shows none)."""
    from fivesafes.services.vault.read import split_dataset_ref
    from fivesafes.services.vault.tables import protect_dataset_for

    area, dataset = split_dataset_ref(p.dataset)
    if p.engine_master is not None and app.serving:
        # a caller must not point the server's engine at a host of its choosing
        raise ValidationError(
            "--engine-master is the server's setting: it is refused through the server",
            hint="drop --engine-master; the server uses its workspace's [engine] settings",
        )
    folder = scratch_folder(app.workspace.home)
    try:
        specs = [spec_in(folder, i, s) for i, s in enumerate(p.specs)]
        setting = app.workspace.setting
        tabulator = get_tabulator(
            p.engine or setting("engine_name"), master=p.engine_master or setting("engine_master")
        )
        done = protect_dataset_for(
            app.transaction,
            app.vault(),
            login,
            area,
            dataset,
            specs,
            p.purpose,
            secondary=p.secondary,
            project_ref=p.project,
            name=p.name,
            tabulator=tabulator,
            with_releases=p.with_releases,
            method=p.method,
            progress=progress,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return [
        {
            "table": d.table,
            "output": f"{d.output.area}/{d.output.name}",
            "object_id": d.output.object_id,
            "source": d.source,
            "spec_sha256": d.spec_sha256,
            "cells": d.cells,
            "by_status": d.by_status,
            "by_rule": d.by_rule,
            "secondary": d.method,
            "audit": d.audit,
            "rows": d.rows,
            "notes": list(d.notes),
            "with_releases": d.with_releases,
            "published_releases": list(d.published_releases),
            "hidden_for_releases": d.hidden_for_releases,
            "population": d.population,
            "membership": d.membership,
        }
        for d in done
    ]


TABLE_OPERATIONS = (
    Operation(
        "table.protect", TableProtect, protect, "Protect tables of an area's dataset (kept there)."
    ),
)
