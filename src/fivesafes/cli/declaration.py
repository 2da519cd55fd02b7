"""``fivesafes declaration``: the versioned confidentiality declaration."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from fivesafes.cli.acting import call, emit, json_option
from fivesafes.errors import ValidationError


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
    # the client reads the file and sends its text: the server never opens a caller's path
    version = call("declaration.publish", text=text)
    emit(
        version,
        as_json,
        lambda: (
            f"published declaration version {version['version']} (sha256 {version['text_hash']})"
        ),
    )


@declaration.command("show")
@json_option
def show(as_json: bool) -> None:
    """Print the current declaration, its version and hash.

    \b
    Example:
      fivesafes declaration show
    """
    current = call("declaration.show")  # NotFoundError when none is published
    emit(
        current,
        as_json,
        lambda: (
            f"version {current['version']} (sha256 {current['text_hash']})\n\n" + current["text"]
        ),
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
    signature = call("declaration.sign", version=version)
    signed_at = datetime.fromisoformat(signature["signed_at"]).isoformat(timespec="seconds")
    emit(
        signature,
        as_json,
        lambda: (
            f"{signature['login']} signed version {signature['version']} "
            f"(sha256 {signature['text_hash']}) at {signed_at}"
        ),
    )
