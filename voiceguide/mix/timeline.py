"""The edit list of a live session: which plan plays at which output frame.

A live session starts as one plan played from its start. Skip, back, repeat and extend cut the
output at a frame and continue from another plan position (or another plan). Music keeps
flowing across a cut, and a short crossfade hides the seam. Pure: no clock, no threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from voiceguide.audioformat import CHANNELS, MIX_RATE_HZ
from voiceguide.mix.plan import Cue, Plan, PlannedStep
from voiceguide.mix.renderer import Renderer

_KEEP_FRAMES = 10 * MIX_RATE_HZ  # overlays this far in the past are forgotten
CUT_FADE_FRAMES = 441  # 10 ms: long enough to avoid a click, short enough to go unnoticed


@dataclass(frozen=True)
class Segment:
    """Output frames from `output_start` on play `renderer`'s plan from `plan_start`."""

    output_start: int
    renderer: Renderer
    plan_start: int
    music_shift: int
    crossfade: bool = True

    @property
    def plan(self) -> Plan:
        return self.renderer.plan

    @property
    def natural_end(self) -> int:
        """Output frame where this segment's plan would end."""
        return self.output_start + self.plan.total_frames - self.plan_start

    def to_plan(self, output_frame: int) -> int:
        return self.plan_start + output_frame - self.output_start

    def to_output(self, plan_frame: int) -> int:
        return self.output_start + plan_frame - self.plan_start


@dataclass(frozen=True)
class TimelineEvent:
    output_frame: int
    kind: str  # "step", "step-end" or "cue"
    step: PlannedStep | None
    cue: Cue | None


@dataclass(frozen=True)
class Overlay:
    """Sound laid over the output from `output_frame` on, whatever plays there: a live
    acknowledgement ("One more minute.", a soft tone). Tied to output time, not to a plan."""

    output_frame: int
    samples: np.ndarray
    """int16 stereo."""

    @property
    def end_frame(self) -> int:
        return self.output_frame + len(self.samples)


