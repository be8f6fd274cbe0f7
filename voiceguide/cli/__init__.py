"""The command line: a thin typer layer over the core; one place maps errors to exit codes.

Importing this package loads typer and the command declarations only: each command imports
what it needs (numpy, rich, the audio stack...) when it runs, so `--help` stays fast.
"""

from __future__ import annotations

import logging
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup

from voiceguide import __version__
from voiceguide.cli import listen_cmd, log_cmd, playlist_cmd, render_cmd, routines_cmd, start_cmd
from voiceguide.cli.context import AppContext
from voiceguide.errors import ExitStatus, VoiceguideError, from_os_error

# Exceptions typer handles itself: typer.Exit (and --help), "Aborted!", end of input at a
# prompt, and a closed pipe (`voiceguide log | head`).
_TYPER_OWN = (typer.Exit, typer.Abort, EOFError, BrokenPipeError)


@contextmanager
def exit_on_error(debug: bool) -> Iterator[None]:
    """The one place errors become exit codes.

    A VoiceguideError is one `error: ...` line on stderr and its exit status; an OSError
    that no module turned into one (a name too long, a full disk) is one line naming its
    path and what to do; Ctrl-C (and SIGTERM, see main) exits 130; anything else is one
    line and exit 1. The traceback comes first only with --debug.
    """
    try:
        yield
    except VoiceguideError as err:
        _report(f"error: {err}", debug)
        raise typer.Exit(int(err.exit_status)) from None
    except _TYPER_OWN:
        raise
    except OSError as err:
        mapped = from_os_error(err)
        _report(f"error: {mapped}", debug)
        raise typer.Exit(int(mapped.exit_status)) from None
    except KeyboardInterrupt:
        raise typer.Exit(int(ExitStatus.INTERRUPTED)) from None
    except Exception as err:
        if hasattr(err, "exit_code"):  # a usage error (exit 2): typer prints it with a hint
            raise
        hint = "" if debug else " (run with --debug for details)"
        _report(f"error: {type(err).__name__}: {err}{hint}", debug)
        raise typer.Exit(int(ExitStatus.ERROR)) from None


def _report(line: str, debug: bool) -> None:
    from voiceguide.cli.console import error_console

    if debug:
        traceback.print_exc()
    error_console().print(line, markup=False, highlight=False, soft_wrap=True)


class _Root(TyperGroup):
    """The top-level group: every command runs inside `exit_on_error`.

    Being in the group (not around `app()` in main) means typer's CliRunner sees exactly the
    lines and exit codes a user sees.
    """

    def invoke(self, ctx: Any) -> Any:
        with exit_on_error(debug=bool(ctx.params.get("debug"))):
            return super().invoke(ctx)


app = typer.Typer(
    name="voiceguide",
    cls=_Root,
    help=(
        "Talks you through a timed routine while music plays, so your hands stay free.\n\n"
        "Start with: voiceguide start --routine demo"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"voiceguide {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug messages."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """voiceguide: hands-free, spoken, timed routines with music."""
    if ctx.resilient_parsing:
        return
    _configure_logging(debug)
    # Resolves nothing yet: settings are read when a command first asks for them.
    ctx.obj = AppContext.from_environment()


app.command("start")(start_cmd.start)
app.command("render")(render_cmd.render)
app.add_typer(routines_cmd.app, name="routines")
app.command("voices")(routines_cmd.voices)
app.command("listen")(listen_cmd.listen)
app.add_typer(playlist_cmd.app, name="playlist")
app.add_typer(log_cmd.app, name="log")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _configure_logging(debug: bool) -> None:
    handler = _StderrHandler()
    handler.setFormatter(
        logging.Formatter(
            "%(levelname)s %(name)s: %(message)s" if debug else "warning: %(message)s"
        )
    )
    root = logging.getLogger("voiceguide")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    root.propagate = False


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so files are cleaned up and the terminal restored."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app (which exits with the status `exit_on_error` chose)."""
    signal.signal(signal.SIGTERM, _terminate)
    app(args=sys.argv[1:] if argv is None else argv, prog_name="voiceguide")
