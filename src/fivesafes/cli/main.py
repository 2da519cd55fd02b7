"""The ``fivesafes`` command: a thin click group; each area of work adds its own group."""

from __future__ import annotations

import json
import signal
import sys
import threading
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


@click.group(cls=FivesafesGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def _register() -> None:
    # Each area of work lives in its own module and adds one command or group here.
    from fivesafes.cli import demo, table, table_audit, table_formats, table_show

    table.table.add_command(table_audit.audit_command, name="audit")
    table.table.add_command(table_show.show_command, name="show")
    table.table.add_command(table_formats.export_command, name="export")
    table.table.add_command(table_formats.hierarchy_command, name="hierarchy")
    cli.add_command(table.table)
    cli.add_command(demo.demo)
    from fivesafes.cli import access, area, dataset, declaration, grant, init, people, training

    for gov in (init.init, people.people, training.training, declaration.declaration):
        cli.add_command(gov)
    for gov in (area.area, dataset.dataset, grant.grant, access.access):
        cli.add_command(gov)
    from fivesafes.cli import audit

    cli.add_command(audit.audit)
    from fivesafes.cli import project, researcher, review

    for research in (researcher.researcher, project.project, review.review):
        cli.add_command(research)
    from fivesafes.cli import vault  # after dataset and area: it adds commands to them

    vault.register(cli)
    from fivesafes.cli import release, rules

    cli.add_command(release.release)
    cli.add_command(rules.rules)
    from fivesafes.cli import request, request_moves, request_subject

    cli.add_command(request.request)
    assert set(request_moves.MOVES) <= set(request.request.commands)  # added on import
    request.request.add_command(request_subject.subject_search)
    request.request.add_command(request_subject.subject_export)
    request.request.add_command(request_subject.erase)
    request.request.add_command(request_subject.rectify)
    from fivesafes.cli import backup

    cli.add_command(backup.backup)
    cli.add_command(backup.restore)
    from fivesafes.cli import server

    cli.add_command(server.server)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="fivesafes")


if __name__ == "__main__":  # pragma: no cover
    main()
