"""The conductor and the live session without a sound server: a MemoryOutput paced by a fake
clock (the only thing faked) hears exactly what a device would read from the buffer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from voiceguide.clock import FakeClock
from voiceguide.config import Config
from voiceguide.live.conductor import Conductor
from voiceguide.live.events import Event, SessionListener
from voiceguide.live.keys import KEY_ACTIONS, dispatch_key
from voiceguide.live.session import LiveSession, first_run_marker
from voiceguide.mix.prepare import Session, SessionOptions, prepare_session
from voiceguide.output.memory import MemoryOutput
from voiceguide.paths import Paths
from voiceguide.speech.voice import Voice, VoiceSettings

from audio_helpers import find_clip
from slow_ffmpeg import slow_ffmpeg_path

RATE = 44_100
DATA = Path(__file__).parent / "data" / "routines"
STEP_SECONDS = 0.05


class Rig:
    """A conductor on a MemoryOutput whose time the test moves."""

    def __init__(self, session: Session) -> None:
        self.clock = FakeClock()
        self.output = MemoryOutput(self.clock)
        self.session = session
        self.conductor = Conductor(session, self.output)
        self.events: list[Event] = []

    def start(self) -> None:
        self.conductor.start()

    def play(self, seconds: float) -> None:
        """Let `seconds` of sound be heard, in small steps, each once the producer caught up."""
        player = self.conductor.player
        for _ in range(round(seconds / STEP_SECONDS)):
            self.clock.advance(STEP_SECONDS)
            deadline = time.monotonic() + 10
            while not player.finished and time.monotonic() < deadline:
                wanted = min(player.playhead_frame() + RATE, player.timeline.end_frame)
                if player.paused or player.buffered_until() >= wanted:
                    break
                time.sleep(0.002)
            self.events.extend(self.conductor.poll())

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def close(self) -> None:
        self.conductor.close()


@pytest.fixture
def rig() -> Iterator[Rig]:
    session = prepare_session(
        Config(), SessionOptions(routine=str(DATA / "live-edits.toml")),
        Paths.from_environment(), lambda m: None,
    )  # fmt: skip
    made = Rig(session)
    yield made
    made.close()
    session.close()


def step_starts(rig: Rig) -> list[tuple[str, int]]:
    return [(e.step.id, e.output_frame) for e in rig.events
            if e.kind == "step-started" and e.step is not None]  # fmt: skip


def test_controls_answer_while_the_music_decoder_is_still_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ffmpeg took 2.2 s for its first samples on a loaded machine. The producer renders 3 s
    # ahead, so it reaches the music (2 s in) at once: it must not wait for ffmpeg holding the
    # lock every control takes. Here ffmpeg starts 3 s late.
    monkeypatch.setenv("PATH", slow_ffmpeg_path(tmp_path / "bin", 3.0))
    session = prepare_session(
        Config(), SessionOptions(routine=str(DATA / "live-edits.toml")),
        Paths.from_environment(), lambda m: None,
    )  # fmt: skip
    assert session.music is not None
    session.music.close()  # the decoder prepare started: the slow one starts with the session
    rig = Rig(session)
    try:
        music_from = session.plan.music_spans[0].start_frame
        assert RATE < music_from < 3 * RATE
        rig.start()
        time.sleep(0.3)  # the producer's first round reaches the music
        called = time.monotonic()
        at = rig.conductor.tone_now()  # an acknowledgement, as a voice command gets
        assert time.monotonic() - called < 1.0
        assert at < RATE  # laid just ahead of the playhead, which is still near the start
        rig.play(5.0)
        heard = rig.output.heard()
        # Nothing lost while waiting: the tone, the speech and the music, as rendered.
        assert np.array_equal(heard, rig.conductor.timeline.render(0, len(heard)))
        assert np.abs(heard[music_from + RATE :].astype(np.int32)).max() > 1000
        assert rig.conductor.player.music_waits > 0  # the producer came back for the music
    finally:
        rig.close()
        session.close()


def test_back_plays_the_step_again_from_its_announcement(rig: Rig) -> None:
    rig.start()
    first = rig.session.plan.steps[0]
    rig.play(first.start_frame / RATE + 4.0)
    at = rig.conductor.back()
    assert at is not None
    rig.play(3.0)
    heard = rig.output.heard()
    # From the cut on, the step plays again from its start; the music flows on (not rewound).
    plan, plan_frame = rig.conductor.timeline.locate(at)
    assert plan_frame == first.start_frame
    expected = rig.conductor.timeline.render(at, 2 * RATE)
    assert np.array_equal(heard[at : at + 2 * RATE], expected)
    voice = Voice(VoiceSettings(), Paths.from_environment().voice_cache_dir)
    announce = next(c for c in plan.cues if c.kind == "announce" and c.step_id == first.id)
    clip = voice.clip(announce.text).astype(np.float64)
    found, score = find_clip(heard[:, 0].astype(np.float64), clip, at, RATE // 2)
    assert score > 0.9 and abs(found - at) <= RATE // 10
    assert rig.kinds().count("back") == 1
    assert [s for s, _ in step_starts(rig)] == [first.id, first.id]


def test_repeat_says_the_instructions_again_at_once(rig: Rig) -> None:
    rig.start()
    first = rig.session.plan.steps[0]
    rig.play(first.start_frame / RATE + 5.0)
    at = rig.conductor.repeat()
    assert at is not None
    rig.play(6.0)
    (event,) = [e for e in rig.events if e.kind == "repeat"]
    assert event.text.startswith("Again: Step 1 of ")
    voice = Voice(VoiceSettings(), Paths.from_environment().voice_cache_dir)
    clip = voice.clip(event.text).astype(np.float64)
    heard = rig.output.heard()[:, 0].astype(np.float64)
    found, score = find_clip(heard, clip, at, RATE // 2)
    assert score > 0.9 and at <= found <= at + RATE // 2
    # A repeat is no new visit of the step, and the step's clock keeps running: it ends
    # where it would have ended.
    assert [s for s, _ in step_starts(rig)] == [first.id]
    assert rig.session.plan.steps[0].end_frame == first.end_frame


def test_extend_is_no_new_step(rig: Rig) -> None:
    rig.start()
    first = rig.session.plan.steps[0]
    rig.play(first.start_frame / RATE + 2.0)
    before = first.end_frame - first.start_frame
    assert rig.conductor.extend(5) is not None
    rig.play(1.0)
    step = rig.session.plan.steps[0]
    assert step.end_frame - step.start_frame == before + 5 * RATE
    assert [s for s, _ in step_starts(rig)] == [first.id]


def test_next_just_after_a_step_began_belongs_to_the_step_before(rig: Rig) -> None:
    rig.start()
    second = rig.session.plan.steps[1]
    # 0.2 s after the second step was heard to start: the user meant the first one.
    rig.play(second.start_frame / RATE + 0.2)
    assert rig.conductor.next_step() is None
    # Just before the boundary the edit frame (0.3 s ahead) already lies in step 2:
    # `next` must not skip step 2 either.
    rig2_first = rig.session.plan.steps[0]
    assert rig2_first.end_frame == second.start_frame
    rig.play(2.0)
    assert rig.conductor.next_step() is not None  # well inside step 2: skips it
    rig.play(1.5)
    ids = [s for s, _ in step_starts(rig)]
    assert ids[:2] == ["a", "b"] and "b" not in ids[2:]


def test_next_as_a_step_ends_does_not_skip_the_next_step(rig: Rig) -> None:
    rig.start()
    boundary = rig.session.plan.steps[1].start_frame
    rig.play(boundary / RATE - 0.15)  # heard: the end of step 1; edit frame: inside step 2
    assert rig.conductor.next_step() is None
    rig.play(3.0)
    ids = [s for s, _ in step_starts(rig)]
    assert ids[:2] == ["a", "b"]
    assert rig.session.plan.steps[1].start_frame == boundary  # nothing was re-planned


class Collect(SessionListener):
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.outcome: str | None = None

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def on_end(self, outcome: str) -> None:
        self.outcome = outcome


def run_live(
    session: LiveSession,
    clock: FakeClock,
    until: str,
    keys: str = "",
    at_seconds: dict[float, str] | None = None,
    occurrence: int = 1,
) -> Collect:
    """Run `session` on a thread, moving the fake clock until an event of kind `until`.

    `keys` are pressed when that event comes; `at_seconds` presses keys at session times.
    """
    collect = Collect()
    session.subscribe(collect)
    thread = threading.Thread(target=session.run)
    thread.start()
    player = session.conductor.player
    schedule = sorted((at_seconds or {}).items())
    deadline = time.monotonic() + 120
    while thread.is_alive() and time.monotonic() < deadline:
        while schedule and player.playhead_frame() >= schedule[0][0] * RATE:
            dispatch_key(session, schedule.pop(0)[1])
        if sum(e.kind == until for e in collect.events) >= occurrence:
            for key in keys:
                dispatch_key(session, key)
            keys = ""
            if until != "finished":
                session.request_stop()
        wanted = min(player.playhead_frame() + RATE, player.timeline.end_frame)
        if player.paused or player.finished or player.buffered_until() >= wanted:
            clock.advance(STEP_SECONDS)
        time.sleep(0.002)
    thread.join(10)
    assert not thread.is_alive()
    return collect


def live(routine: str, clock: FakeClock, explain: bool = False) -> LiveSession:
    return LiveSession.prepare(
        Config(), SessionOptions(routine=routine), Paths.from_environment(), clock,
        MemoryOutput(clock), lambda m: None, explain=explain,
    )  # fmt: skip


def intro_texts(session: LiveSession) -> list[str]:
    return [c.text for c in session.session.plan.cues if c.kind == "intro"]


SAFETY = "not medical advice"


def test_the_first_run_intro_is_heard_once_per_routine_and_on_explain() -> None:
    clock = FakeClock()
    first = live("hands-on-pumping", clock)
    assert any(SAFETY in t for t in intro_texts(first))
    first.close()
    # The demo has its own first run: playing it never uses up the real routine's.
    demo = live("demo", clock)
    run_live(demo, clock, until="step-started")
    demo.close()
    assert first_run_marker(Paths.from_environment(), "demo").exists()
    again = live("hands-on-pumping", clock)
    assert any(SAFETY in t for t in intro_texts(again))
    run_live(again, clock, until="step-started")
    again.close()
    later = live("hands-on-pumping", clock)
    assert not any(SAFETY in t for t in intro_texts(later))
    later.close()
    explained = live("hands-on-pumping", clock, explain=True)
    assert any(SAFETY in t for t in intro_texts(explained))
    explained.close()


def test_keys_act_on_the_live_session() -> None:
    clock = FakeClock()
    session = live("demo", clock)
    # n two seconds into step 1 (not within the grace after its start): step 2 comes at once.
    first = session.session.plan.steps[0].start_frame / RATE
    collect = run_live(
        session, clock, until="step-started", at_seconds={first + 2: "n"}, occurrence=2
    )
    session.close()
    kinds = [e.kind for e in collect.events]
    assert "next" in kinds and collect.outcome == "stopped"


def test_every_key_names_a_control_of_the_session() -> None:
    for key, control in KEY_ACTIONS.items():
        assert callable(getattr(LiveSession, control)), key
    assert dispatch_key(object(), "x") is None  # type: ignore[arg-type]


def test_steps_are_counted_once_however_often_they_were_visited(tmp_path: Path) -> None:
    from voiceguide.logbook import LogStore

    clock = FakeClock()
    session = live(str(DATA / "live-edits.toml"), clock)
    starts = {s.id: s.start_frame / RATE for s in session.session.plan.steps}
    # r, +, b in step a; n in step b; then to the end.
    keys = {starts["a"] + 3: "r", starts["a"] + 6: "+", starts["a"] + 9: "b",
            starts["a"] + 14: "n"}  # fmt: skip
    collect = run_live(session, clock, until="finished", at_seconds=keys)
    session.close()
    assert collect.outcome == "finished"
    assert {"repeat", "extended", "back", "next"} <= {e.kind for e in collect.events}
    assert session.steps_done == session.step_count == 3
    with LogStore(Paths.from_environment().log_db) as store:
        (logged,) = store.sessions()
    assert logged.steps == ("a", "b", "c") and logged.finished


def test_a_routine_without_intro_logs_each_step_once_and_only_pumping_time(
    tmp_path: Path,
) -> None:
    from voiceguide.logbook import LogStore

    routine = tmp_path / "s.toml"
    routine.write_text(
        'format = 1\ntitle = "Short"\n'
        '[[steps]]\nid = "a"\ntitle = "A"\nsay = "Pump now."\nduration = 5\npumping = true\n'
        '[[steps]]\nid = "b"\ntitle = "B"\nsay = "Again."\nduration = 5\npumping = true\n'
    )
    clock = FakeClock()
    session = LiveSession.prepare(
        Config(), SessionOptions(routine=str(routine), no_music=True), Paths.from_environment(),
        clock, MemoryOutput(clock), lambda m: None,
    )  # fmt: skip
    collect = run_live(session, clock, until="finished")
    session.close()
    assert collect.outcome == "finished"
    started = [e.step.id for e in collect.events if e.kind == "step-started" and e.step]
    assert started == ["a", "b"]
    with LogStore(Paths.from_environment().log_db) as store:
        (logged,) = store.sessions()
    assert logged.steps == ("a", "b")
    # Pumping time is the two steps, not the closing speech after the last one.
    steps = session.session.plan.steps
    assert logged.pumping_seconds == pytest.approx(
        sum(s.end_frame - s.start_frame for s in steps) / RATE, abs=0.01
    )


def logged() -> list:
    from voiceguide.logbook import LogStore

    with LogStore(Paths.from_environment().log_db) as store:
        return store.sessions()


def test_what_counts_in_the_log() -> None:
    from voiceguide.logbook import LogStore

    clock = FakeClock()
    # A demo, played to the end: logged, never counted, no amounts asked, no "Nth session".
    demo = live("demo", clock)
    assert demo.closing_sentence == ""
    collect = run_live(demo, clock, until="finished")
    demo.close()
    assert collect.outcome == "finished" and not demo.asks_amounts
    # A real session stopped in its first (massage) step: kept, marked, not counted.
    early = live("hands-on-pumping", clock)
    run_live(early, clock, until="step-started")
    early.close()
    assert not early.asks_amounts
    (shown_demo, shown_early) = logged()
    assert (shown_demo.routine, shown_demo.counted, shown_demo.finished) == ("demo", False, True)
    assert not shown_early.counted and shown_early.status == "stopped at massage (not counted)"
    # Neither moved the side alternation, so the next real session starts left, says it is
    # the 1st session, and once it reached pumping it counts (and asks for the amounts).
    with LogStore(Paths.from_environment().log_db) as store:
        assert store.next_first_side() == "left"
    real = live("hands-on-pumping", clock)
    assert real.first_side == "left"
    assert real.closing_sentence.startswith("That was your 1st session in the last 24 hours.")
    massage = real.session.plan.steps[0].start_frame / RATE
    # Skip the massage: pumping begins; stop there.
    run_live(real, clock, until="step-started", at_seconds={massage + 2: "n"}, occurrence=2)
    real.close()
    *_, counted = logged()
    assert counted.counted and real.asks_amounts
    with LogStore(Paths.from_environment().log_db) as store:
        assert store.next_first_side() == "right"


def test_acknowledgements_are_laid_over_the_sound_at_once(rig: Rig) -> None:
    from voiceguide.live.conductor import ACK_TONE

    rig.start()
    rig.play(rig.session.plan.steps[0].start_frame / RATE + 3.0)
    tone_at = rig.conductor.tone_now()
    rig.play(1.0)
    said_at = rig.conductor.say_now("One more minute.")
    rig.play(3.0)
    heard = rig.output.heard().astype(np.int32)
    plain = rig.conductor.timeline.segments[0].renderer.render  # the sound without overlays
    under = plain(tone_at, len(ACK_TONE)).astype(np.int32)
    assert np.array_equal(heard[tone_at : tone_at + len(ACK_TONE)], under + ACK_TONE)
    voice = Voice(VoiceSettings(), Paths.from_environment().voice_cache_dir)
    clip = voice.clip("One more minute.").astype(np.int32)[:, None]
    expected = np.clip(plain(said_at, len(clip)).astype(np.int32) + clip, -32768, 32767)
    assert np.array_equal(heard[said_at : said_at + len(clip)], expected)
    assert rig.conductor.timeline.end_frame == rig.session.plan.total_frames  # nothing moved
