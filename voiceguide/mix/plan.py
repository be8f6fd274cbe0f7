"""The plan: a pure function of routine + settings that fixes every cue at an exact frame."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from voiceguide.audioformat import MIX_RATE_HZ, seconds_to_frames
from voiceguide.routine.durations import spoken_length
from voiceguide.routine.load import Line, Recording, Routine, Step
from voiceguide.sides import other_side

SPOKEN_KINDS = frozenset(
    {"intro", "announce", "repeat", "tip", "say", "halfway", "one-minute", "closing"}
)
# Lower number wins when two cues of one step would overlap.
_PRIORITY = {
    "announce": 0,
    "repeat": 0.5,
    "chime": 1,
    "one-minute": 2,
    "halfway": 3,
    "tip": 4,
    "say": 4,
}
HALFWAY_MIN_SECONDS = 240.0
ONE_MINUTE_MIN_SECONDS = 120.0
HALFWAY_TEXT = "Halfway there."
ONE_MINUTE_TEXT = "One minute left in this step."
_STEP_JSON_KEYS = ("id", "title", "start_frame", "end_frame", "music")


@dataclass(frozen=True)
class Insert:
    """A line spoken `offset_frames` after a step's start, on request (kind "repeat")."""

    step_id: str
    offset_frames: int
    text: Line


@dataclass(frozen=True)
class PlanSettings:
    """Everything besides the routine that shapes the timeline."""

    sample_rate_hz: int = MIX_RATE_HZ
    first_side: str = "left"
    include_first_run: bool = False
    duck_db: float = -16.0
    duck_attack_seconds: float = 0.3
    duck_hold_seconds: float = 0.4
    duck_release_seconds: float = 0.8
    cue_gap_seconds: float = 1.0
    intro_gap_seconds: float = 0.6
    chime_gap_seconds: float = 0.4
    """Silence between the end-of-step chime and the next step's announcement."""
    announce_gap_seconds: float = 0.4
    """Between "Step 2 of 6." and the step's words when either is a recording (a sentence's
    pause: when both are texts they are one clip)."""
    lead_in_seconds: float = 0.05
    after_intro_seconds: float = 1.0
    tail_seconds: float = 1.0
    music_fade_in_seconds: float = 3.0
    music_fade_out_seconds: float = 2.0
    step_seconds: Mapping[str, float] = field(default_factory=dict)
    """Durations chosen by the user (or extended live), by step id; default otherwise."""
    closing_extra: tuple[str, ...] = ()
    """Lines added to the closing (the log's "That was your 5th session..." sentence)."""
    inserts: tuple[Insert, ...] = ()
    """Lines added live (repeat the instructions); each lengthens its step by its own length."""

    def frames(self, seconds: float) -> int:
        return seconds_to_frames(seconds, self.sample_rate_hz)


@dataclass(frozen=True)
class Cue:
    """One sound placed on the timeline: a spoken line (or a chime when `text` is empty)."""

    kind: str
    step_id: str
    text: Line
    start_frame: int
    end_frame: int

    @property
    def spoken(self) -> bool:
        return self.kind in SPOKEN_KINDS


@dataclass(frozen=True)
class PlannedStep:
    index: int
    id: str
    title: str
    start_frame: int
    end_frame: int
    music: bool
    min_frames: int
    max_frames: int
    pumping: bool = False


@dataclass(frozen=True)
class MusicSpan:
    """Music plays over [start_frame, end_frame); `music_frame` is where in the music it starts."""

    start_frame: int
    end_frame: int
    music_frame: int


@dataclass(frozen=True)
class DuckSpan:
    """Music is lowered from `down_frame` (ramp starts) to `up_frame` (back to full)."""

    down_frame: int
    low_frame: int
    release_frame: int
    up_frame: int


@dataclass(frozen=True)
class DroppedCue:
    kind: str
    step_id: str
    text: Line
    wanted_frame: int


