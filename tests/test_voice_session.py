"""Voice commands end to end: `voiceguide start --listen` on the rig, test talkers in the room.

The rig (soundserver.rig_server): the session plays into "speaker", a 40 ms loopback carries it
into "room" (the echo), and the microphone is room's monitor. Talkers (espeak-ng variants,
never the program's own voice) play into "room" at the level of the program's sound (0 dB
speech-to-echo), at times taken from the session's own lines. What the speaker played is
recorded with parec and searched for each command's effect; the pumping log is read back.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from voice_session_helpers import (
    LiveCli,
    Room,
    Talk,
    find_sound,
    pulse_env,
    silent_spans,
    wait_for_speech_end,
)

import voiceguide
from voiceguide.live.conductor import ACK_TONE
from voiceguide.logbook import LogStore
from voiceguide.paths import Paths
from voiceguide.speech.voice import Voice, VoiceSettings, read_wav_mono

from audio_helpers import read_wav
from cli_helpers import run_cli
from listen_helpers import rms
from soundserver import RATE, Recorder, Recording

pytestmark = pytest.mark.sound

ACT_SECONDS = 3.0
"""From the end of a command's words to its effect in the speaker's sound: the voice
detector's hang-over, decoding, the 0.3 s edit margin. Measured in 5 runs at load average
7-10: next 0.96-1.27 s, pause 0.88-0.93 s, resume 0.53-0.78 s, stop 0.91-1.19 s."""
TONE_SCORE = 0.35
"""Normalised match of the acknowledgement tone over the program's sound: 0.53-0.76 where it
plays (5 runs), 0.14 where it does not (after a pause)."""
CLIP_SCORE = 0.9
"""Normalised match of one of the program's clips where it plays (0.99 and more measured)."""
DIALOGUE = (
    "How much on the left? Say a number of millilitres, or skip.",
    "Left, one hundred and twenty millilitres. Say yes or no.",
    "Saved.",
    "How much on the right? Say a number of millilitres, or skip.",
    "Right, one hundred and fifty millilitres. Say yes or no.",
    "No amount for the right side.",
)
"""What the spoken-amounts test expects to hear after its session."""


