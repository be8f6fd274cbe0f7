"""The conductor: controls in step terms (pause, next, back, repeat, extend), position, events.

It turns each control into a re-plan and a cut of the live timeline, and turns the playhead
into events (step started, cue spoken, paused, finished) for the display and the log. Controls
return at once: they never wait for audio.

Threads: controls may come from any thread (keys, voice). Every read or edit of the timeline
holds the player's lock; speech synthesis never does (a repeat makes its clip first, then
takes the lock to cut). The conductor's own voice thread finishes the clips the plan still
lacks; `close()` stops and joins it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import numpy as np

from voiceguide.audioformat import CHANNELS, MIX_RATE_HZ, db_to_gain, frames_to_seconds
from voiceguide.live.events import Event, PlayState
from voiceguide.live.player import LivePlayer
from voiceguide.mix.plan import Insert, Plan, PlannedStep, announcement_lines
from voiceguide.mix.prepare import Session
from voiceguide.mix.renderer import Renderer
from voiceguide.mix.timeline import Timeline
from voiceguide.output.base import LiveOutput
from voiceguide.priority import lower_this_thread
from voiceguide.routine.load import Line, Recording, caption

log = logging.getLogger(__name__)


def _ack_tone() -> np.ndarray:
    """Two soft notes, 70 ms each, at -24 dBFS, with 10 ms ramps: quiet, and unlike any cue."""
    frames = int(0.07 * MIX_RATE_HZ)
    t = np.arange(frames) / MIX_RATE_HZ
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    notes = [np.sin(2 * np.pi * hz * t) * ramp for hz in (880.0, 1318.5)]
    mono = np.concatenate(notes) * 32767 * db_to_gain(-24.0)
    return np.repeat(np.rint(mono).astype(np.int16)[:, None], CHANNELS, axis=1)


ACK_TONE = _ack_tone()
EXTEND_SECONDS = 60.0
NEXT_GRACE_SECONDS = 0.5
"""A `next` within this long after a step was heard to start belongs to the step before."""


class Conductor:
    def __init__(self, session: Session, output: LiveOutput) -> None:
        self.session = session
        self.timeline = Timeline(session.renderer)
        self.player = LivePlayer(self.timeline, output)
        self._events: list[Event] = []
        self._polled_frame = 0
        self._events_lock = threading.Lock()
        self.stopped = False
        self._voice_thread: threading.Thread | None = None
        self._voice_wanted = threading.Event()
        self._closing = threading.Event()

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Start playing now; clips not synthesized yet are made in the background."""
        self.player.start()
        self._voice_thread = threading.Thread(
            target=self._complete_voice, name="voiceguide-voice", daemon=True
        )
        self._voice_wanted.set()
        self._voice_thread.start()

    def _complete_voice(self) -> None:
        """Synthesize what the plan still lacks, then rebuild it with the real clip lengths.

        The plan was laid out with estimated lengths for these clips; they all lie after the
        producer's horizon when this runs, so the rebuilt plan changes only the future.
        """
        lower_this_thread()  # and the synthesizers it starts inherit the lower priority
        while not self._closing.is_set():
            if not self._voice_wanted.wait(0.2):
                continue
            self._voice_wanted.clear()
            try:
                if self.session.finish_voice():
                    self.refresh_plan()
            except Exception:  # a failed clip must not end the session: it is estimated
                log.warning("speech synthesis failed in the background", exc_info=True)

    def refresh_plan(self) -> None:
        """Rebuild the plan with the current settings and clip lengths, from the edit frame on."""
        with self.player.editing() as at:
            old_plan, plan_frame = self.timeline.locate(at)
            new_plan = self.session.replan(self.session.settings)
            if new_plan != old_plan:
                # Up to here the two plans agree, so there is nothing to cross-fade.
                self.player.cut(self.session.renderer, plan_frame, at_frame=at, crossfade=False)

    def wait(self, timeout: float | None = None) -> bool:
        return self.player.wait(timeout)

    def close(self) -> None:
        """Stop the sound if it still plays, and join every thread the conductor started
        (the output's own included: `release` waits for them)."""
        if not self.player.finished:
            self.player.stop()
        self.player.close()
        self.player.sink.release()
        self._closing.set()
        if self._voice_thread is not None and self._voice_thread.is_alive():
            self._voice_thread.join(timeout=30.0)  # at most one clip's synthesis

    @property
    def finished(self) -> bool:
        return self.player.finished

    def stop(self) -> None:
        """Stop the sound now (q, Ctrl-C, SIGTERM)."""
        frame = self.player.playhead_frame()
        self.player.stop()
        self.stopped = True
        self._emit(Event("stopped", frame))

    # -- controls ---------------------------------------------------------------------------
    def toggle_pause(self) -> None:
        if self.player.paused:
            self.resume()
        else:
            self.pause()

    def pause(self) -> int:
        at = self.player.pause()
        self._emit(Event("paused", at))
        return at

    def resume(self) -> int:
        at = self.player.resume()
        self._emit(Event("resumed", at))
        return at

    def next_step(self) -> int | None:
        """End the step being heard now and go on with the next one (or the closing).

        The step is the one the listener hears, not the one at the edit frame 0.3 s ahead: a
        `next` pressed as a step ends must not skip the step that is about to begin. Within
        NEXT_GRACE_SECONDS after a step was heard to start, `next` is meant for the step
        before, which is already over: it does nothing.
        """
        with self.player.editing() as at:
            heard_plan, heard_frame = self.timeline.locate(self.player.playhead_frame())
            heard = heard_plan.step_at(heard_frame)
            grace = round(NEXT_GRACE_SECONDS * heard_plan.sample_rate_hz)
            starts = [s.start_frame for s in heard_plan.steps]
            if any(0 <= heard_frame - s < grace for s in starts):
                return None
            plan, plan_frame = self.timeline.locate(at)
            step = plan.step_at(plan_frame)
            if heard is not None and (step is None or step.index != heard.index):
                return None  # the step heard now ends before the edit frame: it is over
            if step is None:
                if plan_frame < plan.steps[0].start_frame:  # still in the intro
                    self._cut_to(at, self.session.renderer, plan.steps[0].start_frame)
                    self._emit(Event("next", at, plan.steps[0]))
                    return at
                return None  # in the closing: nothing to skip to
            elapsed = frames_to_seconds(plan_frame - step.start_frame)
            new_plan = self._replan(step_seconds={step.id: max(elapsed, 1.0)})
            following = (
                new_plan.steps[step.index + 1].start_frame
                if step.index + 1 < len(new_plan.steps)
                else new_plan.steps[step.index].end_frame
            )
            self._cut_to(at, self.session.renderer, following)
            self._emit(Event("next", at, step))
            return at

    def back(self) -> int | None:
        """Start the current step again from its announcement."""
        with self.player.editing() as at:
            plan, plan_frame = self.timeline.locate(at)
            step = plan.step_at(plan_frame)
            target = step.start_frame if step is not None else 0
            if step is None and plan_frame >= plan.steps[-1].end_frame:
                step = plan.steps[-1]
                target = step.start_frame
            renderer = self.timeline.segment_at(at).renderer
            self._cut_to(at, renderer, target)
            self._emit(Event("back", at, step))
            return at

    def repeat(self) -> int | None:
        """Say the current step's instructions again now.

        The clip is made before the timeline is locked (synthesis takes 0.1-0.6 s, longer than
        the edit margin); if the step changed meanwhile, the new step's clip is made too.
        """
        for _ in range(3):
            with self.player.editing() as at:
                plan, plan_frame = self.timeline.locate(at)
                step = plan.step_at(plan_frame)
                if step is None:
                    return None
                text = self._again_text(step)
                if self.session.ready_frames(text) is not None:
                    insert = Insert(step.id, plan_frame - step.start_frame, text)
                    settings = self.session.settings
                    new_plan = self._replan(inserts=(*settings.inserts, insert))
                    target = new_plan.steps[step.index].start_frame + (
                        plan_frame - step.start_frame
                    )
                    self._cut_to(at, self.session.renderer, target)
                    self._emit(Event("repeat", at, step, caption(text)))
                    return at
            self.session.clip(text)  # outside the lock: the producer keeps going
        return None

    def say_now(self, text: str) -> int:
        """Say `text` over whatever plays, at once (made before the lock is taken)."""
        clip = self.session.voice.clip(text).astype(np.float32)
        gain = db_to_gain(self.session.levels.speech_db)
        mono = np.clip(np.rint(clip * gain), -32768, 32767).astype(np.int16)
        at = self.player.overlay(np.repeat(mono[:, None], CHANNELS, axis=1))
        self._emit(Event("said", at, None, text))
        return at

    def tone_now(self) -> int:
        """A soft two-note tone at once: "heard you"."""
        return self.player.overlay(ACK_TONE)

    def step_left_seconds(self) -> float | None:
        """Time left in the step being heard (None in the intro and the closing)."""
        with self.player.reading() as playhead:
            plan, plan_frame = self.timeline.locate(playhead)
            step = plan.step_at(plan_frame)
            if step is None:
                return None
            return frames_to_seconds(step.end_frame - plan_frame)

    def _again_text(self, step: PlannedStep) -> Line:
        """The repeat: "Again: Step 2 of 6. ..."; a recorded step's recording (a recorded step
        number is left out: "Again:" and the step's words)."""
        lines = announcement_lines(self.session.routine, step.index, self.session.settings)
        say = lines[-1]
        return say if isinstance(say, Recording) else "Again: " + say

    def extend(self, seconds: float = EXTEND_SECONDS) -> int | None:
        """One more minute (by default) on the current step; later cues move with it."""
        with self.player.editing() as at:
            plan, plan_frame = self.timeline.locate(at)
            step = plan.step_at(plan_frame)
            if step is None:
                return None
            chosen = self.session.settings.step_seconds.get(
                step.id, self.session.routine.steps[step.index].duration.default_seconds
            )
            self._replan(step_seconds={step.id: chosen + seconds})
            self._cut_to(at, self.session.renderer, plan_frame)
            self._emit(Event("extended", at, step, f"+{seconds:.0f} s"))
            return at

    def _replan(
        self,
        step_seconds: dict[str, float] | None = None,
        inserts: tuple[Insert, ...] | None = None,
    ) -> Plan:
        settings = self.session.settings
        merged = dict(settings.step_seconds)
        merged.update(step_seconds or {})
        new_settings = replace(
            settings,
            step_seconds=merged,
            inserts=settings.inserts if inserts is None else inserts,
        )
        return self.session.replan(new_settings)

    def _cut_to(self, at: int, renderer: Renderer, plan_frame: int) -> None:
        self.player.cut(renderer, plan_frame, at_frame=at)
        self._voice_wanted.set()  # new texts (the closing summary) may need their clips
        # Events already reported stay reported; those after the cut come from the new plan.
        self._polled_frame = min(self._polled_frame, at)

    # -- position and events ------------------------------------------------------------------
    def note(self, event: Event) -> None:
        """Report an event of a front end (a voice command heard) with the others."""
        self._emit(event)

    def _emit(self, event: Event) -> None:
        with self._events_lock:
            self._events.append(event)

    def poll(self) -> list[Event]:
        """Events up to the playhead since the last poll, in order (from one thread only)."""
        found = []
        with self.player.reading() as playhead:
            if playhead > self._polled_frame:
                for item in self.timeline.events_between(self._polled_frame, playhead + 1):
                    if item.kind == "step" and item.step is not None:
                        found.append(Event("step-started", item.output_frame, item.step))
                    elif item.kind == "step-end" and item.step is not None:
                        found.append(Event("step-ended", item.output_frame, item.step))
                    elif item.cue is not None and item.cue.spoken:
                        found.append(Event("cue", item.output_frame, None, caption(item.cue.text)))
                self._polled_frame = playhead + 1
        with self._events_lock:
            events, self._events = self._events, []
        return sorted([*events, *found], key=lambda e: e.output_frame)

    def state(self) -> PlayState:
        with self.player.reading() as playhead:
            return self._state_at(playhead)

    def _state_at(self, playhead: int) -> PlayState:
        plan, plan_frame = self.timeline.locate(playhead)
        step = plan.step_at(plan_frame)
        spoken = plan.spoken_cue_at(plan_frame)
        shown = caption(spoken.text) if spoken is not None else ""
        if step is not None:
            following = plan.steps[step.index + 1].title if step.index + 1 < len(plan.steps) else ""
            next_title = following or "closing"
        elif plan_frame < plan.steps[0].start_frame:
            next_title = plan.steps[0].title
        else:
            next_title = ""
        return PlayState(
            paused=self.player.paused,
            finished=self.player.finished,
            step_number=None if step is None else step.index + 1,
            step_count=len(plan.steps),
            step_title=(step.title if step else
                        "Getting ready" if plan_frame < plan.steps[0].start_frame else "Closing"),
            step_elapsed_seconds=0.0 if step is None
            else frames_to_seconds(plan_frame - step.start_frame),
            step_total_seconds=0.0 if step is None
            else frames_to_seconds(step.end_frame - step.start_frame),
            caption=shown,
            next_title=next_title,
            session_left_seconds=max(0.0, (self.timeline.end_frame - playhead) / MIX_RATE_HZ),
            session_elapsed_seconds=playhead / MIX_RATE_HZ,
        )  # fmt: skip
