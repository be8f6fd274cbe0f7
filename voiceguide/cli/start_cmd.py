"""`voiceguide start`: the live spoken session, hands free."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import typer

from voiceguide.cli.console import console, error_console, warn
from voiceguide.cli.display import plain_line, print_plain, render_state
from voiceguide.cli.options import SessionFlags, session_options
from voiceguide.conductor import Conductor
from voiceguide.context import AppContext
from voiceguide.durations import format_seconds
from voiceguide.errors import ExitStatus
from voiceguide.keys import KeyReader
from voiceguide.session import prepare_session

FIRST_RUN_MARKER = "first-run-done"


def start(
    routine: str | None = SessionFlags.routine,
    music: str | None = SessionFlags.music,
    playlist: str | None = SessionFlags.playlist,
    no_music: bool = SessionFlags.no_music,
    shuffle: bool = SessionFlags.shuffle,
    seed: int | None = SessionFlags.seed,
    voice: str | None = SessionFlags.voice,
    engine: str | None = SessionFlags.engine,
    rate: int | None = SessionFlags.rate,
    speech_level: float | None = SessionFlags.speech_level,
    music_level: float | None = SessionFlags.music_level,
    first_side: str = SessionFlags.first_side,
    explain: bool = typer.Option(
        False,
        "--explain",
        help="Say what the routine is and the safety line (as on the first run).",
    ),
) -> None:
    """Start a spoken session now: steps, timing, countdown cues and music, hands free.

    Keys (no Enter needed): space pause/resume, n next step, b back to the step's start,
    r repeat the instructions, + one more minute, q stop. Without a terminal keys are off.
    """
    ctx = AppContext.from_environment()
    marker = ctx.paths.data_dir / FIRST_RUN_MARKER
    options = session_options(
        ctx.config, routine=routine, music=music, playlist=playlist, no_music=no_music,
        shuffle=shuffle, seed=seed, voice=voice, engine=engine, rate=rate,
        speech_level=speech_level, music_level=music_level, first_side=first_side,
        include_first_run=explain or not marker.exists(),
    )  # fmt: skip
    session = prepare_session(ctx.config, options, ctx.paths, warn)
    conductor = Conductor(session)
    interrupted = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        interrupted.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    keys = KeyReader(lambda key: _on_key(conductor, key, interrupted))
    try:
        with keys:
            _play(conductor, session.routine.title, session.music_description, keys.active,
                  interrupted)  # fmt: skip
    finally:
        keys.restore()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        session.close()
    if conductor.steps_started:
        marker.touch()
    if interrupted.is_set():
        error_console().print("stopped", markup=False)
        raise typer.Exit(int(ExitStatus.INTERRUPTED))
    state = conductor.state()
    done = len(conductor.steps_started)
    console().print(
        f"Done: {done} of {state.step_count} steps in "
        f"{format_seconds(state.session_elapsed_seconds)}.", markup=False,
    )  # fmt: skip


def _on_key(conductor: Conductor, key: str, interrupted: threading.Event) -> None:
    actions = {
        " ": conductor.toggle_pause, "enter": conductor.toggle_pause, "p": conductor.toggle_pause,
        "n": conductor.next_step, "right": conductor.next_step, "pagedown": conductor.next_step,
        "b": conductor.back, "left": conductor.back, "pageup": conductor.back,
        "r": conductor.repeat, "+": conductor.extend, "=": conductor.extend,
    }  # fmt: skip
    if key in ("q", "Q"):
        interrupted.set()
        return
    action = actions.get(key.lower() if len(key) == 1 else key)
    if action is not None:
        action()


def _play(
    conductor: Conductor, title: str, music: str, live_display: bool, interrupted: threading.Event
) -> None:
    err = error_console()
    err.print(f"{title}, with {music}.", markup=False)
    conductor.start()
    if live_display and sys.stdout.isatty():
        from rich.live import Live

        with Live(render_state(conductor.state(), title), console=console(),
                  refresh_per_second=8, transient=False) as live:  # fmt: skip
            while not conductor.wait(0.1):
                if interrupted.is_set():
                    conductor.stop()
                    break
                conductor.poll()
                live.update(render_state(conductor.state(), title))
            live.update(render_state(conductor.state(), title))
    else:
        while not conductor.wait(0.1):
            if interrupted.is_set():
                conductor.stop()
                break
            for event in conductor.poll():
                line = plain_line(event)
                if line:
                    print_plain(line)
        for event in conductor.poll():
            line = plain_line(event)
            if line:
                print_plain(line)
    if conductor.player.error is not None:
        raise conductor.player.error