class Timeline:
    def __init__(self, renderer: Renderer) -> None:
        self.segments: list[Segment] = [Segment(0, renderer, 0, 0)]
        self.overlays: list[Overlay] = []

    def overlay(self, output_frame: int, samples: np.ndarray) -> None:
        """Mix `samples` (int16 stereo) over the output from `output_frame` on."""
        self.overlays = [o for o in self.overlays if o.end_frame > output_frame - _KEEP_FRAMES]
        self.overlays.append(Overlay(output_frame, samples))

    @property
    def end_frame(self) -> int:
        return self.segments[-1].natural_end

    def segment_at(self, output_frame: int) -> Segment:
        for segment in reversed(self.segments):
            if segment.output_start <= output_frame:
                return segment
        return self.segments[0]

    def locate(self, output_frame: int) -> tuple[Plan, int]:
        """The plan playing at `output_frame`, and the plan frame there."""
        segment = self.segment_at(output_frame)
        return segment.plan, segment.to_plan(output_frame)

    def cut(
        self, output_frame: int, renderer: Renderer, plan_frame: int, crossfade: bool = True
    ) -> None:
        """From `output_frame` on, play `renderer`'s plan from `plan_frame`; music continues.

        `crossfade=False` when the new plan sounds the same around the cut (a refresh).
        """
        old = self.segment_at(output_frame)
        old_plan_frame = old.to_plan(output_frame)
        music_now = old.plan.music_cursor(old_plan_frame) + old.music_shift
        shift = music_now - renderer.plan.music_cursor(plan_frame)
        self.segments = [s for s in self.segments if s.output_start < output_frame]
        self.segments.append(Segment(output_frame, renderer, plan_frame, shift, crossfade))

    def _pieces(self, start: int, end: int) -> Iterator[tuple[int, Segment, int, int]]:
        """(index, segment, a, b): the part [a, b) of [start, end) that each segment plays."""
        for index, segment in enumerate(self.segments):
            following = self.segments[index + 1] if index + 1 < len(self.segments) else None
            seg_end = segment.natural_end if following is None else following.output_start
            a, b = max(start, segment.output_start), min(end, seg_end)
            if a < b:
                yield index, segment, a, b

    def render(self, output_frame: int, n_frames: int) -> np.ndarray:
        """int16 stereo for [output_frame, output_frame + n); silence after the end."""
        out = np.zeros((n_frames, CHANNELS), dtype=np.int16)
        for index, segment, a, b in self._pieces(output_frame, output_frame + n_frames):
            block = segment.renderer.render(segment.to_plan(a), b - a, segment.music_shift)
            if index > 0 and segment.crossfade:
                block = self._crossfade(self.segments[index - 1], segment, a, block)
            out[a - output_frame : b - output_frame] = block
        return self._add_overlays(output_frame, out)

    def music_ready(self, output_frame: int, n_frames: int) -> bool:
        """True when `render` of this block would not wait for a music decoder; the decoders
        it would wait for start decoding now."""
        pieces = self._pieces(output_frame, output_frame + n_frames)
        # Every piece is asked (no short cut): each decoder that is needed starts now.
        ready = [
            s.renderer.music_ready(s.to_plan(a), b - a, s.music_shift) for _, s, a, b in pieces
        ]
        return all(ready)

    def _add_overlays(self, output_frame: int, out: np.ndarray) -> np.ndarray:
        end = output_frame + len(out)
        for item in self.overlays:
            a, b = max(output_frame, item.output_frame), min(end, item.end_frame)
            if a < b:
                mixed = out[a - output_frame : b - output_frame].astype(np.int32)
                mixed += item.samples[a - item.output_frame : b - item.output_frame]
                np.clip(mixed, -32768, 32767, out=mixed)
                out[a - output_frame : b - output_frame] = mixed
        return out

    @staticmethod
    def _crossfade(previous: Segment, segment: Segment, a: int, block: np.ndarray) -> np.ndarray:
        """Blend the first CUT_FADE_FRAMES after a cut with what would have played on."""
        offset = a - segment.output_start
        if offset >= CUT_FADE_FRAMES:
            return block
        n = min(CUT_FADE_FRAMES - offset, len(block))
        old = previous.renderer.render(previous.to_plan(a), n, previous.music_shift)
        ramp = (np.arange(offset, offset + n, dtype=np.float32) + 0.5) / CUT_FADE_FRAMES
        mixed = block.astype(np.float32)
        mixed[:n] = old[:n] * (1 - ramp)[:, None] + mixed[:n] * ramp[:, None]
        return np.rint(mixed).astype(np.int16)

    def events_between(self, start: int, end: int) -> Iterator[TimelineEvent]:
        """Step starts, step ends and cue starts whose output frame lies in [start, end).

        A cut into the middle of a step (extend, repeat, a refreshed plan) is no new start;
        a cut into another step than the one playing before it is.
        """
        for index, segment, a, b in self._pieces(start, end):
            plan_a, plan_b = segment.to_plan(a), segment.to_plan(b)
            for step in segment.plan.steps_touching(plan_a, plan_b):
                if plan_a <= step.start_frame < plan_b or (
                    a == segment.output_start and index > 0
                    and step.start_frame <= plan_a < step.end_frame
                    and self._step_before(index, a) != step.id
                ):  # fmt: skip
                    frame = max(a, segment.to_output(step.start_frame))
                    yield TimelineEvent(frame, "step", step, None)
                if plan_a <= step.end_frame < plan_b:
                    yield TimelineEvent(segment.to_output(step.end_frame), "step-end", step, None)
            for cue in segment.plan.cues_starting(plan_a, plan_b):
                yield TimelineEvent(segment.to_output(cue.start_frame), "cue", None, cue)

    def _step_before(self, index: int, output_frame: int) -> str | None:
        """Id of the step segment `index - 1` was playing just before `output_frame`."""
        previous = self.segments[index - 1]
        step = previous.plan.step_at(previous.to_plan(output_frame - 1))
        return None if step is None else step.id
