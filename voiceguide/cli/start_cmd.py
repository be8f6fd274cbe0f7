"""`voiceguide start`: the live spoken session, hands free."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from voiceguide.cli.context import app_context
from voiceguide.cli.options import (
    INPUT_OPTION,
    WAKE_WORD_OPTION,
    SessionFlags,
    listening_settings,
    session_options,
    with_session_flags,
)
from voiceguide.errors import AudioOutputError, ExitStatus
from voiceguide.listen import grammar
from voiceguide.live.keys import KeyReader, dispatch_key
from voiceguide.routine.durations import format_seconds

if TYPE_CHECKING:
    from voiceguide.live.session import LiveSession
    from voiceguide.live.voice import VoiceControl


@with_session_flags
def start(
    command: typer.Context,
    flags: SessionFlags,
    first_side: str | None = typer.Option(
        None,
        "--first-side",
        help="The breast to massage first: left or right (default: alternates each session).",
    ),
    explain: bool = typer.Option(
        False,
        "--explain",
        help="Say what the routine is and the safety line (as on the first run).",
    ),
    listen: bool | None = typer.Option(
        None,
        "--listen/--no-listen",
        help=f"Voice commands: {grammar.examples()} (default: listen in config.toml, else"
        " off). Offline; the microphone's sound never leaves the program.",
    ),
    input_source: str | None = INPUT_OPTION,
    wake_word: str | None = WAKE_WORD_OPTION,
    debug_audio: Path | None = typer.Option(
        None,
        "--debug-audio",
        metavar="DIR",
        help="Troubleshooting only, off by default: record the microphone and the program's"
        " sound as WAV files in DIR. Without it, no microphone sound is ever written.",
    ),
) -> None:
    """Start a spoken session now, hands free.

    Steps, timing, countdown cues and music. Keys (no Enter needed): space pause/resume,
    n next step, b back to the step's start, r repeat the instructions, + one more minute,
    q stop. Without a terminal keys are off.
    """
    ctx = app_context(command)
    options = session_options(ctx, flags, first_side=first_side, include_first_run=False)
    from voiceguide.cli.console import warn
    from voiceguide.live.session import LiveSession
    from voiceguide.output.simpleaudio import SimpleaudioSink

    session = LiveSession.prepare(
        ctx.config, options, ctx.paths, ctx.clock, SimpleaudioSink(), warn, explain=explain
    )
    voice = None
    try:
        if ctx.config.listen if listen is None else listen:
            voice = _voice_control(
                session, *listening_settings(ctx, wake_word, input_source), debug_audio
            )
        outcome = _run(session, voice)
        _report(session, outcome, ctx.config.amount_unit, voice)
    finally:
        if voice is not None:
            voice.close()
        session.close()
    if outcome == "output-lost":
        raise AudioOutputError(
            "the sound output was lost and could not be reopened; the session is logged as stopped"
        )
    if outcome == "stopped":
        raise typer.Exit(int(ExitStatus.INTERRUPTED))


def _voice_control(
    session: LiveSession, wake_phrase: str, source: str | None, debug_audio: Path | None
) -> VoiceControl:
    """The voice front end (the wake phrase is checked against the recognizer's words now)."""
    from voiceguide.cli.console import warn
    from voiceguide.live.voice import VoiceControl
    from voiceguide.routine.load import texts_saying

    for where in texts_saying(session.session.routine, wake_phrase):
        warn(f"{where} says the wake phrase {wake_phrase!r}: it may be taken for a command")
    return VoiceControl(
        session, warn, wake_phrase=wake_phrase, source=source, debug_audio_dir=debug_audio
    )


def _run(session: LiveSession, voice: VoiceControl | None = None) -> str:
    """Play with keys, the display and signals wired to the session; returns the outcome."""
    from voiceguide.cli.console import console
    from voiceguide.cli.display import LivePanel, PlainLines

    def on_signal(signum: int, frame: FrameType | None) -> None:
        session.request_stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    keys = KeyReader(lambda key: _on_key(session, key))
    panel: LivePanel | None = None
    try:
        with keys:
            listening = voice is not None and voice.start()
            if voice is not None and listening:
                session.subscribe(voice)
            if keys.active and sys.stdout.isatty():
                wake = voice.listener.wake_phrase if voice is not None and listening else ""
                panel = LivePanel(session.session.routine.title, console, wake)
                session.subscribe(panel)
            else:
                session.subscribe(PlainLines())
            # typer.echo, not rich: rich loads after the first sound.
            typer.echo(
                f"{session.session.routine.title}, with {session.session.music_description}.",
                err=True,
            )
            return session.run()
    finally:
        if panel is not None:
            panel.close()
        keys.restore()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _on_key(session: LiveSession, key: str) -> None:
    dispatch_key(session, key)


def _report(
    session: LiveSession, outcome: str, unit: str, voice: VoiceControl | None = None
) -> None:
    """The summary line, the closing sentence, and the amounts (spoken, or at a keyboard)."""
    from voiceguide.cli.console import console, error_console
    from voiceguide.cli.prompts import KeyboardAmounts

    console().print(
        f"{'Done' if outcome == 'finished' else 'Stopped'}: "
        f"{session.steps_done} of {session.step_count} steps in "
        f"{format_seconds(session.elapsed_seconds)}.", markup=False,
    )  # fmt: skip
    if session.closing_sentence and outcome == "finished":
        console().print(session.closing_sentence, markup=False)
    if not session.asks_amounts:
        return
    if voice is not None and voice.listener.listening:
        from voiceguide.live.voice import SpokenAmounts

        session.ask_amounts(SpokenAmounts(voice, session.say_after), unit)
    elif sys.stdin.isatty():
        session.ask_amounts(KeyboardAmounts(error_console()), unit)