@dataclass(frozen=True)
class Demo:
    """The demo rendered once: its plan, its level, and a voice cache with every clip."""

    plan: dict
    level_rms: float
    cache: Path

    def announcement(self, step_id: str) -> str:
        step = next(s for s in self.plan["steps"] if s["id"] == step_id)
        return next(
            c["text"]
            for c in self.plan["cues"]
            if c["kind"] == "announce" and c["start_frame"] == step["start_frame"]
        )

    def step_seconds(self, step_id: str) -> float:
        step = next(s for s in self.plan["steps"] if s["id"] == step_id)
        return (step["end_frame"] - step["start_frame"]) / RATE

    def home(self, folder: Path) -> Path:
        """A fresh VOICEGUIDE_HOME with the voice cache filled (no synthesis at start)."""
        home = folder / "home"
        shutil.copytree(self.cache, home / "cache")
        return home


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    folder = tmp_path_factory.mktemp("demo")
    home = folder / "home"
    wav, cues = folder / "demo.wav", folder / "demo.json"
    done = run_cli(
        "render", "--routine", "demo", "-o", str(wav), "--cues-json", str(cues),
        env={"VOICEGUIDE_HOME": str(home)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # The dialogue's sentences too, so the session says them without a synthesis pause.
    sayings = folder / "sayings.toml"
    sayings.write_text(
        'format = 1\ntitle = "Sayings"\n[[steps]]\nid = "s"\ntitle = "S"\nsay = "Ready."\n'
        f'duration = "{8 * len(DIALOGUE)}s"\n'
        + "".join(
            f'[[steps.cues]]\nat = "{8 * i + 2}s"\nsay = {json.dumps(text)}\n'
            for i, text in enumerate(DIALOGUE)
        )
    )
    done = run_cli(
        "render", "--routine", str(sayings), "--no-music", "-o", str(folder / "sayings.wav"),
        env={"VOICEGUIDE_HOME": str(home)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    samples, _ = read_wav(wav)
    return Demo(json.loads(cues.read_text()), rms(samples.mean(axis=1)), home / "cache")


def program_clip(home: Path, text: str) -> np.ndarray:
    """The program's own clip for `text` as the session played it (int16 scale, mono)."""
    cache = Paths.from_environment({"VOICEGUIDE_HOME": str(home)}).voice_cache_dir
    clip, _ = read_wav_mono(Voice(VoiceSettings(), cache).cache_path(text))
    return clip * 32768


TONE = ACK_TONE.mean(axis=1).astype(np.float64)


def debug_audio(folder: Path) -> list[str]:
    """--debug-audio into FOLDER/debug: what the listener made of each utterance, kept for a
    failure's message (it changes nothing else)."""
    return ["--debug-audio", str(folder / "debug")]


LATENCY_RECORD = "VOICEGUIDE_LATENCY_RECORD"
"""A file to which each command's measured latency is added, as a JSON line (for
bench/voice_latency.py); unset, nothing is written."""


def room_recorder(rig) -> contextlib.AbstractContextManager[Recording | None]:
    """A recording of room's monitor (where each talker's words really ended) when the
    benchmark asks for latencies, else nothing."""
    if os.environ.get(LATENCY_RECORD):
        return Recorder(rig, "room.monitor")
    return contextlib.nullcontext()


def record_latency(
    command: str, talk: Talk, effect_frame: int, speaker: Recording, room: Recording | None
) -> None:
    """Note the latency of `command` for the benchmark: from the end of the talker's words,
    as found in the room's recording, to the effect's frame in the speaker's recording."""
    target = os.environ.get(LATENCY_RECORD)
    if not target or room is None:
        return
    words_end = Room.heard_end(talk, room)
    if words_end is None:
        return
    seconds = speaker.time_of(effect_frame) - words_end
    with open(target, "a", encoding="utf-8") as out:
        late = words_end - talk.words_end  # paplay's start-up, as heard
        record = {"command": command, "seconds": round(seconds, 4), "talk_late": round(late, 4)}
        out.write(json.dumps(record) + "\n")


def wait_until(when: float) -> None:
    time.sleep(max(0.0, when - time.monotonic()))


@contextmanager
def kept_on_failure(heard: np.ndarray, folder: Path, cli: LiveCli) -> Iterator[None]:
    """A failed check keeps the speaker's recording and says what the session printed and
    what the listener made of each utterance (--debug-audio's heard.txt)."""
    try:
        yield
    except AssertionError as err:
        notes = folder / "debug" / "heard.txt"
        if notes.is_file():
            err.add_note(f"the listener heard:\n{notes.read_text()}")
        kept = folder / "speaker.wav"
        with wave.open(str(kept), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(heard.astype("<i2").tobytes())
        err.add_note(f"the speaker's recording is kept in {kept}")
        err.add_note(f"the session printed:\n{cli.transcript()}")
        raise


def test_commands_said_over_the_demo_act_and_are_heard(rig, demo: Demo, tmp_path: Path) -> None:
    home = demo.home(tmp_path)
    env = pulse_env(rig.env, home)
    room = Room(tmp_path, demo.level_rms, env)
    next_ = room.prepare("voice guide next step", "en-us+f2")
    pause = room.prepare("voice guide pause", "en-us+klatt")
    resume = room.prepare("voice guide resume", "en-gb+f4")
    with Recorder(rig, "speaker.monitor") as recording, room_recorder(rig) as room_heard:
        cli = LiveCli(["--routine", "demo", "--listen", *debug_audio(tmp_path)], env)
        try:
            # Over the music of step 2 after its tip; over step 4's music after its words.
            step2 = cli.wait_for("step 2:", 60)
            wait_until(step2 + 9.5)
            room.say(next_)
            wait_until(cli.wait_for("step 4:", 40) + 6.0)
            room.say(pause)
            wait_until(cli.wait_for("] paused", 20) + 3.0)
            room.say(resume)
            code = cli.end(120)
        finally:
            cli.kill()
            room.wait()
    heard = recording.frames()
    ends = {talk: recording.frame_at(talk.words_end) for talk in room.talks}
    act = int(ACT_SECONDS * RATE)
    with kept_on_failure(heard, tmp_path, cli):
        assert code == 0
        assert "Done: 6 of 6 steps" in cli.transcript()
        assert cli.heard() == ["next", "pause", "resume"]

        # next: step 3's announcement (and the tone over it) right after the words, long
        # before step 2's planned end.
        step2_at, score = find_sound(
            heard, program_clip(home, demo.announcement("pump")), recording.frame_at(step2), RATE
        )
        assert score > CLIP_SCORE, score
        step3_at, score = find_sound(
            heard,
            program_clip(home, demo.announcement("massage-again")),
            ends[next_] + act // 2,
            act // 2 + RATE // 2,
        )
        assert score > CLIP_SCORE, ("step 3's announcement is not near the 'next'", score)
        assert 0 < step3_at - ends[next_] <= act, (step3_at - ends[next_]) / RATE
        record_latency("next", next_, step3_at, recording, room_heard)
        assert (step3_at - step2_at) / RATE <= demo.step_seconds("pump") - 2.0
        tone_at, score = find_sound(heard, TONE, step3_at, RATE // 10)
        assert score >= TONE_SCORE and abs(tone_at - step3_at) <= RATE // 20, score

        # pause: silence (written zeros) from just after the words until the resume's words.
        spans = [
            (a, b) for a, b in silent_spans(heard, 1.0) if ends[pause] < a <= ends[pause] + act
        ]
        assert len(spans) == 1, ("no pause after the words", (ends[pause] / RATE))
        silent_from, silent_to = spans[0]
        record_latency("pause", pause, silent_from, recording, room_heard)
        # resume: the sound is back right after the words, with the tone.
        assert ends[resume] < silent_to <= ends[resume] + act, (silent_to - ends[resume]) / RATE
        record_latency("resume", resume, silent_to, recording, room_heard)
        tone_at, score = find_sound(heard, TONE, silent_to + RATE // 4, RATE // 2)
        assert score >= TONE_SCORE, score


def test_spoken_amounts_save_what_was_confirmed_and_nothing_on_no(
    rig, demo: Demo, tmp_path: Path
) -> None:
    home = demo.home(tmp_path)
    env = pulse_env(rig.env, home)
    # The demo never counts (and asks nothing); the same routine that counts does.
    text = (Path(voiceguide.__file__).parent / "routine" / "builtin" / "demo.toml").read_text()
    counting = tmp_path / "counting.toml"
    counting.write_text(text.replace("counts = false", "counts = true"))
    room = Room(tmp_path, demo.level_rms, env)
    stop = room.prepare("voice guide stop session", "en-us+f2")
    left = room.prepare("one hundred and twenty", "en-us+klatt")
    yes = room.prepare("yes", "en-gb+f4")
    right = room.prepare("one hundred and fifty", "en+m3")
    no = room.prepare("no", "en-us+f2")
    dialogue = [program_clip(home, sentence) for sentence in DIALOGUE]
    with Recorder(rig, "speaker.monitor") as recording, room_recorder(rig) as room_heard:
        cli = LiveCli(
            [
                "--routine",
                str(counting),
                "--listen",
                "--first-side",
                "left",
                *debug_audio(tmp_path),
            ],
            env,
        )
        try:
            # Stopped while pumping: the session counts, and the amounts are asked.
            wait_until(cli.wait_for("step 2:", 60) + 9.5)
            room.say(stop)
            cli.wait_for("Stopped:", 20)
            said = []
            for answer in (left, yes, right, no):
                after = recording.frame_at(time.monotonic())
                said.append(wait_for_speech_end(recording, after, 20))
                room.say(answer)
            code = cli.end(60)
        finally:
            cli.kill()
            room.wait()
    heard = recording.frames()
    with kept_on_failure(heard, tmp_path, cli):
        assert code == 130
        assert cli.heard() == ["stop"]
        # The sound stopped right after the words, and the first question followed.
        end = recording.frame_at(stop.words_end)
        act = int(ACT_SECONDS * RATE)
        spans = [(a, b) for a, b in silent_spans(heard, 0.1) if end < a <= end + act]
        assert spans, ("the sound did not stop after 'stop'", end / RATE)
        record_latency("stop", stop, spans[0][0], recording, room_heard)
        _, score = find_sound(heard, dialogue[0], spans[0][1], RATE // 2)
        assert score > CLIP_SCORE, ("no question after the stop", score)
        # Each question and read-back was said, in order, just before the talker answered.
        asked = [0, 1, 3, 4]  # DIALOGUE's questions and read-backs
        for (_, last), index in zip(said, asked, strict=True):
            clip = dialogue[index]
            _, score = find_sound(heard, clip, last - len(clip), RATE // 2)
            assert score > CLIP_SCORE, (DIALOGUE[index], score)
    with LogStore(Paths.from_environment(env).log_db) as store:
        (logged,) = store.sessions()
    assert logged.finished is False and logged.stopped_at_step == "pump"
    assert logged.left_ml == 120 and logged.right_ml is None


def test_program_sound_alone_is_never_a_command(rig, demo: Demo, tmp_path: Path) -> None:
    home = demo.home(tmp_path)
    env = pulse_env(rig.env, home)
    with Recorder(rig, "speaker.monitor") as recording:
        cli = LiveCli(["--routine", "demo", "--listen", *debug_audio(tmp_path)], env)
        try:
            code = cli.end(150)
        finally:
            cli.kill()
    heard = recording.frames()
    with kept_on_failure(heard, tmp_path, cli):
        assert code == 0
        assert "Done: 6 of 6 steps" in cli.transcript()
        assert cli.heard() == []
        assert not [line for line in cli.stderr if "listen" in line], cli.stderr
        # Not a deaf listener: the microphone had the program's sound at its level.
        mic, _ = read_wav(tmp_path / "debug" / "mic.wav")
        assert rms(mic) > demo.level_rms / 4, (rms(mic), demo.level_rms)
        # And the whole demo played: its last step's announcement is in the recording.
        clip = program_clip(home, demo.announcement("hand-express"))
        _, score = find_sound(heard, clip, len(heard) // 2, len(heard) // 2)
        assert score > CLIP_SCORE, score


def test_no_input_source_is_one_warning_and_the_session_completes(rig, tmp_path: Path) -> None:
    env = pulse_env(rig.env, tmp_path / "home")
    routine = tmp_path / "short.toml"
    routine.write_text(
        'format = 1\ntitle = "Short"\n'
        '[[steps]]\nid = "one"\ntitle = "One"\nsay = "Breathe."\nduration = "3s"\n'
    )
    cli = LiveCli(
        ["--routine", str(routine), "--no-music", "--listen", "--input", "no-such-mic"], env
    )
    try:
        code = cli.end(60)
    finally:
        cli.kill()
    assert code == 0, cli.transcript()
    warnings = [line for line in cli.stderr if "listening" in line]
    assert len(warnings) == 1, cli.stderr
    assert warnings[0].startswith("warning: listening is off: no input named 'no-such-mic'")
    assert warnings[0].count("listening is off") == 1 and warnings[0].endswith("keys still work")
    assert "Done: 1 of 1 steps" in cli.transcript()
    assert cli.heard() == []
    with LogStore(Paths.from_environment(env).log_db) as store:
        (logged,) = store.sessions()
    assert logged.finished
