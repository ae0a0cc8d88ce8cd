"""The `abtool` command line: thin Typer commands that hand off to the library.

Errors are raised as :class:`abtool.errors.AbtoolError` anywhere below and turned into a
one-line message and an exit code at one edge, :func:`main`.
"""

from __future__ import annotations

import os
import sys

import typer

from abtool import __version__
from abtool.errors import EXIT_USAGE, AbtoolError

app = typer.Typer(
    name="abtool",
    help="Decide from shadow, canary, A/B and interleaving logs whether a new ML model may "
    "roll out. Exit codes: 0 GO/PROMOTE, 1 NO_GO/ROLLBACK, 2 bad input, 3 HOLD.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"abtool {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """abtool: rollout decisions from model logs."""


def _register() -> None:
    # Report commands are generated from their specs; the specs and these modules import only
    # typer and abtool's light modules, so `abtool --help` stays fast. The heavy work is
    # imported when a command runs.
    from abtool.cli import assign, gate, serve, simulate
    from abtool.cli.build import typer_command
    from abtool.commands import all_specs

    for spec in all_specs():
        app.command(spec.name)(typer_command(spec))
    app.command("assign")(assign.assign_command)
    app.add_typer(simulate.app, name="simulate")
    app.command("gate")(gate.gate_command)
    app.command("serve")(serve.serve_command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: the single place where errors become exit codes."""
    from abtool.outputs import recording

    try:
        # standalone_mode=False hands usage errors to this edge instead of printing Typer's
        # multi-line usage block, and returns the exit code of typer.Exit. Files read while
        # recording are never overwritten by an output of the run.
        with recording():
            code = app(args=argv, prog_name="abtool", standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except AbtoolError as exc:
        sys.stderr.write(f"abtool: error: {exc.message}\n")
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _is_usage_error(exc):
            message = exc.format_message()  # type: ignore[attr-defined]
            if type(exc).__name__ == "NoArgsIsHelpError":
                sys.stderr.write(message.rstrip() + "\n")  # no command given: the help itself
            else:
                sys.stderr.write(f"abtool: error: {message} (see --help)\n")
            sys.exit(int(exc.exit_code))  # type: ignore[attr-defined]
        # A bug must not print a traceback at a CI user; ABTOOL_DEBUG=1 shows it.
        if os.environ.get("ABTOOL_DEBUG"):
            raise
        first = (str(exc).strip().splitlines() or [""])[0]
        sys.stderr.write(
            f"abtool: internal error: {type(exc).__name__}: {first} "
            "(rerun with ABTOOL_DEBUG=1 for a traceback)\n"
        )
        sys.exit(EXIT_USAGE)


def _is_usage_error(exc: BaseException) -> bool:
    """A Typer/click usage error (unknown option, bad value, missing argument).

    Typer vendors click in recent versions and uses click itself in older ones, so the
    exception is recognised by its interface rather than by a class import.
    """
    return callable(getattr(exc, "format_message", None)) and isinstance(
        getattr(exc, "exit_code", None), int
    )
