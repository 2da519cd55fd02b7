"""``fivesafes backup`` and ``fivesafes restore``: the workspace in one verified archive."""

from __future__ import annotations

from pathlib import Path

import click

from fivesafes.cli.acting import emit, json_option, service_account_only
from fivesafes.workspace.identity import os_login


@click.command("backup")
@click.option(
    "--to",
    "dest",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write (a new file, outside the workspace).",
)
@json_option
def backup(dest: Path, as_json: bool) -> None:
    """Write the workspace (database, keys, encrypted areas, releases, checkpoints) to FILE.

    The archive is written all or nothing and signed with the workspace's key; it holds
    the area keys, so keep it as safe as the workspace itself. A backup killed midway
    leaves a hidden partial archive (keys and all) beside FILE; the next backup into
    that folder on the same machine removes it.

    \b
    Example:
      fivesafes backup --to /backups/fivesafes-2026-12-04.tar
    """
    service_account_only()
    from fivesafes.services.backup import create_backup  # not for --help: the database
    from fivesafes.workspace import open_workspace

    report = create_backup(open_workspace(), dest, os_login())
    emit(
        report,
        as_json,
        lambda: (
            f"backup written to {report.path}: {report.files} files, "
            f"{report.bytes:,} bytes, {report.audit_events} audit events "
            f"(manifest sha256 {report.manifest_sha256[:16]}...)"
            + (
                f"; removed what a killed backup had left beside it: {', '.join(report.swept)}"
                if report.swept
                else ""
            )
        ),
    )


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--home",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The new workspace folder (must not exist, or be empty).",
)
@click.option(
    "--database-url",
    help="Restore the database into this (empty) PostgreSQL database instead of SQLite.",
)
@click.option(
    "--public-key",
    "public_key_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Your offline copy of the workspace's public key: the archive must be signed by it.",
)
@click.option(
    "--witness",
    "witnesses",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A witness copy of the checkpoints (file or folder): the archive's log must agree "
    "with every checkpoint it reaches (repeatable).",
)
@json_option
def restore(
    archive: Path,
    home: Path,
    database_url: str | None,
    public_key_path: Path | None,
    witnesses: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Verify the backup ARCHIVE completely, then make it the workspace at --home.

    Every file's hash and the manifest's signature, the audit chain with its checkpoints
    and genesis, and every encrypted frame are checked first; a tampered archive is
    refused and nothing is left behind.

    \b
    Example:
      fivesafes restore /backups/fivesafes-2026-12-04.tar --home /srv/fivesafes \\
          --public-key /offline/workspace-signing.pub
    """
    service_account_only()
    from fivesafes.services.restore import restore_backup  # not for --help: the vault
    from fivesafes.workspace import load_public_key

    key = load_public_key(public_key_path) if public_key_path else None
    report = restore_backup(
        archive,
        home,
        os_login(),
        database_url=database_url,
        public_key=key,
        witnesses=witnesses,
    )
    emit(
        report,
        as_json,
        lambda: (
            f"restored into {report.home} ({report.database}): {report.audit_events} audit "
            f"events and {report.checkpoints_verified} checkpoints verified, "
            f"{report.objects_verified} encrypted objects ({report.frames_verified} frames) "
            f"authenticated; backup taken {report.backup_created_at}"
        ),
    )
