"""Records a live session in the pumping log as it happens (begin, each step, the end).

A listener of the LiveSession: it sees the same events as the display. Steps are counted once
each, however often they were visited (back, repeat, extend); pumping time is the time heard
inside pumping steps, and ends where the step ends (the closing speech is not pumping).

Logging never ends a session: if the log cannot be written, the user is told once and the
guidance goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from voiceguide.audioformat import frames_to_seconds
from voiceguide.clock import Clock
from voiceguide.errors import VoiceguideError
from voiceguide.live.events import Event, SessionListener
from voiceguide.logbook import LogStore, end_of_session_sentence
from voiceguide.logbook.times import local_zone
from voiceguide.mix.plan import PlannedStep

log = logging.getLogger(__name__)


class SessionRecorder(SessionListener):
    """The log's view of one live session.

    The row is written when the first sound was made (a start that fails is not logged) and
    begins as not counted; it counts from its first pumping step on, if the routine counts.
    """

    def __init__(
        self,
        store: LogStore | None,
        clock: Clock,
        warn: Callable[[str], None],
        goal: int = 8,
        *,
        routine_counts: bool = True,
    ) -> None:
        self.store = store
        self.routine_counts = routine_counts
        self.clock = clock
        self.warn = warn
        self.goal = goal
        self.session_id: int | None = None
        self.steps_done: list[str] = []
        """Ids of the steps heard, each once, in the order first heard."""
        self.pumping_seconds = 0.0
        self.reached_pumping = False
        self.reached_first_step = False
        """The intro was heard through: a step has started."""
        self._current: tuple[PlannedStep, int] | None = None  # step and its start output frame

    def _write(self, action: Callable[[LogStore], object]) -> object:
        if self.store is None:
            return None
        try:
            return action(self.store)
        except VoiceguideError as err:
            self.warn(f"the pumping log could not be written ({err}); the session goes on")
            self.store = None
            return None

    def closing_sentence(self) -> str:
        """What the closing says about this session ("That was your 5th session..."), as it
        will be once this session is logged; "" without a log. Writes nothing."""
        if self.store is None or not self.routine_counts:
            return ""
        now = self.clock.now()
        recent = self._write(lambda s: s.sessions(since=now - timedelta(hours=24)))
        if not isinstance(recent, list):
            return ""
        return end_of_session_sentence(recent, now, local_zone(), self.goal, counting_this=True)

    def begin(self, routine: str, first_side: str) -> None:
        """Write the start (called once the first sound has been made)."""
        now = self.clock.now()
        session_id = self._write(lambda s: s.begin_session(routine, first_side, now, counted=False))
        self.session_id = session_id if isinstance(session_id, int) else None

    def on_event(self, event: Event) -> None:
        if event.kind == "step-started" and event.step is not None:
            if self._current is not None and self._current[0].id == event.step.id:
                return  # the same step, heard again from its start (back): one visit
            self._close_current(event.output_frame)
            self._current = (event.step, event.output_frame)
            self.reached_first_step = True
            if event.step.pumping and not self.reached_pumping:
                self.reached_pumping = True
                self._mark_counted()
        elif event.kind == "step-ended" and event.step is not None:
            if self._current is not None and self._current[0].id == event.step.id:
                self._close_current(event.output_frame)
        elif event.kind == "finished":
            self._close_current(event.output_frame)

    @property
    def counted(self) -> bool:
        """This session counts: its routine counts and it reached a pumping step."""
        return self.routine_counts and self.reached_pumping

    def _mark_counted(self) -> None:
        if self.counted and self.session_id is not None:
            session_id = self.session_id
            self._write(lambda s: s.mark_counted(session_id))

    def _close_current(self, output_frame: int) -> None:
        if self._current is None:
            return
        step, started = self._current
        self._current = None
        if step.pumping:
            self.pumping_seconds += frames_to_seconds(max(0, output_frame - started))
        if step.id in self.steps_done:
            return
        self.steps_done.append(step.id)
        if self.session_id is not None:
            session_id, total = self.session_id, self.pumping_seconds
            self._write(lambda s: s.step_done(session_id, step.id, total, self.clock.now()))

    def end(self, finished: bool, playhead_frame: int) -> None:
        """Write how the session ended; a stopped session keeps the step it stopped in."""
        stopped_at = None
        if not finished and self._current is not None:
            step, started = self._current
            stopped_at = step.id
            if step.pumping:
                self.pumping_seconds += frames_to_seconds(max(0, playhead_frame - started))
        if self.session_id is None:
            return
        session_id, total, now = self.session_id, self.pumping_seconds, self.clock.now()
        self._write(lambda s: s.end_session(session_id, now, finished, stopped_at, total))

    def set_amounts(self, left_ml: float | None, right_ml: float | None) -> None:
        if self.session_id is not None and (left_ml is not None or right_ml is not None):
            session_id = self.session_id
            self._write(lambda s: s.set_amounts(session_id, left_ml, right_ml))
