"""`voiceguide listen`: practise the voice commands, with nothing playing."""

from __future__ import annotations

import signal
import time
from types import FrameType

import typer

from voiceguide.cli.context import app_context
from voiceguide.cli.options import INPUT_OPTION, WAKE_WORD_OPTION, listening_settings
from voiceguide.errors import ExitStatus
from voiceguide.listen import grammar
from voiceguide.routine.durations import format_seconds

POLL_SECONDS = 0.1
"""How often the wait looks at Ctrl-C, the clock and the listener."""


def listen(
    command: typer.Context,
    input_source: str | None = INPUT_OPTION,
    wake_word: str | None = WAKE_WORD_OPTION,
    seconds: float | None = typer.Option(
        None, "--seconds", min=1, metavar="N", help="Stop after N seconds (default: at Ctrl-C)."
    ),
) -> None:
    """Practise the voice commands, with nothing playing.

    Each thing said is one line: "[m:ss] heard: next" for a command a session would act on,
    or why it would not (not clear enough, the wake phrase alone, ...). Nothing is acted on
    and nothing is recorded. Ctrl-C stops.
    """
    ctx = app_context(command)
    from voiceguide.cli.console import warn
    from voiceguide.listen.capture import NO_INPUT_HINT, NoInputError
    from voiceguide.listen.practice import Practice

    def say(at_seconds: float, line: str) -> None:
        typer.echo(f"[{format_seconds(at_seconds)}] {line}")

    def without_keys(message: str) -> str:
        """The listening messages end with NO_INPUT_HINT, for a session: there are no keys here."""
        return message.removesuffix(f"; {NO_INPUT_HINT}")

    wake, source = listening_settings(ctx, wake_word, input_source)
    practice = Practice(say, lambda message: warn(without_keys(message)), wake_phrase=wake,
                        source=source)  # fmt: skip
    stopped: list[int] = []  # a signal handler only appends: it may not take a lock

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            practice.start()
        except NoInputError as err:
            raise NoInputError(without_keys(str(err))) from None
        typer.echo(
            f"Listening on {practice.source}, with nothing playing: say"
            f" {grammar.examples(practice.listener.wake_phrase)}. Ctrl-C stops.",
            err=True,
        )
        ends = None if seconds is None else time.monotonic() + seconds
        while not stopped and practice.listening and (ends is None or time.monotonic() < ends):
            time.sleep(POLL_SECONDS)
    finally:
        practice.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    heard = len(practice.commands)
    typer.echo(f"{heard} command{'' if heard == 1 else 's'} heard.", err=True)
    if stopped:
        raise typer.Exit(int(ExitStatus.INTERRUPTED))
    if ends is None or time.monotonic() < ends:  # listening stopped (the warning said why)
        raise typer.Exit(int(ExitStatus.ERROR))
