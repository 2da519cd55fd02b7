"""``fivesafes declaration``: the versioned confidentiality declaration."""

from __future__ import annotations

from pathlib import Path

import click

from fivesafes.cli.acting import acting, emit, json_option
from fivesafes.errors import NotFoundError, ValidationError
from fivesafes.services.governance import declarations as svc


@click.group()
def declaration() -> None:
    """Publish the confidentiality declaration; everyone signs the current version.

    Publishing a new version means everyone must sign again before their next access.

    \b
    Examples:
      fivesafes declaration publish declaration.txt
      fivesafes declaration show
      fivesafes declaration sign --version 2
    """


@declaration.command("publish")
@click.argument("text_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def publish(text_file: Path, as_json: bool) -> None:
    """Publish the text in TEXT_FILE as the next version (administrators only).

    \b
    Example:
      fivesafes declaration publish declaration-v2.txt
    """
    try:
        text = text_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"cannot read {text_file}: {exc}", hint="give a UTF-8 text file"
        ) from None
    with acting() as (_, session, actor):
        version = svc.publish_declaration(session, actor, text)
    emit(
        {"version": version.version, "text_hash": version.text_hash},
        as_json,
        lambda: f"published declaration version {version.version} (sha256 {version.text_hash})",
    )


@declaration.command("show")
@json_option
def show(as_json: bool) -> None:
    """Print the current declaration, its version and hash.

    \b
    Example:
      fivesafes declaration show
    """
    with acting() as (_, session, _actor):
        current = svc.current_declaration(session)
    if current is None:
        raise NotFoundError(
            "no declaration has been published",
            hint="an administrator publishes one: fivesafes declaration publish FILE",
        )
    emit(
        current,
        as_json,
        lambda: f"version {current.version} (sha256 {current.text_hash})\n\n{current.text}",
    )


@declaration.command("sign")
@click.option("--version", "version", type=int, required=True, help="The version you read.")
@json_option
def sign(version: int, as_json: bool) -> None:
    """Sign declaration VERSION as yourself (it must be the current version).

    \b
    Example:
      fivesafes declaration show && fivesafes declaration sign --version 2
    """
    with acting() as (_, session, actor):
        signature = svc.sign_declaration(session, actor, version)
    emit(
        signature,
        as_json,
        lambda: (
            f"{signature.login} signed version {signature.version} "
            f"(sha256 {signature.text_hash}) at {signature.signed_at.isoformat(timespec='seconds')}"
        ),
    )