@dataclass(frozen=True)
class Plan:
    sample_rate_hz: int
    total_frames: int
    steps: tuple[PlannedStep, ...]
    cues: tuple[Cue, ...]
    music_spans: tuple[MusicSpan, ...]
    duck_spans: tuple[DuckSpan, ...]
    dropped: tuple[DroppedCue, ...]
    duck_db: float
    music_fade_in_frames: int
    music_fade_out_frames: int
    routine_name: str

    # Indexes over the sorted steps, cues and spans, made on first use: every lookup by frame
    # is a bisection, so a routine of 10,000 steps costs no more per block than one of ten.
    @cached_property
    def step_starts(self) -> list[int]:
        return [step.start_frame for step in self.steps]

    @cached_property
    def step_ends(self) -> list[int]:
        return [step.end_frame for step in self.steps]

    @cached_property
    def cue_starts(self) -> list[int]:
        return [cue.start_frame for cue in self.cues]

    @cached_property
    def cue_ends_so_far(self) -> list[int]:
        """The latest end of cues[0..i]: cues before the first one past `frame` end by it."""
        latest, ends = 0, []
        for cue in self.cues:
            latest = max(latest, cue.end_frame)
            ends.append(latest)
        return ends

    @cached_property
    def music_span_starts(self) -> list[int]:
        return [span.start_frame for span in self.music_spans]

    def step_at(self, frame: int) -> PlannedStep | None:
        """The step playing at `frame`, or None in the intro and closing."""
        index = bisect_right(self.step_starts, frame) - 1
        if index >= 0 and frame < self.steps[index].end_frame:
            return self.steps[index]
        return None

    def steps_touching(self, start_frame: int, end_frame: int) -> tuple[PlannedStep, ...]:
        """Steps that start, end or play within [start_frame, end_frame), in order (an end
        at `start_frame` counts)."""
        first = bisect_left(self.step_ends, start_frame)
        last = bisect_left(self.step_starts, end_frame)
        return self.steps[first:last]

    def cues_starting(self, start_frame: int, end_frame: int) -> tuple[Cue, ...]:
        """Cues that start within [start_frame, end_frame), in order."""
        first = bisect_left(self.cue_starts, start_frame)
        last = bisect_left(self.cue_starts, end_frame)
        return self.cues[first:last]

    def cues_sounding(self, start_frame: int, end_frame: int) -> list[Cue]:
        """Cues that sound somewhere in [start_frame, end_frame), in order of their start."""
        first = bisect_right(self.cue_ends_so_far, start_frame)
        last = bisect_left(self.cue_starts, end_frame)
        return [cue for cue in self.cues[first:last] if cue.end_frame > start_frame]

    def spoken_cue_at(self, frame: int) -> Cue | None:
        """The first spoken cue sounding at `frame` (the caption), or None."""
        for cue in self.cues_sounding(frame, frame + 1):
            if cue.spoken:
                return cue
        return None

    def music_spans_in(self, start_frame: int, end_frame: int) -> tuple[MusicSpan, ...]:
        """Music spans that overlap [start_frame, end_frame) (they never overlap each other)."""
        first = max(0, bisect_right(self.music_span_starts, start_frame) - 1)
        last = bisect_left(self.music_span_starts, end_frame)
        return self.music_spans[first:last]

    def music_cursor(self, frame: int) -> int:
        """Music frames played before `frame` (where the music stands at that point)."""
        index = bisect_left(self.music_span_starts, frame) - 1
        if index < 0:
            return 0
        span = self.music_spans[index]
        return span.music_frame + min(frame, span.end_frame) - span.start_frame

    def cues_for(self, step_id: str) -> list[Cue]:
        return [c for c in self.cues if c.step_id == step_id]

    @cached_property
    def duck_span_ups(self) -> list[int]:
        return [duck.up_frame for duck in self.duck_spans]

    def duck_spans_in(self, start_frame: int, end_frame: int) -> tuple[DuckSpan, ...]:
        """Duck spans whose ramps or low part touch [start_frame, end_frame)."""
        first = bisect_right(self.duck_span_ups, start_frame)
        last = first
        while last < len(self.duck_spans) and self.duck_spans[last].down_frame < end_frame:
            last += 1
        return self.duck_spans[first:last]

    def to_json(self) -> dict[str, Any]:
        return {
            "routine": self.routine_name,
            "sample_rate": self.sample_rate_hz,
            "total_frames": self.total_frames,
            "steps": [
                {k: v for k, v in asdict(s).items() if k in _STEP_JSON_KEYS} for s in self.steps
            ],
            "cues": [_line_json(asdict(c), c.text) for c in self.cues],
            "music_spans": [asdict(m) for m in self.music_spans],
            "dropped_cues": [_line_json(asdict(d), d.text) for d in self.dropped],
        }


