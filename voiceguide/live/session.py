"""LiveSession: everything a live session does besides making sound, for every front end.

It owns the rules of a session: which side goes first (it alternates, from the log), the
first-run intro (once per routine), the closing sentence from the log, the recorder, what to
do when the sound output is lost, and the amounts asked afterwards. Front ends (the terminal
display, plain event lines, keys, voice commands, tests) subscribe to it with a
SessionListener and act on it through its controls; none of them repeats these rules.

Threads: `run()` is the session's loop, on the caller's thread: it polls the conductor and
calls every listener from there, so listeners need no locks. Controls (`next_step`, `pause`,
...) may be called from any thread (keys, voice); `request_stop` also from a signal handler.
`close()` joins every thread the session started.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from voiceguide.audioformat import frames_to_seconds
from voiceguide.clock import Clock
from voiceguide.config import Config
from voiceguide.errors import AudioOutputError, OutputError, VoiceguideError
from voiceguide.files import PRIVATE_FOLDER_MODE, PRIVATE_MODE, write_own_file
from voiceguide.live.conductor import Conductor
from voiceguide.live.events import Event, PlayState, SessionListener
from voiceguide.live.recorder import SessionRecorder
from voiceguide.logbook import LogStore
from voiceguide.mix.prepare import Session, SessionOptions, prepare_session
from voiceguide.output.base import LiveOutput
from voiceguide.paths import Paths
from voiceguide.routine.durations import format_seconds
from voiceguide.sides import other_side

log = logging.getLogger(__name__)

Warn = Callable[[str], None]

TICK_SECONDS = 0.125
REOPEN_SECONDS = 30.0
"""How long a lost sound output is retried before the session ends as stopped."""
REOPEN_EVERY_SECONDS = 1.0
AFTER_TAIL_SECONDS = 0.3
AFTER_BUFFER_FRAMES = 10 * 60 * 44_100
"""Room for what is said after a stopped session (questions and read-backs)."""
FIRST_RUN_FOLDER = "first-run"


class AmountAsker(Protocol):
    """How a front end asks for the amount of one side after a session (keyboard, voice)."""

    def ask(self, side: str, unit: str) -> float | None:
        """The amount in `unit` ("ml" or "oz"), or None to skip this side."""
        ...


def first_run_marker(paths: Paths, routine_name: str) -> Path:
    """The file whose presence says this routine's first-run intro was heard (per routine)."""
    safe = re.sub(r"[^a-z0-9_-]", "_", routine_name.lower())[:100] or "routine"
    return paths.data_dir / FIRST_RUN_FOLDER / safe


