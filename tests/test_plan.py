"""The plan as data: exact frames, no overlaps, priorities, music spans and ducking."""

from __future__ import annotations

from itertools import pairwise

import pytest

from voiceguide.mix.plan import (
    HALFWAY_TEXT,
    ONE_MINUTE_TEXT,
    PlanSettings,
    build_plan,
    step_texts,
)
from voiceguide.routine.durations import spoken_length
from voiceguide.routine.load import load_builtin, parse_routine

RATE = 44_100
CHIME = 50_000
END_CHIME = 100_000


def fake_clip_frames(text: str) -> int:
    """A stand-in length: 60 ms a character (roughly 150 words a minute)."""
    return len(text) * 2_646


def pumping_plan(**settings: object):
    routine = load_builtin("hands-on-pumping")
    return build_plan(routine, PlanSettings(**settings), fake_clip_frames, CHIME, END_CHIME)


def test_steps_are_contiguous_with_default_durations() -> None:
    plan = pumping_plan()
    for a, b in pairwise(plan.steps):
        assert a.end_frame == b.start_frame
    lengths = [(s.end_frame - s.start_frame) / RATE for s in plan.steps]
    assert lengths == [120, 360, 120, 240, 240, 120]


def test_announcement_at_each_step_start_with_number() -> None:
    plan = pumping_plan()
    announcements = [c for c in plan.cues if c.kind == "announce"]
    assert len(announcements) == 6
    for index, (cue, step) in enumerate(zip(announcements, plan.steps, strict=True), start=1):
        assert cue.start_frame == step.start_frame
        assert cue.text.startswith(f"Step {index} of 6. ")


def test_halfway_only_on_steps_of_4_minutes_or_more() -> None:
    plan = pumping_plan()
    halfway = {c.step_id: c for c in plan.cues if c.kind == "halfway"}
    assert set(halfway) == {"pump", "pump-massage-first", "pump-massage-second"}
    pump = next(s for s in plan.steps if s.id == "pump")
    assert halfway["pump"].start_frame == pump.start_frame + 180 * RATE
    assert halfway["pump"].text == HALFWAY_TEXT


def test_one_minute_left_on_steps_of_2_minutes_or_more() -> None:
    plan = pumping_plan()
    one_minute = {c.step_id: c for c in plan.cues if c.kind == "one-minute"}
    assert set(one_minute) == {s.id for s in plan.steps}
    for step in plan.steps:
        assert one_minute[step.id].start_frame == step.end_frame - 60 * RATE
        assert one_minute[step.id].text == ONE_MINUTE_TEXT


def test_chime_ends_each_step() -> None:
    plan = pumping_plan()
    chimes = [c for c in plan.cues if c.kind == "chime"]
    assert len(chimes) == 6
    for chime, step in zip(chimes, plan.steps, strict=True):
        assert chime.step_id == step.id
        assert step.start_frame < chime.start_frame
        assert chime.end_frame <= step.end_frame
        assert step.end_frame - chime.end_frame < RATE


def test_no_two_cues_overlap() -> None:
    plan = pumping_plan(include_first_run=True)
    for a, b in pairwise(plan.cues):
        assert a.end_frame <= b.start_frame, (a, b)


def test_tips_only_in_pumping_steps_and_apart() -> None:
    plan = pumping_plan()
    tips = [c for c in plan.cues if c.kind == "tip"]
    assert len(tips) == 5
    music_steps = {s.id for s in plan.steps if s.music}
    assert {t.step_id for t in tips} <= music_steps
    for a, b in pairwise(tips):
        assert b.start_frame - a.end_frame >= 30 * RATE


def test_first_run_intro_only_when_asked() -> None:
    short = pumping_plan()
    full = pumping_plan(include_first_run=True)
    assert not any("not medical advice" in c.text for c in short.cues)
    assert any("not medical advice" in c.text for c in full.cues)
    assert full.steps[0].start_frame > short.steps[0].start_frame


def test_sides_fill_in() -> None:
    left = pumping_plan(first_side="left")
    right = pumping_plan(first_side="right")
    assert "left breast" in left.cues_for("pump-massage-first")[0].text
    assert "right breast" in right.cues_for("pump-massage-first")[0].text
    assert left.steps[3].title == "Pump while massaging the left breast"


def test_music_spans_and_continuity_offsets() -> None:
    plan = build_plan(load_builtin("demo"), PlanSettings(), fake_clip_frames, CHIME, END_CHIME)
    steps = {s.id: s for s in plan.steps}
    assert len(plan.music_spans) == 2
    first, second = plan.music_spans
    assert (first.start_frame, first.end_frame) == (
        steps["pump"].start_frame,
        steps["pump"].end_frame,
    )
    assert second.start_frame == steps["pump-massage-first"].start_frame
    assert second.end_frame == steps["pump-massage-second"].end_frame
    # The music continues where it stopped: the second span starts where the first ended.
    assert second.music_frame == first.end_frame - first.start_frame


def test_duck_covers_every_spoken_cue_with_ramps() -> None:
    plan = pumping_plan()
    for cue in (c for c in plan.cues if c.spoken):
        duck = next(d for d in plan.duck_spans if d.low_frame <= cue.start_frame < d.release_frame)
        assert duck.release_frame >= cue.end_frame
    for duck in plan.duck_spans:
        if duck.down_frame > 0:  # the session's first words start before any music
            assert duck.low_frame - duck.down_frame > 0.1 * RATE  # a ramp, not a click
        assert duck.up_frame - duck.release_frame > 0.1 * RATE
    assert plan.duck_db <= -10


def test_plan_is_deterministic() -> None:
    assert pumping_plan() == pumping_plan()


