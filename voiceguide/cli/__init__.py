"""The command line: a thin typer layer over the core; one place maps errors to exit codes."""

from __future__ import annotations

import logging
import signal
import sys
import traceback

import typer

from voiceguide import __version__
from voiceguide.cli import render_cmd, routines_cmd
from voiceguide.cli.console import error_console
from voiceguide.config import load_config
from voiceguide.errors import ExitStatus, VoiceguideError
from voiceguide.paths import Paths

app = typer.Typer(
    name="voiceguide",
    help=(
        "Talks you through a timed routine while music plays, so your hands stay free.\n\n"
        "Start with: voiceguide start --routine demo"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
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
    # Settings from config.toml become the defaults of the log commands' options.
    config = load_config(Paths.from_environment().config_file)
    ctx.default_map = {"log": {"unit": config.amount_unit, "goal": config.sessions_per_day}}


app.command("render")(render_cmd.render)
app.add_typer(routines_cmd.app, name="routines")
app.command("voices")(routines_cmd.voices)


def _mount_optional() -> None:
    """Sub-apps that live in their own modules."""
    try:
        from voiceguide.cli import start_cmd

        app.command("start")(start_cmd.start)
    except ImportError:  # pragma: no cover
        pass
    try:
        from voiceguide.cli import playlist_cmd

        app.add_typer(playlist_cmd.app, name="playlist")
    except ImportError:  # pragma: no cover - while the module is being written
        pass
    try:
        from voiceguide.cli import log_cmd

        app.add_typer(log_cmd.app, name="log")
    except ImportError:  # pragma: no cover
        pass


_mount_optional()


def _configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
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
    """Entry point: run the app, turn every VoiceguideError into one line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    _configure_logging(debug)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app(args=args, prog_name="voiceguide")
    except VoiceguideError as err:
        if debug:
            traceback.print_exc()
        error_console().print(f"error: {err}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(int(err.exit_status))
    except KeyboardInterrupt:
        sys.exit(int(ExitStatus.INTERRUPTED))
    except Exception as err:
        if debug:
            raise
        error_console().print(
            f"error: {type(err).__name__}: {err} (run with --debug for details)",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
        sys.exit(int(ExitStatus.ERROR))