def _line_json(fields: dict[str, Any], line: Line) -> dict[str, Any]:
    """A cue's fields for JSON: `text` is what is synthesized ("" for a chime or a recording),
    `recording` the sound file played (None for the others)."""
    recorded = isinstance(line, Recording)
    fields["text"] = "" if recorded else line
    fields["recording"] = str(line.path) if isinstance(line, Recording) else None
    return fields


def fill_sides(text: str, first_side: str) -> str:
    """Put "left"/"right" where a routine says {first} and {second}."""
    second = other_side(first_side)
    return text.replace("{first}", first_side).replace("{second}", second)


def fill_line(line: Line, first_side: str) -> Line:
    """`fill_sides` for a text; a recording says what it says."""
    return fill_sides(line, first_side) if isinstance(line, str) else line


def announcement_lines(routine: Routine, index: int, settings: PlanSettings) -> tuple[Line, ...]:
    """What starts step `index`: "Step 2 of 6." and the step's words, as one text when both
    are texts, else as two lines (either may be a recording)."""
    step = routine.steps[index]
    numbers = routine.audio.step_numbers
    number: Line = numbers[index] if numbers else f"Step {index + 1} of {len(routine.steps)}."
    say = fill_line(step.say, settings.first_side)
    if isinstance(number, str) and isinstance(say, str):
        return (f"{number} {say}",)
    return (number, say)


def halfway_line(routine: Routine) -> Line:
    return routine.audio.halfway or HALFWAY_TEXT


def one_minute_line(routine: Routine) -> Line:
    return routine.audio.one_minute or ONE_MINUTE_TEXT


def closing_lines(routine: Routine, steps_done: int, session_seconds: float) -> tuple[Line, ...]:
    summary = routine.audio.summary or (
        f"You did {steps_done} step{'s' if steps_done != 1 else ''} "
        f"in {spoken_length(session_seconds)}."
    )
    return (*routine.closing, summary)


def build_plan(
    routine: Routine,
    settings: PlanSettings,
    clip_frames: Callable[[Line], int],
    chime_frames: int,
    end_chime_frames: int,
) -> Plan:
    """Lay out the whole session. `clip_frames(line)` is the length of the spoken clip."""
    cues: list[Cue] = []
    dropped: list[DroppedCue] = []
    gap = settings.frames(settings.cue_gap_seconds)
    cursor = settings.frames(settings.lead_in_seconds)

    intro = (*(routine.intro_first_run if settings.include_first_run else ()), *routine.intro)
    for text in intro:
        length = clip_frames(text)
        cues.append(Cue("intro", "intro", text, cursor, cursor + length))
        cursor += length + settings.frames(settings.intro_gap_seconds)
    if intro:
        cursor += settings.frames(settings.after_intro_seconds)

    steps: list[PlannedStep] = []
    for index, step in enumerate(routine.steps):
        step_cues, step_dropped, end = _lay_out_step(
            routine, index, cursor, settings, clip_frames, chime_frames, gap
        )
        cues.extend(step_cues)
        dropped.extend(step_dropped)
        steps.append(
            PlannedStep(
                index=index,
                id=step.id,
                title=fill_sides(step.title, settings.first_side),
                start_frame=cursor,
                end_frame=end,
                music=step.music,
                min_frames=settings.frames(step.duration.min_seconds),
                max_frames=settings.frames(step.duration.max_seconds),
                pumping=step.pumping,
            )
        )
        cursor = end

    cursor += settings.frames(settings.intro_gap_seconds)
    session_seconds = cursor / settings.sample_rate_hz  # from the first sound to the closing
    closing = (*closing_lines(routine, len(steps), session_seconds), *settings.closing_extra)
    for text in closing:
        length = clip_frames(text)
        cues.append(Cue("closing", "closing", text, cursor, cursor + length))
        cursor += length + settings.frames(settings.intro_gap_seconds)
    cues.append(Cue("end-chime", "closing", "", cursor, cursor + end_chime_frames))
    total = cursor + end_chime_frames + settings.frames(settings.tail_seconds)

    cues.sort(key=lambda c: c.start_frame)
    return Plan(
        sample_rate_hz=settings.sample_rate_hz,
        total_frames=total,
        steps=tuple(steps),
        cues=tuple(cues),
        music_spans=_music_spans(routine, steps, cues, settings),
        duck_spans=_duck_spans(cues, settings),
        dropped=tuple(dropped),
        duck_db=settings.duck_db,
        music_fade_in_frames=settings.frames(settings.music_fade_in_seconds),
        music_fade_out_frames=settings.frames(settings.music_fade_out_seconds),
        routine_name=routine.name,
    )