def test_total_length_includes_closing() -> None:
    plan = pumping_plan()
    end_chime = plan.cues[-1]
    assert end_chime.kind == "end-chime"
    assert plan.total_frames > end_chime.end_frame
    closing = [c for c in plan.cues if c.kind == "closing"]
    assert closing[-1].text == "You did 6 steps in 20 minutes."


def test_collisions_resolved_by_priority() -> None:
    """A tip wanted on top of the announcement moves after it; one that cannot fit is dropped."""
    text = """
format = 1
title = "Crowded"
[[steps]]
id = "crowded"
title = "Crowded"
say = "This announcement is long enough to collide with the tips below."
duration = "14s"
pumping = true
  [[steps.cues]]
  at = "1s"
  say = "I wanted to be at one second."
  [[steps.cues]]
  at = "2s"
  say = "So did I, and there is no room left for me after the first tip and before the chime."
"""
    routine = parse_routine(text, "crowded.toml", "crowded")
    plan = build_plan(routine, PlanSettings(), fake_clip_frames, CHIME, END_CHIME)
    gap = RATE  # cue_gap_seconds
    cues = plan.cues_for("crowded")
    announce, tip = cues[0], cues[1]
    assert announce.kind == "announce" and announce.start_frame == plan.steps[0].start_frame
    assert tip.kind == "tip" and tip.start_frame == announce.end_frame + gap
    assert [d.text for d in plan.dropped] == [routine.steps[0].cues[1].text]
    assert cues[-1].kind == "chime"
    # Same input, same decision.
    again = build_plan(routine, PlanSettings(), fake_clip_frames, CHIME, END_CHIME)
    assert again.cues == plan.cues and again.dropped == plan.dropped


def test_step_too_short_for_its_announcement_grows() -> None:
    text = """
format = 1
title = "Tiny"
[[steps]]
id = "tiny"
title = "Tiny"
say = "A long announcement that cannot possibly fit in the two seconds given to this step."
duration = "2s"
"""
    routine = parse_routine(text, "tiny.toml", "tiny")
    plan = build_plan(routine, PlanSettings(), fake_clip_frames, CHIME, END_CHIME)
    step = plan.steps[0]
    announce, chime = plan.cues_for("tiny")
    assert chime.start_frame >= announce.end_frame
    assert step.end_frame - step.start_frame > 2 * RATE


def test_step_texts_cover_every_spoken_cue_but_the_summary() -> None:
    routine = load_builtin("hands-on-pumping")
    settings = PlanSettings(include_first_run=True)
    texts = set(step_texts(routine, settings))
    plan = build_plan(routine, settings, fake_clip_frames, CHIME, END_CHIME)
    spoken = {c.text for c in plan.cues if c.spoken}
    assert spoken - texts == {"You did 6 steps in 21 minutes."}


def test_extended_step_moves_later_cues() -> None:
    base = pumping_plan()
    longer = pumping_plan(step_seconds={"pump": 420})
    assert longer.steps[1].end_frame - base.steps[1].end_frame == 60 * RATE
    assert longer.steps[2].start_frame - base.steps[2].start_frame == 60 * RATE
    assert longer.total_frames - base.total_frames == 60 * RATE


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(28.0, "30 seconds"), (61.0, "60 seconds"), (89.0, "90 seconds"), (95.0, "2 minutes"),
     (1282.0, "21 minutes")],
)  # fmt: skip
def test_the_closing_says_the_session_length_as_it_was(seconds: float, said: str) -> None:
    assert spoken_length(seconds) == said


def test_lookups_by_frame_agree_with_a_scan_of_the_whole_plan() -> None:
    """The bisections (what makes 10,000 steps cost what ten do) give what a linear scan of
    every step, cue and span gives, at every boundary and in between."""
    for plan in (pumping_plan(include_first_run=True), demo_plan()):
        edges = {0, plan.total_frames}
        for thing in (*plan.steps, *plan.cues, *plan.music_spans):
            edges |= {thing.start_frame, thing.end_frame}
        for duck in plan.duck_spans:
            edges |= {duck.down_frame, duck.low_frame, duck.release_frame, duck.up_frame}
        frames = sorted({f + d for f in edges for d in (-1, 0, 1) if f + d >= 0})
        frames += range(0, plan.total_frames, 16_411)
        for frame in frames:
            steps = [s for s in plan.steps if s.start_frame <= frame < s.end_frame]
            assert plan.step_at(frame) == (steps[0] if steps else None)
            cursor = 0
            for span in plan.music_spans:
                if frame <= span.start_frame:
                    break
                cursor = span.music_frame + min(frame, span.end_frame) - span.start_frame
            assert plan.music_cursor(frame) == cursor
            for n in (1, 441, 176_400):
                end = frame + n
                assert plan.cues_sounding(frame, end) == [
                    c for c in plan.cues if c.start_frame < end and c.end_frame > frame
                ]
                assert plan.cues_starting(frame, end) == tuple(
                    c for c in plan.cues if frame <= c.start_frame < end
                )
                assert plan.steps_touching(frame, end) == tuple(
                    s for s in plan.steps
                    if frame <= s.start_frame < end or frame <= s.end_frame < end
                    or s.start_frame <= frame < s.end_frame
                )  # fmt: skip
                assert [s for s in plan.music_spans_in(frame, end)
                        if s.end_frame > frame] == [
                    s for s in plan.music_spans if s.start_frame < end and s.end_frame > frame
                ]  # fmt: skip
                assert plan.duck_spans_in(frame, end) == tuple(
                    d for d in plan.duck_spans if d.up_frame > frame and d.down_frame < end
                )


def demo_plan():
    return build_plan(load_builtin("demo"), PlanSettings(), fake_clip_frames, CHIME, END_CHIME)
