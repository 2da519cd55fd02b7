"""The ``fivesafes`` command: a thin click group; each area of work adds its own group."""

from __future__ import annotations

import importlib
import json
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from fivesafes import __version__
from fivesafes.errors import FivesafesError, Interrupted


class FivesafesGroup(click.Group):
    """Turn fivesafes errors into a one-line message and a stable exit status.

    With ``--json`` anywhere in the command, the error is also printed as JSON on
    stdout (``{"error": {"code", "message", "hint", "reasons", "exit_status"}}``), so
    that a script reading stdout always gets JSON, whether the command worked or not;
    unless the command already printed its JSON result (e.g. an audit's findings
    before its failing exit status): stdout then stays one JSON document.
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line with SIGTERM handled as Ctrl-C from the start: while click
        parses it too, not only once the command runs (the default action ended the process)."""
        stop = _StopSignal.install()
        try:
            return super().main(*args, **kwargs)
        finally:
            stop.uninstall()

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Parse the command line; Ctrl-C (or SIGTERM) meanwhile is ``error [interrupted]``.

        Click words an interrupt outside the command "Aborted!" with exit status 1; a
        script then cannot tell it from a failure, and ``--json`` gets no JSON.
        """
        options = args[: args.index("--")] if "--" in args else args
        as_json = "--json" in options  # before parsing, which consumes ``args``
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except KeyboardInterrupt:
            stopped = Interrupted(
                "interrupted (Ctrl-C) while the command line was read: nothing was done",
                hint="run the command again",
            )
            _report(stopped, as_json=as_json)
            raise click.exceptions.Exit(stopped.exit_status) from None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Note whether the command line asks for JSON, before the subcommand takes it."""
        options = args[: args.index("--")] if "--" in args else args
        ctx.meta.setdefault(JSON_FLAG, "--json" in options)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        tracked = _StdoutTracker.install() if ctx.meta.get(JSON_FLAG) else None
        stop = _StopSignal.install()
        try:
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt:
                # a command that knows what it left behind says so with its own Interrupted
                raise Interrupted(
                    "interrupted (Ctrl-C) before the command finished",
                    hint="run the command again",
                ) from None
        except FivesafesError as exc:
            _report(exc, as_json=tracked is not None and not tracked.written)
            ctx.exit(exc.exit_status)
        except click.UsageError as exc:
            if tracked is not None and not tracked.written:
                usage = {"code": "usage", "message": exc.format_message(), "hint": None}
                click.echo(json.dumps({"error": {**usage, "reasons": [], "exit_status": 2}}))
            raise
        finally:
            stop.uninstall()
            if tracked is not None:
                tracked.uninstall()


def _report(exc: FivesafesError, *, as_json: bool) -> None:
    """The error on stderr (and, ``as_json``, as JSON on stdout)."""
    if as_json:
        click.echo(json.dumps({"error": error_dict(exc)}, indent=2))
    click.echo(f"error [{exc.code}]: {exc.message}", err=True)
    for reason in getattr(exc, "reasons", ()):
        click.echo(f"  - {reason}", err=True)
    if exc.hint:
        click.echo(f"what to do: {exc.hint}", err=True)