def step_texts(routine: Routine, settings: PlanSettings) -> list[Line]:
    """Every line a plan of this routine may speak, in the order they are first needed.

    The closing summary depends on the timeline, so it is not here; `build_plan` asks for it.
    """
    texts: list[Line] = [
        *(routine.intro_first_run if settings.include_first_run else ()),
        *routine.intro,
    ]
    for index, step in enumerate(routine.steps):
        texts.extend(announcement_lines(routine, index, settings))
        texts.extend(fill_line(c.text, settings.first_side) for c in step.cues)
        seconds = settings.step_seconds.get(step.id, step.duration.default_seconds)
        if seconds >= HALFWAY_MIN_SECONDS:
            texts.append(halfway_line(routine))
        if seconds >= ONE_MINUTE_MIN_SECONDS:
            texts.append(one_minute_line(routine))
    texts.extend(routine.closing)
    return list(dict.fromkeys(texts))


def first_texts(routine: Routine, settings: PlanSettings) -> list[Line]:
    """The lines spoken before step 2 starts: what must be ready before the first sound."""
    texts = step_texts(routine, settings)
    if len(routine.steps) < 2:
        return texts
    second = announcement_lines(routine, 1, settings)[0]
    return texts[: texts.index(second)]


def estimate_frames(text: Line, rate_hz: int = MIX_RATE_HZ) -> int:
    """A generous guess of a clip's length (about 11 characters a second, plus a margin).

    Used only until the clip is synthesized; the plan is then rebuilt with the real length. A
    recording is loaded before any plan is made: this guess is never needed for one.
    """
    words = text if isinstance(text, str) else ""
    return round((0.6 + len(words) / 11.0) * rate_hz)


