"""Position arithmetic of the live path, with a fake clock (the only thing faked)."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.clock import FakeClock
from voiceguide.config import Config
from voiceguide.live.keys import split_keys
from voiceguide.mix.plan import PlanSettings
from voiceguide.mix.prepare import Session, SessionOptions, prepare_session
from voiceguide.mix.timeline import CUT_FADE_FRAMES, Timeline
from voiceguide.output.simpleaudio import Playhead
from voiceguide.paths import Paths

RATE = 44_100


def test_playhead_follows_the_clock_from_its_start_frame() -> None:
    clock = FakeClock()
    playhead = Playhead(clock)
    assert playhead.frame() == 0 and not playhead.running
    playhead.start(1000)
    clock.advance(2.5)
    assert playhead.frame() == 1000 + int(2.5 * RATE)
    stopped = playhead.stop()
    clock.advance(10)
    assert playhead.frame() == stopped  # paused: the playhead rests
    playhead.start(stopped)
    clock.advance(0.5)
    assert playhead.frame() == stopped + RATE // 2


@pytest.fixture
def session() -> Session:
    s = prepare_session(Config(), SessionOptions(routine="demo"), Paths.from_environment(),
                        lambda m: None)  # fmt: skip
    yield s
    s.close()


def test_timeline_without_cuts_is_the_plan(session: Session) -> None:
    timeline = Timeline(session.renderer)
    assert timeline.end_frame == session.plan.total_frames
    plan, frame = timeline.locate(12345)
    assert plan is session.plan and frame == 12345


def test_cut_maps_later_frames_and_keeps_the_music_flowing(session: Session) -> None:
    plan = session.plan
    pump, massage_again = plan.steps[1], plan.steps[2]
    timeline = Timeline(session.renderer)
    at = pump.start_frame + 5 * RATE  # 5 s into the music
    timeline.cut(at, session.renderer, massage_again.start_frame)
    assert timeline.locate(at + 10)[1] == massage_again.start_frame + 10
    assert timeline.end_frame == plan.total_frames - (massage_again.start_frame - at)
    # Where the music stood at the cut is where it goes on from in the next music span.
    segment = timeline.segments[-1]
    next_span = plan.music_spans[1]
    resumed_at = segment.music_shift + next_span.music_frame
    assert resumed_at == 5 * RATE


def test_cut_crossfades_and_then_plays_the_new_position(session: Session) -> None:
    plan = session.plan
    timeline = Timeline(session.renderer)
    at = plan.steps[1].start_frame + 2 * RATE
    target = plan.steps[3].start_frame
    timeline.cut(at, session.renderer, target)
    rendered = timeline.render(at - 100, CUT_FADE_FRAMES + 2 * RATE)
    direct = session.renderer.render(target + CUT_FADE_FRAMES, 2 * RATE - 100,
                                     timeline.segments[-1].music_shift)  # fmt: skip
    assert np.array_equal(rendered[100 + CUT_FADE_FRAMES :], direct)


def test_events_after_a_cut_come_from_the_new_position(session: Session) -> None:
    plan = session.plan
    timeline = Timeline(session.renderer)
    at = plan.steps[0].start_frame + RATE
    timeline.cut(at, session.renderer, plan.steps[2].start_frame)
    events = list(timeline.events_between(0, at + 2 * RATE))
    steps = [e.step.id for e in events if e.kind == "step" and e.step]
    assert steps == ["massage", "massage-again"]
    cut_step = next(e for e in events if e.step and e.step.id == "massage-again")
    assert cut_step.output_frame == at


def test_extension_replan_keeps_the_past_and_moves_the_future(session: Session) -> None:
    before = session.plan
    settings = session.settings
    pump = before.steps[1]
    after = session.replan(PlanSettings(**{**settings.__dict__,
                                           "step_seconds": {pump.id: 26.0}}))  # fmt: skip
    assert after.steps[1].start_frame == pump.start_frame
    assert after.steps[1].end_frame == pump.end_frame + 10 * RATE
    assert [c for c in after.cues if c.end_frame <= pump.start_frame] == [
        c for c in before.cues if c.end_frame <= pump.start_frame
    ]


def test_keys_from_pedals_and_keyboards() -> None:
    assert split_keys("n") == ["n"]
    assert split_keys(" +") == [" ", "+"]
    assert split_keys("\x1b[6~\x1b[C\r") == ["pagedown", "right", "enter"]


def test_playhead_counts_frames_since_its_start() -> None:
    clock = FakeClock()
    playhead = Playhead(clock)
    assert playhead.frames_since_start() == 0
    playhead.start(5000)
    clock.advance(600)
    assert playhead.frames_since_start() == 600 * RATE
    playhead.stop()
    assert playhead.frames_since_start() == 0