class _StopSignal:
    """SIGTERM (``kill``, a scheduler's stop) handled as Ctrl-C is, for the command's run.

    Python's default for SIGTERM ends the process at once, with no ``finally``: a
    ``table protect`` stopped that way left its hidden staging folder of outputs behind.
    As a KeyboardInterrupt, the command cleans up and exits 130. Installed only where
    SIGTERM still has its default action (a server installs its own) and in the main
    thread (the only one that may set a handler); from the start of ``main``, so that a
    stop while the command line is parsed is an interruption too.
    """

    def __init__(self, previous: Any) -> None:
        self._previous = previous

    @classmethod
    def install(cls) -> _StopSignal:
        if threading.current_thread() is not threading.main_thread():
            return cls(None)
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return cls(None)
        return cls(signal.signal(signal.SIGTERM, _as_interrupt))

    def uninstall(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _as_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


JSON_FLAG = "fivesafes.json"


class _StdoutTracker:
    """sys.stdout, noting whether anything was written to it (everything else passes through)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.written = False

    @classmethod
    def install(cls) -> _StdoutTracker:
        tracker = cls(sys.stdout)
        sys.stdout = tracker
        return tracker

    def uninstall(self) -> None:
        if sys.stdout is self:
            sys.stdout = self._stream

    def write(self, text: Any) -> Any:
        if text:
            self.written = True
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def error_dict(exc: FivesafesError) -> dict[str, object]:
    """An error as JSON-ready data: its stable code, message, hint, reasons and exit status."""
    return {
        "code": exc.code,
        "message": exc.message,
        "hint": exc.hint,
        "reasons": list(getattr(exc, "reasons", ())),
        "exit_status": exc.exit_status,
    }


class _LazyGroup(FivesafesGroup):
    """The top-level group: a command's module is imported only when the command is named.

    Importing every command's module took 3-4 s (pandas, SciPy, DuckDB, ...), even for
    ``--help``. The top-level help lists each command from ``COMMANDS`` instead, whose
    short help a test compares with the command's own.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(COMMANDS[cmd_name][1](), cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and args[0] not in COMMANDS:
            # click offers the closest names from the loaded commands: load them all first
            for name in COMMANDS:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # the listing needs each command's short help only: not its module
        listing = click.Group(self.name)
        for name in self.list_commands(ctx):
            listing.add_command(self.commands.get(name) or listed(name), name)
        listing.format_commands(ctx, formatter)


def listed(name: str) -> click.Command:
    """Command ``name`` as the top-level help lists it, without importing it."""
    return click.Command(name, help=COMMANDS[name][0])


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fivesafes")
@click.option(
    "--server",
    metavar="unix:PATH",
    help="Call this fivesafes server instead of opening a workspace (default: "
    "FIVESAFES_SERVER); e.g. unix:/run/fivesafes/api.sock.",
)
@click.pass_context
def cli(ctx: click.Context, server: str | None) -> None:
    """fivesafes: use confidential data for statistics without leaking it.

    \b
    Start with:
      fivesafes demo                 run the whole job on synthetic data
      fivesafes table protect --help protect a table declared in a TOML spec
    """
    if server is not None:
        ctx.meta["fivesafes.server"] = server


# Each area of work lives in its own module and adds one command or group; some add
# commands to another's group (vault to dataset and area, request's moves and subject
# commands to request), so the loader of that group imports them too.


def _table() -> click.Command:
    from fivesafes.cli import table, table_audit, table_formats, table_show

    table.table.add_command(table_audit.audit_command, name="audit")
    table.table.add_command(table_show.show_command, name="show")
    table.table.add_command(table_formats.export_command, name="export")
    table.table.add_command(table_formats.hierarchy_command, name="hierarchy")
    return table.table


def _dataset() -> click.Command:
    from fivesafes.cli import dataset, vault

    for command in vault.DATASET_COMMANDS:
        dataset.dataset.add_command(command)
    return dataset.dataset


def _area() -> click.Command:
    from fivesafes.cli import area, vault

    for command in vault.AREA_COMMANDS:
        area.area.add_command(command)
    return area.area


def _request() -> click.Command:
    from fivesafes.cli import request, request_moves, request_subject

    assert set(request_moves.MOVES) <= set(request.request.commands)  # added on import
    request.request.add_command(request_subject.subject_search)
    request.request.add_command(request_subject.subject_export)
    request.request.add_command(request_subject.erase)
    request.request.add_command(request_subject.rectify)
    return request.request


def _from(module: str, attribute: str | None = None) -> Callable[[], click.Command]:
    """The loader of command ``attribute`` (default: the module's own name) of cli.MODULE."""

    def load() -> click.Command:
        command = getattr(importlib.import_module(f"fivesafes.cli.{module}"), attribute or module)
        assert isinstance(command, click.Command)
        return command

    return load


# name -> (short help as ``fivesafes --help`` lists it, loader); test_cli_start checks
# the short help against each command's own.
COMMANDS: dict[str, tuple[str, Callable[[], click.Command]]] = {
    "access": (
        "Access decisions: allowed only when every condition holds; every decision is audited.",
        _from("access"),
    ),
    "area": ("Restricted areas: separate storage for confidential datasets.", _area),
    "audit": (
        "The tamper-evident audit log: verify it, read it, sign a checkpoint.",
        _from("audit"),
    ),
    "backup": (
        "Write the workspace (database, keys, encrypted areas, releases, checkpoints) to FILE.",
        _from("backup"),
    ),
    "dataset": (
        "Register datasets: area, confidentiality, source, lawful basis, retention.",
        _dataset,
    ),
    "declaration": (
        "Publish the confidentiality declaration; everyone signs the current version.",
        _from("declaration"),
    ),
    "demo": (
        "Run fivesafes end to end on a synthetic business survey (no real data).",
        _from("demo"),
    ),
    "grant": (
        "Need-to-know grants: a person's time-limited access to one restricted area.",
        _from("grant"),
    ),
    "init": ("Create a workspace and register its first administrator.", _from("init")),
    "people": ("Register people, their roles, and leavers.", _from("people")),
    "project": (
        "Approved research projects: purpose, public benefit, datasets, dates and team.",
        _from("project"),
    ),
    "query": (
        "Run one SELECT over the datasets of restricted AREA (authorised analysts only).",
        _from("vault", "query"),
    ),
    "release": (
        "Output checking by two independent reviewers, and publication.",
        _from("release"),
    ),
    "request": (
        "Requests for information: FOI, EIR, subject access, PQs, ad hoc (docs/requests.md).",
        _request,
    ),
    "researcher": (
        "Approved researchers: accreditation by an accrediting body, and its validity.",
        _from("researcher"),
    ),
    "restore": (
        "Verify the backup ARCHIVE completely, then make it the workspace at --home.",
        _from("backup", "restore"),
    ),
    "retention": (
        "Destroy data past their retention date (see `fivesafes dataset add --retention`).",
        _from("vault", "retention"),
    ),
    "review": ("Regular reviews of access and arrangements (T6.5).", _from("review")),
    "rules": ("The organisation's disclosure rules: versioned rule sets.", _from("rules")),
    "server": (
        "Run the fivesafes server: people act only through it, as themselves.",
        _from("server"),
    ),
    "table": ("Protect statistical tables (disclosure control of cells and subtotals).", _table),
    "training": (
        "Training courses and who completed them (valid for a number of months).",
        _from("training"),
    ),
}


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="fivesafes")


if __name__ == "__main__":  # pragma: no cover
    main()
