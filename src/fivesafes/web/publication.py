"""The publication pages: published releases, one release's bundle (files, manifest hashes,
methods note) and the register of published cells per source, searchable (read-only).

The register is read through the same service as ``fivesafes release published``; the
bundle's files are read from the release folder the register names, and each is shown with
its manifest hash and whether the file on disk still has it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import Response

from fivesafes.errors import NotFoundError
from fivesafes.server.acting import acting_as
from fivesafes.server.api import ServerContext
from fivesafes.services.release import register as register_svc
from fivesafes.web.auth import PREFIX
from fivesafes.web.render import page
from fivesafes.web.roles import PUBLICATION_READERS, require_any
from fivesafes.web.sessions import WebSession

SHOWN_CELLS = 500  # the register search shows at most this many matches (and says so)
NOTE_LIMIT = 200_000  # characters of the methods note shown


@dataclass(frozen=True)
class BundleFile:
    """One file of a published bundle as the page shows it."""

    name: str
    manifest_hash: str
    size: int | None  # None: missing from the folder
    intact: bool


def _bundle_files(folder: Path, manifest: dict[str, str]) -> list[BundleFile]:
    out = []
    for name, digest in sorted(manifest.items()):
        path = folder / name
        if path.is_file() and path.resolve().is_relative_to(folder.resolve()):
            data = path.read_bytes()
            out.append(
                BundleFile(name, digest, len(data), hashlib.sha256(data).hexdigest() == digest)
            )
        else:
            out.append(BundleFile(name, digest, None, False))
    return out


def releases(ctx: ServerContext, web: WebSession, source: str, query: str) -> Response:
    """Every published release, and the register's cells of one source matching ``query``."""
    require_any(ctx, web, PUBLICATION_READERS, f"{PREFIX}/publication")
    with acting_as(ctx.app, web.login) as acting:
        every = register_svc.list_published(acting.session)
        cells = register_svc.published_cells(acting.session, source) if source else None
    matches: list[dict[str, object]] = []
    total = 0
    if cells is not None:
        needle = query.strip().lower()
        for rel, on, codes, value in cells.itertuples(index=False, name=None):
            shown = ", ".join(f"{k}={v}" for k, v in json.loads(codes).items())
            if needle and needle not in shown.lower() and needle not in str(rel).lower():
                continue
            total += 1
            if len(matches) < SHOWN_CELLS:
                matches.append({"release": rel, "on": on, "codes": shown, "value": value})
    return page(
        "publication.html",
        title="Publication",
        me=web.login,
        csrf=web.csrf,
        releases=every,
        sources=sorted({r.source for r in every}),
        source=source,
        query=query,
        cells=matches,
        total=total,
        limit=SHOWN_CELLS,
    )


def release_page(ctx: ServerContext, web: WebSession, release_id: str) -> Response:
    """One release: its register entry, its bundle's files with hashes, its methods note."""
    require_any(ctx, web, PUBLICATION_READERS, f"{PREFIX}/publication")
    with acting_as(ctx.app, web.login) as acting:
        found = [
            r for r in register_svc.list_published(acting.session) if r.release_id == release_id
        ]
    if not found:
        raise NotFoundError(
            f"no published release {release_id}", hint="choose one from the publication page"
        )
    release = found[0]
    folder = Path(release.bundle_path)
    files = _bundle_files(folder, release.manifest)
    note_path = folder / "methods.md"
    note = ""
    if "methods.md" in release.manifest and note_path.is_file():
        note = note_path.read_text(encoding="utf-8", errors="replace")[:NOTE_LIMIT]
    return page(
        "release.html",
        title=f"Release {release.release_id}",
        me=web.login,
        csrf=web.csrf,
        rel=release,
        files=files,
        note=note,
    )
