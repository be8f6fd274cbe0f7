"""The live session on a real sound server: what a listener hears, measured from the monitor."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import termios
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

import voiceguide
from voiceguide.config import Config
from voiceguide.live.conductor import Conductor
from voiceguide.live.player import PAUSE_FADE_FRAMES, RESUME_FADE_FRAMES
from voiceguide.logbook import LogStore
from voiceguide.mix.prepare import Session, SessionOptions, prepare_session
from voiceguide.output.simpleaudio import SimpleaudioSink
from voiceguide.paths import Paths
from voiceguide.speech.voice import Voice, VoiceSettings, read_wav_mono

from audio_helpers import find_clip, read_wav
from cli_helpers import run_cli
from slow_ffmpeg import slow_ffmpeg_path
from soundserver import RATE, PulseServer, Recorder, Recording

pytestmark = pytest.mark.sound
DATA = Path(__file__).parent / "data" / "routines"
MS5 = RATE * 5 // 1000


def align(
    recording: np.ndarray, reference: np.ndarray, ref_frame: int, guess: int, search: int = RATE
) -> int:
    """Offset (recording frame - reference frame) that lines up reference[ref_frame:] exactly."""
    template = reference[ref_frame : ref_frame + RATE // 2, 0].astype(np.float64)
    found, score = find_clip(
        recording[:, 0].astype(np.float64), template, ref_frame + guess, search
    )
    assert score > 0.99, score
    return found - ref_frame


def describe_difference(heard: np.ndarray, expected: np.ndarray, offset: int) -> str:
    """Where the recording (at `offset`) first departs from `expected`, and how it moved there.

    A dropout on the playing side inserts silence and delays the rest (nothing lost); frames
    lost show as the rest coming early.
    """
    n = min(len(expected), len(heard) - offset)
    differing = np.flatnonzero(np.any(heard[offset : offset + n] != expected[:n], axis=1))
    if not len(differing):
        return f"the recording ends {(len(expected) - n) / RATE:.3f} s early"
    first = int(differing[0])
    said = f"first difference at {first / RATE:.4f} s of the expected sound"
    # Find the expected sound from just after that point exactly, within 0.5 s.
    probe = first + RATE // 20
    template = expected[probe : probe + 1024]
    low = max(probe + offset - RATE // 2, 0)
    window = heard[low : probe + offset + RATE // 2 + len(template)]
    places = []
    if template.any():  # silence would be found anywhere
        for i in np.flatnonzero(window[:, 0] == template[0, 0]):
            if np.array_equal(window[i : i + len(template)], template):
                places.append(low + int(i) - probe - offset)
    if not places:
        return said + "; the sound after it is not found within 0.5 s"
    shift = min(places, key=abs)
    if shift > 0:
        inserted = heard[offset + first : offset + first + shift]
        silent = int(np.all(inserted == 0, axis=1).sum())
        return (
            said + f"; the rest comes {shift} frames ({shift / RATE * 1000:.1f} ms) late,"
            f" {silent} of the inserted frames digital silence"
        )
    return said + f"; the rest comes {-shift} frames ({-shift / RATE * 1000:.1f} ms) early"


@contextmanager
def diagnosed(pulse: PulseServer, log_from: int, heard: np.ndarray, folder: Path) -> Iterator[None]:
    """A failed check also says what the sound server logged, and keeps the recording."""
    try:
        yield
    except AssertionError as err:
        kept = folder / "heard.wav"
        with wave.open(str(kept), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(heard.astype("<i2").tobytes())
        underruns = pulse.underruns(since=log_from)
        err.add_note(f"recording kept in {kept}")
        err.add_note(
            f"the sound server logged {len(underruns)} underrun(s) of the live stream"
            + "".join(f"\n  {line}" for line in underruns[:5])
        )
        raise


def first_sound(frames: np.ndarray) -> int:
    return int(np.flatnonzero(np.abs(frames[:, 0].astype(np.int32)) > 20)[0])


def align_start(recording: np.ndarray, reference: np.ndarray) -> int:
    """Offset that lines up the reference's first sound with the recording's, exactly."""
    guess = first_sound(recording) - first_sound(reference)
    return align(recording, reference, first_sound(reference), guess, search=RATE // 10)


def zero_runs(frames: np.ndarray) -> int:
    """Longest run of digital silence (both channels exactly zero), in frames."""
    silent = np.all(frames == 0, axis=1).astype(np.int8)
    if not silent.any():
        return 0
    edges = np.diff(np.concatenate([[0], silent, [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max())


def live_edits_session() -> Session:
    """The short routine of the live tests, every clip made."""
    return prepare_session(
        Config(),
        SessionOptions(routine=str(DATA / "live-edits.toml")),
        Paths.from_environment(),
        lambda message: None,
    )


def test_start_demo_plays_every_cue_on_time_without_dropouts(pulse, tmp_path: Path) -> None:
    env = {**pulse.env, "VOICEGUIDE_HOME": str(tmp_path / "home")}
    wav, cues_json = tmp_path / "demo.wav", tmp_path / "demo.json"
    rendered = run_cli(
        "render", "--routine", "demo", "-o", str(wav), "--cues-json", str(cues_json), env=env
    )
    assert rendered.returncode == 0, rendered.stderr
    reference, _ = read_wav(wav)
    plan = json.loads(cues_json.read_text())
    log_from = pulse.log_size()
    with Recorder(pulse) as recording:
        result = run_cli("start", "--routine", "demo", env=env, timeout=200)
    assert result.returncode == 0, result.stderr
    assert "Done: 6 of 6 steps" in result.stdout
    heard = recording.frames()
    with diagnosed(pulse, log_from, heard, tmp_path):
        _check_demo_recording(heard, reference, plan, result.stdout, env)


def _check_demo_recording(
    heard: np.ndarray, reference: np.ndarray, plan: dict, stdout: str, env: dict[str, str]
) -> None:
    offset = align_start(heard, reference)

    # Every spoken cue, found by its own clip, at the planned distance from the first one.
    voice = Voice(VoiceSettings(), Paths.from_environment(env).voice_cache_dir)
    mono = heard.mean(axis=1)
    onsets = []
    for cue in (c for c in plan["cues"] if c["text"] and c["kind"] != "closing"):
        clip, _ = read_wav_mono(voice.cache_path(cue["text"]))
        found, score = find_clip(mono, clip * 32768, cue["start_frame"] + offset, RATE // 10)
        assert score > 0.8, (cue["text"], offset, found - offset - cue["start_frame"], score)
        onsets.append((cue["start_frame"], found))
    assert len(onsets) == 8  # the intro, six announcements and a tip
    for (plan_a, heard_a), (plan_b, heard_b) in pairwise(onsets):
        assert abs((heard_b - heard_a) - (plan_b - plan_a)) <= MS5

    # No dropout inside music (between its fade-in and fade-out): no digital silence over 5 ms.
    for span in plan["music_spans"]:
        start = span["start_frame"] + offset + 3 * RATE
        end = span["end_frame"] + offset - 2 * RATE
        assert zero_runs(heard[start:end]) <= MS5
    # And the same samples as the file, up to the closing (the live one adds the log's line).
    closing = plan["steps"][-1]["end_frame"]
    same = heard[offset : offset + closing]
    differing = np.any(same != reference[:closing], axis=1)
    assert differing.sum() == 0, describe_difference(heard, reference[:closing], offset)

    # Only the live session is in the pumping log (the render is not), with all its steps.
    with LogStore(Paths.from_environment(env).log_db) as store:
        sessions = store.sessions()
    assert len(sessions) == 1
    logged = sessions[0]
    assert logged.routine == "demo" and logged.finished
    assert logged.steps == tuple(s["id"] for s in plan["steps"])
    # The demo is logged but never counts: no "That was your Nth session" for it.
    assert not logged.counted
    assert not any(line.startswith("That was") for line in stdout.splitlines())


def test_sigkill_mid_session_leaves_the_log_intact(pulse, tmp_path: Path) -> None:
    env = {**os.environ, **pulse.env, "VOICEGUIDE_HOME": str(tmp_path / "home")}
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "start", "--routine", "demo", "--no-music"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if b"step 3:" in line:
            break
    process.kill()
    process.wait()
    with LogStore(Paths.from_environment(env).log_db) as store:
        assert store.integrity_check() == "ok"
        (logged,) = store.sessions()
    assert not logged.finished and logged.ended_at is None
    assert logged.steps == ("massage", "pump")


def test_pause_resume_extend_and_skip_through_the_conductor(
    pulse_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sink sets the device buffer in this process's environment: undone after the test.
    monkeypatch.delenv("PULSE_LATENCY_MSEC", raising=False)
    session = live_edits_session()
    conductor = Conductor(session, SimpleaudioSink())
    calls: dict[str, tuple[float, int]] = {}
    log_from = pulse_env.log_size()
    with Recorder(pulse_env) as recording:
        started = time.monotonic()
        conductor.start()

        def at(seconds: float) -> None:
            time.sleep(max(0.0, started + seconds - time.monotonic()))

        at(6.0)
        calls["pause"] = (time.monotonic(), conductor.pause())
        at(8.0)
        calls["resume"] = (time.monotonic(), conductor.resume())
        at(12.0)
        calls["extend"] = (time.monotonic(), conductor.extend(5))
        at(24.0)
        calls["next"] = (time.monotonic(), conductor.next_step())
        assert conductor.wait(60)
    events = [e.kind for e in conductor.poll()]
    conductor.close()
    assert {"paused", "resumed", "extended", "next"} <= set(events)
    assert conductor.player.error is None

    heard = recording.frames()
    timeline = conductor.timeline
    expected = timeline.render(0, timeline.end_frame)
    session.close()  # after the render above, which reads the music again
    with diagnosed(pulse_env, log_from, heard, tmp_path):
        _check_edits_recording(heard, expected, recording, calls)
    # The edits changed the timeline as asked: the first step grew by 5 s, the second was cut.
    steps = {s.id: s for s in session.plan.steps}
    assert steps["a"].end_frame - steps["a"].start_frame == 17 * RATE


def _check_edits_recording(
    heard: np.ndarray,
    expected: np.ndarray,
    recording: Recording,
    calls: dict[str, tuple[float, int]],
) -> None:
    pause_frame = calls["pause"][1]
    assert calls["resume"][1] == pause_frame  # resumes exactly where the sound stopped

    # Before the pause: exactly the plan, up to the fade.
    before = align_start(heard, expected)
    a = pause_frame - PAUSE_FADE_FRAMES
    assert np.array_equal(heard[before : before + a], expected[:a]), describe_difference(
        heard, expected[:a], before
    )
    # After the resume: exactly the rest of the timeline (extend and skip included).
    after = align(
        heard,
        expected,
        pause_frame + RESUME_FADE_FRAMES,
        before + int(2.0 * RATE),
        search=RATE // 2,
    )
    b = pause_frame + RESUME_FADE_FRAMES
    rest = expected[b:]
    assert np.array_equal(heard[after + b : after + b + len(rest)], rest), describe_difference(
        heard, rest, after + b
    )
    # Nothing played twice or lost: between the two is only the silence of the pause, which
    # began up to 0.5 s after the pause call and ended when resume was called 2 s after it.
    gap = heard[before + pause_frame : after + pause_frame]
    assert np.abs(gap.astype(np.int32)).max() <= 1
    assert 1.5 <= (after - before) / RATE <= 2.1

    # Each control is heard within half a second of the call.
    silent_at = recording.time_of(before + pause_frame)
    assert silent_at - calls["pause"][0] <= 0.5
    assert recording.time_of(after + pause_frame) - calls["resume"][0] <= 0.5
    for name in ("extend", "next"):
        called, frame = calls[name]
        assert recording.time_of(after + frame) - called <= 0.5, name


def test_music_whose_decoder_starts_slowly_still_plays_without_a_gap(
    pulse_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ffmpeg took 2.2 s to deliver its first samples on a loaded machine (tens of ms idle).
    # Here every ffmpeg starts 0.8 s late, from the start of the session. The producer renders
    # 3 s ahead, reaches the music (2 s in) at once, and leaves those blocks for later rounds
    # until ffmpeg has samples: on a real device, across two cuts, nothing may be lost or moved.
    monkeypatch.delenv("PULSE_LATENCY_MSEC", raising=False)
    monkeypatch.setenv("PATH", slow_ffmpeg_path(tmp_path / "bin", 0.8))
    session = live_edits_session()
    assert session.music is not None
    session.music.close()  # the decoder prepare started: the slow one starts with the session
    conductor = Conductor(session, SimpleaudioSink())
    log_from = pulse_env.log_size()
    with Recorder(pulse_env) as recording:
        started = time.monotonic()
        conductor.start()
        for seconds in (6.0, 9.0):  # two cuts: the music flows on through both
            time.sleep(max(0.0, started + seconds - time.monotonic()))
            conductor.next_step()
        assert conductor.wait(60)
    conductor.close()
    assert conductor.player.error is None
    assert conductor.player.music_waits > 0  # the producer came back for the music

    heard = recording.frames()
    timeline = conductor.timeline
    expected = timeline.render(0, timeline.end_frame)
    session.close()  # after the render above, which reads the music again
    music_from = session.plan.music_spans[0].start_frame
    assert 1.5 * RATE < music_from < 3 * RATE  # the music starts while the decoder is slow
    with diagnosed(pulse_env, log_from, heard, tmp_path):
        offset = align_start(heard, expected)
        same = heard[offset : offset + len(expected)]
        assert np.array_equal(same, expected), describe_difference(heard, expected, offset)


def test_sigint_stops_the_sound_fast_and_restores_the_terminal(pulse, tmp_path: Path) -> None:
    env = {**os.environ, **pulse.env, "VOICEGUIDE_HOME": str(tmp_path / "home")}
    controller, terminal = pty.openpty()
    before = termios.tcgetattr(terminal)
    with Recorder(pulse) as recording:
        process = subprocess.Popen(
            [sys.executable, "-m", "voiceguide", "start", "--routine", "demo", "--no-music"],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            heard = recording.frames()
            if len(heard) and np.abs(heard[-RATE // 10 :].astype(np.int32)).max() > 1000:
                break
            time.sleep(0.05)
        time.sleep(1.0)
        assert termios.tcgetattr(terminal)[3] != before[3]  # cbreak while running
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
        time.sleep(0.8)
    assert code == 130, process.stderr.read().decode() if process.stderr else ""
    heard = recording.frames()
    loud = np.flatnonzero(np.abs(heard.astype(np.int32)).max(axis=1) > 30)
    assert recording.time_of(int(loud[-1])) - sent <= 0.5
    assert termios.tcgetattr(terminal) == before
    os.close(controller)
    os.close(terminal)
    # Nothing logged is lost: the session is there, ended, and marked as stopped early.
    with LogStore(Paths.from_environment(env).log_db) as store:
        (logged,) = store.sessions()
    assert logged.finished is False and logged.ended_at is not None


def test_no_audio_output_is_one_clear_line(tmp_path: Path) -> None:
    env = {"PULSE_SERVER": f"unix:{tmp_path}/no-server", "VOICEGUIDE_HOME": str(tmp_path / "h")}
    result = run_cli("start", "--routine", "demo", env=env, timeout=60)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: no audio output could be opened")
    assert "voiceguide render -o" in lines[-1]
    assert "Traceback" not in result.stderr
    # A start that never made a sound is no session: nothing is logged.
    with LogStore(Paths.from_environment(env).log_db) as store:
        assert store.sessions() == []


@pytest.mark.parametrize(
    ("how", "stopping", "options"),
    [
        ("Ctrl-C at the terminal", signal.SIGINT, ["--no-music"]),
        ("SIGTERM", signal.SIGTERM, ["--no-music"]),
        # Its children (parec, the microphone's reader; ffmpeg, the music's decoder) are in
        # the terminal's process group too unless kept out of it: Ctrl-C reaches them first.
        ("Ctrl-C while listening, with music", signal.SIGINT, ["--listen"]),
    ],
)
def test_stopping_prints_no_traceback_from_any_process(
    pulse, tmp_path: Path, how: str, stopping: signal.Signals, options: list[str]
) -> None:
    env = {**os.environ, **pulse.env, "VOICEGUIDE_HOME": str(tmp_path / "home")}
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "start", "--routine", "demo", *options],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert process.stdout is not None and process.stderr is not None
    for line in process.stdout:
        if b"step 1:" in line:
            break
    time.sleep(0.5)
    if stopping == signal.SIGINT:
        os.killpg(process.pid, stopping)  # a terminal sends Ctrl-C to the whole group
    else:
        process.send_signal(stopping)
    code = process.wait(timeout=10)
    stderr = process.stderr.read().decode()
    rest = process.stdout.read().decode()
    assert code == 130, (how, stderr)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, (how, stderr)
    assert "warning" not in stderr, (how, stderr)  # nothing went wrong: the user stopped it
    assert "Stopped: 0 of 6 steps" in rest, rest
    with LogStore(Paths.from_environment(env).log_db) as store:
        (logged,) = store.sessions()
    assert logged.finished is False and logged.ended_at is not None


def _start_demo(server, home: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **server.env, "VOICEGUIDE_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "start", "--routine", "demo", "--no-music"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if b"step 2:" in line:
            break
    return process


def test_a_sound_server_that_dies_is_noticed_and_the_session_logged_as_stopped(
    tmp_path: Path,
) -> None:
    from soundserver import PulseServer

    server = PulseServer(tmp_path / "pulse")
    server.start()
    home = tmp_path / "home"
    try:
        process = _start_demo(server, home)
        assert server.process is not None
        server.process.kill()  # the sound server dies mid-session
        server.process.wait()
        code = process.wait(timeout=90)
    finally:
        server.stop()
    assert process.stderr is not None
    stderr = process.stderr.read().decode()
    assert code == 3, stderr
    lost = [line for line in stderr.splitlines() if "sound output was lost" in line]
    assert len(lost) == 2, stderr  # the warning, then the final one-line error
    assert "Traceback" not in stderr
    with LogStore(Paths.from_environment({"VOICEGUIDE_HOME": str(home)}).log_db) as store:
        (logged,) = store.sessions()
    assert logged.finished is False and logged.stopped_at_step == "pump"


def test_a_sound_server_that_comes_back_resumes_the_session(tmp_path: Path) -> None:
    from soundserver import PulseServer

    server = PulseServer(tmp_path / "pulse")
    server.start()
    home = tmp_path / "home"
    try:
        process = _start_demo(server, home)
        assert server.process is not None
        server.process.kill()
        server.process.wait()
        time.sleep(2.0)
        server.start()  # back on the same socket
        code = process.wait(timeout=150)
    finally:
        server.stop()
    assert process.stdout is not None and process.stderr is not None
    stderr, stdout = process.stderr.read().decode(), process.stdout.read().decode()
    assert code == 0, stderr
    assert "sound output was lost" in stderr
    assert "Done: 6 of 6 steps" in stdout
    with LogStore(Paths.from_environment({"VOICEGUIDE_HOME": str(home)}).log_db) as store:
        (logged,) = store.sessions()
    assert logged.finished is True


def _read_until(fd: int, wanted: bytes, seconds: float) -> bytes:
    """Read a pseudo-terminal until `wanted` shows up (or the time runs out)."""
    import select

    seen = b""
    deadline = time.monotonic() + seconds
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_q_after_pumping_began_still_asks_for_the_amounts(pulse, tmp_path: Path) -> None:
    env = {**os.environ, **pulse.env, "VOICEGUIDE_HOME": str(tmp_path / "home")}
    # The demo never counts (and asks nothing); the same routine that counts does.
    demo = (Path(voiceguide.__file__).parent / "routine" / "builtin" / "demo.toml").read_text()
    counting = tmp_path / "counting.toml"
    counting.write_text(demo.replace("counts = false", "counts = true"))
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "start", "--routine", str(counting), "--no-music"],
        stdin=terminal, stdout=terminal, stderr=terminal, env=env,
    )  # fmt: skip
    os.close(terminal)
    try:
        assert b"Step 2 of 6" in _read_until(controller, b"Step 2 of 6", 60)
        time.sleep(1.0)
        os.write(controller, b"q")
        assert b"Amount, left side" in _read_until(controller, b"Amount, left side", 20)
        os.write(controller, b"abc\r")
        said = _read_until(controller, b"Amount, left side", 10)
        assert b"Please type a number of ml, like 60, or press Enter to skip." in said
        assert b"could not convert" not in said
        os.write(controller, b"60\r")
        assert b"Amount, right side" in _read_until(controller, b"Amount, right side", 10)
        os.write(controller, b"\r")
        code = process.wait(timeout=20)
        rest = _read_until(controller, b"\x00", 0.5)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    assert code == 130, rest
    with LogStore(Paths.from_environment(env).log_db) as store:
        (logged,) = store.sessions()
    assert logged.finished is False and logged.stopped_at_step == "pump"
    assert logged.left_ml == 60 and logged.right_ml is None