class LiveSession:
    """One spoken session, live: prepare it, subscribe front ends, `run()`, then `close()`."""

    def __init__(
        self,
        session: Session,
        output: LiveOutput,
        recorder: SessionRecorder,
        clock: Clock,
        warn: Warn,
        *,
        first_side: str,
        marker: Path | None = None,
    ) -> None:
        self.session = session
        self.recorder = recorder
        self.closing_sentence = recorder.closing_sentence()
        if self.closing_sentence:
            session.replan(replace(session.settings, closing_extra=(self.closing_sentence,)))
        self.conductor = Conductor(session, output)
        self.clock = clock
        self.warn = warn
        self.first_side = first_side
        self.marker = marker
        self.listeners: list[SessionListener] = [recorder]
        self.outcome: str | None = None
        """"finished", "stopped" or "output-lost" once the sound has ended."""
        self._stop_requested = threading.Event()
        self._after_frame = 0

    @classmethod
    def prepare(
        cls,
        config: Config,
        options: SessionOptions,
        paths: Paths,
        clock: Clock,
        output: LiveOutput,
        warn: Warn,
        *,
        explain: bool = False,
    ) -> LiveSession:
        """Open the log, choose the side, decide on the first-run intro, prepare the sound.

        Only the clips spoken before step 2 are made now, so the first sound comes at once.
        """
        store = open_log(paths, warn)
        side = options.first_side or (store.next_first_side() if store is not None else "left")
        from voiceguide.routine.load import resolve

        routine = resolve(options.routine or config.routine, paths.routines_dir)
        marker = first_run_marker(paths, routine.name)
        options = replace(
            options,
            routine=options.routine or config.routine,
            first_side=side,
            include_first_run=explain or not marker.exists(),
        )
        try:
            session = prepare_session(config, options, paths, warn, eager=False)
        except BaseException:
            if store is not None:
                store.close()
            raise
        recorder = SessionRecorder(
            store, clock, warn, config.sessions_per_day, routine_counts=session.routine.counts
        )
        return cls(session, output, recorder, clock, warn, first_side=side, marker=marker)

    # -- front ends -------------------------------------------------------------------------
    def subscribe(self, listener: SessionListener) -> None:
        self.listeners.append(listener)

    def _send(self, event: Event) -> None:
        for listener in self.listeners:
            listener.on_event(event)

    # -- controls (any thread) --------------------------------------------------------------
    def toggle_pause(self) -> None:
        self.conductor.toggle_pause()

    def pause(self) -> None:
        self.conductor.pause()

    def resume(self) -> None:
        self.conductor.resume()

    def next_step(self) -> None:
        self.conductor.next_step()

    def back(self) -> None:
        self.conductor.back()

    def repeat(self) -> None:
        self.conductor.repeat()

    def extend(self) -> None:
        self.conductor.extend()

    def request_stop(self) -> None:
        """Stop as soon as the loop sees it (safe from a signal handler: sets a flag only)."""
        self._stop_requested.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    def state(self) -> PlayState:
        return self.conductor.state()

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> str:
        """Play to the end, a stop, or a lost output; returns the outcome.

        Raises AudioOutputError if no output can be opened at all (nothing is logged then).
        """
        self.conductor.start()
        self.recorder.begin(self.session.routine.name, self.first_side)
        try:
            self.outcome = self._loop()
        finally:
            if self.outcome is None:  # an error in a listener or the producer
                self.conductor.stop()
        player = self.conductor.player
        if self.outcome == "finished":
            self._send(Event("finished", self.conductor.timeline.end_frame))
        self.recorder.end(self.outcome == "finished", player.playhead_frame())
        if self.recorder.reached_first_step and self.marker is not None:
            self._mark_first_run_done(self.marker)
        for listener in self.listeners:
            listener.on_end(self.outcome)
        if player.error is not None:
            raise player.error
        return self.outcome

    def _loop(self) -> str:
        player = self.conductor.player
        while True:
            done = self.conductor.wait(TICK_SECONDS)
            if self._stop_requested.is_set() and not done:
                self.conductor.stop()
            self._pump()
            if self.conductor.stopped:
                return "stopped"
            if player.output_lost and not self._reopen():
                return "output-lost"
            if done and player.finished and not player.output_lost:
                return "finished" if player.error is None else "stopped"

    def _pump(self) -> None:
        for event in self.conductor.poll():
            self._send(event)
        state = self.conductor.state()
        for listener in self.listeners:
            listener.on_tick(state)

    def _reopen(self) -> bool:
        """The output went away (sound server stopped, device unplugged): retry for a while."""
        player = self.conductor.player
        frame = player.playhead_frame()
        self._send(Event("output-lost", frame))
        self.warn(
            f"the sound output was lost at {format_seconds(frames_to_seconds(frame))};"
            f" trying to reopen it for {REOPEN_SECONDS:.0f} s"
        )
        deadline = self.clock.monotonic() + REOPEN_SECONDS
        while self.clock.monotonic() < deadline and not self._stop_requested.is_set():
            self.clock.sleep(REOPEN_EVERY_SECONDS)
            try:
                player.reopen()
            except AudioOutputError:
                continue
            self._send(Event("output-back", frame))
            return True
        player.stop()
        return False

    def _mark_first_run_done(self, marker: Path) -> None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER_MODE)
            write_own_file(marker, b"", mode=PRIVATE_MODE)
        except (OSError, OutputError) as err:
            self.warn(f"{err} (the introduction will be said again next time)")

    # -- afterwards ---------------------------------------------------------------------------
    def say_after(self, text: str) -> None:
        """Say `text` on the session's output once its sound has ended (the amounts
        dialogue), and return when it has been heard. The samples go through the same
        buffer as the session, so a listener's echo canceller has them as its reference."""
        import numpy as np

        from voiceguide.audioformat import CHANNELS, MIX_RATE_HZ, db_to_gain, seconds_to_frames

        output = self.conductor.player.sink
        clip = self.session.voice.clip(text).astype(np.float32)
        gain = db_to_gain(self.session.levels.speech_db)
        mono = np.clip(np.rint(clip * gain), -32768, 32767).astype(np.int16)
        stereo = np.repeat(mono[:, None], CHANNELS, axis=1)
        tail = seconds_to_frames(AFTER_TAIL_SECONDS)
        if output.capacity_frames == 0:  # released at a stop: a fresh buffer
            output.open(MIX_RATE_HZ, AFTER_BUFFER_FRAMES)
            self._after_frame = output.preroll_frames
        start = max(self._after_frame, self.conductor.timeline.end_frame + tail)
        if start + len(stereo) + tail > output.capacity_frames:
            return  # the buffer is used up: nothing more is said
        output.write_at(start - output.preroll_frames,
                        np.zeros((output.preroll_frames, CHANNELS), dtype=np.int16))  # fmt: skip
        output.write_at(start, stereo)
        output.write_at(start + len(stereo), np.zeros((tail, CHANNELS), dtype=np.int16))
        output.start(start - output.preroll_frames)
        self.clock.sleep((output.preroll_frames + len(stereo) + tail) / MIX_RATE_HZ)
        output.halt()
        self._after_frame = start + len(stereo) + tail

    @property
    def asks_amounts(self) -> bool:
        """Amounts are asked after any logged session that counts: one that reached a pumping
        step, finished or not (a demo never asks)."""
        return self.recorder.session_id is not None and self.recorder.counted

    def ask_amounts(self, asker: AmountAsker, unit: str) -> None:
        """Ask each side's amount (first side first) and log what was given."""
        from voiceguide.logbook.units import amount_to_ml, parse_unit

        if not self.asks_amounts:
            return
        amounts: dict[str, float | None] = {}
        for side in (self.first_side, other_side(self.first_side)):
            value = asker.ask(side, unit)
            amounts[side] = None if value is None else amount_to_ml(side, value, parse_unit(unit))
        self.recorder.set_amounts(amounts.get("left"), amounts.get("right"))

    @property
    def steps_done(self) -> int:
        return len(self.recorder.steps_done)

    @property
    def step_count(self) -> int:
        return len(self.session.plan.steps)

    @property
    def elapsed_seconds(self) -> float:
        return frames_to_seconds(self.conductor.player.playhead_frame())

    def close(self) -> None:
        """Join every thread, close the voice worker, the music decoders and the log."""
        self.conductor.close()
        self.session.close()
        if self.recorder.store is not None:
            self.recorder.store.close()


def open_log(paths: Paths, warn: Warn) -> LogStore | None:
    """The pumping log; if it cannot be opened the session still runs (and says why)."""
    try:
        return LogStore(paths.log_db)
    except VoiceguideError as err:
        warn(f"{err} (this session will not be logged)")
        return None