def _lay_out_step(
    routine: Routine,
    index: int,
    start: int,
    settings: PlanSettings,
    clip_frames: Callable[[Line], int],
    chime_frames: int,
    gap: int,
) -> tuple[list[Cue], list[DroppedCue], int]:
    step: Step = routine.steps[index]
    seconds = settings.step_seconds.get(step.id, step.duration.default_seconds)
    announce = announcement_lines(routine, index, settings)
    announce_gap = settings.frames(settings.announce_gap_seconds)
    announce_lengths = [clip_frames(line) for line in announce]
    announce_frames = sum(announce_lengths) + announce_gap * (len(announce) - 1)
    # A step never ends before its announcement and its chime have room.
    chime_room = chime_frames + settings.frames(settings.chime_gap_seconds)
    base_frames = max(settings.frames(seconds), announce_frames + gap + chime_room)
    inserts = [i for i in settings.inserts if i.step_id == step.id]
    # An inserted line (a repeat) is said within the step: its clock keeps running, as the
    # hands keep working while the words play. The step grows only if the line would not
    # fit before the chime.
    frames = max(
        [base_frames] + [i.offset_frames + clip_frames(i.text) + gap + chime_room for i in inserts]
    )
    end = start + frames

    # The announcement comes first, at the step's start, its lines one after the other.
    placed: list[Cue] = []
    at = start
    for line, length in zip(announce, announce_lengths, strict=True):
        placed.append(Cue("announce", step.id, line, at, at + length))
        at += length + announce_gap
    wanted: list[tuple[float, int, str, Line]] = []
    chime_at = end - chime_frames - settings.frames(settings.chime_gap_seconds)
    wanted.append((1, chime_at, "chime", ""))
    if seconds >= ONE_MINUTE_MIN_SECONDS:
        wanted.append((2, end - settings.frames(60), "one-minute", one_minute_line(routine)))
    if seconds >= HALFWAY_MIN_SECONDS:
        wanted.append((3, start + base_frames // 2, "halfway", halfway_line(routine)))
    for cue in step.cues:
        offset = settings.frames(cue.at_seconds)
        at = start + offset if offset >= 0 else end + offset
        wanted.append((_PRIORITY[cue.kind], at, cue.kind, fill_line(cue.text, settings.first_side)))
    for insert in inserts:
        wanted.append((_PRIORITY["repeat"], start + insert.offset_frames, "repeat", insert.text))
    wanted.sort(key=lambda w: (w[0], w[1]))

    dropped: list[DroppedCue] = []
    for _, at, kind, cue_text in wanted:
        length = chime_frames if kind == "chime" else clip_frames(cue_text)
        frame = _first_free(placed, max(at, start), length, gap)
        if kind == "chime" and frame != at:
            frame = -1  # the chime marks the end; it cannot move later
        if frame < 0 or frame + length > end:
            dropped.append(DroppedCue(kind, step.id, cue_text, at))
            continue
        placed.append(Cue(kind, step.id, cue_text, frame, frame + length))
    placed.sort(key=lambda c: c.start_frame)
    return placed, dropped, end


def _first_free(placed: list[Cue], frame: int, length: int, gap: int) -> int:
    """Earliest frame >= `frame` where [frame, frame+length) keeps `gap` from every placed cue."""
    moved = True
    while moved:
        moved = False
        for cue in placed:
            if frame < cue.end_frame + gap and cue.start_frame - gap < frame + length:
                frame = cue.end_frame + gap
                moved = True
    return frame


def _music_spans(
    routine: Routine, steps: list[PlannedStep], cues: list[Cue], settings: PlanSettings
) -> tuple[MusicSpan, ...]:
    ranges: list[tuple[int, int]] = []
    if routine.intro_music and steps:
        intro_cues = [c for c in cues if c.kind == "intro"]
        if intro_cues:
            ranges.append((0, steps[0].start_frame))
    for step in steps:
        if not step.music:
            continue
        if ranges and ranges[-1][1] == step.start_frame:
            ranges[-1] = (ranges[-1][0], step.end_frame)
        else:
            ranges.append((step.start_frame, step.end_frame))
    spans = []
    music_frame = 0
    for start, end in ranges:
        spans.append(MusicSpan(start, end, music_frame))
        music_frame += end - start
    return tuple(spans)


def _duck_spans(cues: list[Cue], settings: PlanSettings) -> tuple[DuckSpan, ...]:
    attack = settings.frames(settings.duck_attack_seconds)
    hold = settings.frames(settings.duck_hold_seconds)
    release = settings.frames(settings.duck_release_seconds)
    spans: list[DuckSpan] = []
    for cue in sorted((c for c in cues if c.spoken), key=lambda c: c.start_frame):
        span = DuckSpan(
            max(0, cue.start_frame - attack),
            cue.start_frame,
            cue.end_frame + hold,
            cue.end_frame + hold + release,
        )
        if spans and span.down_frame <= spans[-1].up_frame:
            last = spans[-1]
            spans[-1] = DuckSpan(last.down_frame, last.low_frame, span.release_frame, span.up_frame)
        else:
            spans.append(span)
    return tuple(spans)
