"""`voiceguide start`: the live spoken session, hands free."""

from __future__ import annotations

import signal
import sys
import threading
from dataclasses import replace
from types import FrameType
from typing import TYPE_CHECKING

import typer

from voiceguide.cli.context import AppContext, app_context
from voiceguide.cli.options import SessionFlags, session_options, with_session_flags
from voiceguide.errors import ExitStatus, VoiceguideError

if TYPE_CHECKING:
    from voiceguide.live.conductor import Conductor
    from voiceguide.live.recorder import SessionRecorder
    from voiceguide.logbook import LogStore
    from voiceguide.mix.prepare import Session

FIRST_RUN_MARKER = "first-run-done"


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
) -> None:
    """Start a spoken session now, hands free.

    Steps, timing, countdown cues and music. Keys (no Enter needed): space pause/resume,
    n next step, b back to the step's start, r repeat the instructions, + one more minute,
    q stop. Without a terminal keys are off.
    """
    # Imported here, not at the top: `voiceguide --help` and the other commands never load them.
    from voiceguide.cli.console import console, error_console, warn
    from voiceguide.live.conductor import Conductor
    from voiceguide.live.keys import KeyReader
    from voiceguide.live.recorder import SessionRecorder
    from voiceguide.mix.prepare import prepare_session
    from voiceguide.routine.durations import format_seconds

    ctx = app_context(command)
    marker = ctx.paths.data_dir / FIRST_RUN_MARKER
    store = _open_log(ctx)
    side = first_side or (store.next_first_side() if store is not None else "left")
    options = session_options(
        ctx, flags, first_side=side, include_first_run=explain or not marker.exists()
    )
    session = prepare_session(ctx.config, options, ctx.paths, warn, eager=False)
    recorder = SessionRecorder(store, ctx.clock, warn, ctx.config.sessions_per_day)
    sentence = recorder.begin(session.routine.name, side)
    if sentence:
        session.replan(replace(session.settings, closing_extra=(sentence,)))
    conductor = Conductor(session)
    interrupted = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        interrupted.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    keys = KeyReader(lambda key: _on_key(conductor, key, interrupted))
    try:
        with keys:
            _play(conductor, session, keys.active, interrupted, recorder)
    finally:
        keys.restore()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        recorder.end(
            finished=conductor.finished and not conductor.stopped,
            playhead_frame=conductor.player.playhead_frame(),
        )
        session.close()
    if recorder.steps_done:
        marker.touch()
    if interrupted.is_set():
        error_console().print("stopped", markup=False)
        if store is not None:
            store.close()
        raise typer.Exit(int(ExitStatus.INTERRUPTED))
    state = conductor.state()
    console().print(
        f"Done: {len(recorder.steps_done)} of {state.step_count} steps in "
        f"{format_seconds(state.session_elapsed_seconds)}.", markup=False,
    )  # fmt: skip
    if sentence:
        console().print(sentence, markup=False)
    if store is not None:
        _ask_amounts(recorder, ctx.config.amount_unit)
        store.close()


def _open_log(ctx: AppContext) -> LogStore | None:
    """The pumping log; if it cannot be opened the session still runs (and says why)."""
    from voiceguide.cli.console import warn
    from voiceguide.logbook import LogStore

    try:
        return LogStore(ctx.paths.log_db)
    except VoiceguideError as err:
        warn(f"{err} (this session will not be logged)")
        return None


def _ask_amounts(recorder: SessionRecorder, unit: str) -> None:
    """Ask for the amounts when someone is at the keyboard; Enter skips."""
    from voiceguide.cli.console import error_console
    from voiceguide.logbook.units import amount_to_ml, parse_unit

    if not sys.stdin.isatty():
        return
    amounts: dict[str, float | None] = {}
    for side in ("left", "right"):
        while True:
            answer = input(f"Amount, {side} side ({unit}, Enter to skip): ").strip()
            if not answer:
                amounts[side] = None
                break
            try:
                value = float(answer.replace(",", "."))
                amounts[side] = amount_to_ml(side, value, parse_unit(unit))
                break
            except (ValueError, VoiceguideError) as err:
                error_console().print(f"  {err}", markup=False)
    recorder.set_amounts(amounts["left"], amounts["right"])


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
    conductor: Conductor,
    session: Session,
    live_display: bool,
    interrupted: threading.Event,
    recorder: SessionRecorder,
) -> None:
    from voiceguide.cli.console import console, error_console
    from voiceguide.cli.display import plain_line, print_plain, render_state

    title = session.routine.title
    error_console().print(f"{title}, with {session.music_description}.", markup=False)
    conductor.start()
    show_live = live_display and sys.stdout.isatty()
    live = None
    if show_live:
        from rich.live import Live

        live = Live(render_state(conductor.state(), title), console=console(),
                    refresh_per_second=8, transient=False)  # fmt: skip
        live.start()
    try:
        while True:
            done = conductor.wait(0.1)
            if interrupted.is_set() and not done:
                conductor.stop()
            for event in conductor.poll():
                recorder.on_event(event)
                line = plain_line(event)
                if line and live is None:
                    print_plain(line)
            if live is not None:
                live.update(render_state(conductor.state(), title))
            if done or conductor.stopped:
                break
    finally:
        if live is not None:
            live.stop()
    if conductor.player.error is not None:
        raise conductor.player.error
