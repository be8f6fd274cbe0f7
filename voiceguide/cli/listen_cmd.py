"""`voiceguide listen`: practise the voice commands, with nothing playing."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from voiceguide.cli.context import app_context
from voiceguide.errors import ExitStatus
from voiceguide.listen import grammar
from voiceguide.routine.durations import format_seconds


def listen(
    command: typer.Context,
    input_source: str | None = typer.Option(
        None, "--input", metavar="NAME", help="The sound server's source to listen on."
    ),
    wake_word: str | None = typer.Option(
        None,
        "--wake-word",
        metavar="WORDS",
        help='One or two words said before each command (default: wake_word, else "voice guide").',
    ),
    seconds: float | None = typer.Option(
        None, "--seconds", min=1, metavar="N", help="Stop after N seconds (default: at Ctrl-C)."
    ),
) -> None:
    """Practise the voice commands: listen, play nothing, and say what was heard.

    Each thing said is one line: "[m:ss] heard: next" for a command a session would act on,
    or why it would not ("not clear enough", "the wake phrase alone", ...). Nothing is acted
    on and nothing is recorded. Ctrl-C stops.
    """
    ctx = app_context(command)
    from voiceguide.cli.console import warn
    from voiceguide.listen.capture import NO_INPUT_HINT, NoInputError
    from voiceguide.listen.practice import Practice

    def say(at_seconds: float, line: str) -> None:
        typer.echo(f"[{format_seconds(at_seconds)}] {line}")

    def warn_here(message: str) -> None:
        warn(message.removesuffix(f"; {NO_INPUT_HINT}"))  # there are no keys here

    wake = wake_word or ctx.config.wake_word
    source = input_source or ctx.config.input_source
    practice = Practice(say, warn_here, wake_phrase=wake, source=source)
    interrupted, done = threading.Event(), threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        interrupted.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    timer = None if seconds is None else threading.Timer(seconds, done.set)
    try:
        try:
            practice.start()
        except NoInputError as err:
            raise NoInputError(str(err).removesuffix(f"; {NO_INPUT_HINT}")) from None
        typer.echo(
            f"Listening on {practice.source}, with nothing playing: say"
            f" {grammar.examples(practice.listener.wake_phrase)}. Ctrl-C stops.",
            err=True,
        )
        if timer is not None:
            timer.start()
        while not (interrupted.wait(0.2) or done.is_set()) and practice.listening:
            pass
    finally:
        if timer is not None:
            timer.cancel()
        practice.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    heard = len(practice.commands)
    typer.echo(f"{heard} command{'' if heard == 1 else 's'} heard.", err=True)
    if interrupted.is_set():
        raise typer.Exit(int(ExitStatus.INTERRUPTED))
    if not done.is_set():  # the microphone went away (the warning said so)
        raise typer.Exit(int(ExitStatus.ERROR))
