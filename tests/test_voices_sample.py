"""`voiceguide voices --say`: a voice's sample, written to a file (or played), to choose by ear."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from voiceguide.audioformat import MIX_RATE_HZ

from audio_helpers import read_wav, voiced_seconds
from cli_helpers import invoke


def test_voices_say_writes_a_wav_that_holds_speech(tmp_path: Path) -> None:
    out = tmp_path / "x.wav"
    result = invoke("voices", "--say", "Step 2 of 6", "--engine", "espeak-ng", "-o", out)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    frames, rate = read_wav(out)
    assert rate == MIX_RATE_HZ
    assert 0.5 < len(frames) / rate < 3.0
    assert voiced_seconds(out) > 0.5


def test_the_speech_check_finds_none_in_noise(tmp_path: Path) -> None:
    """The check above can fail: a second of noise at speech level holds no voice."""
    noise = tmp_path / "noise.wav"
    samples = np.random.default_rng(1).normal(0, 3000, (MIX_RATE_HZ, 2)).astype("<i2")
    with wave.open(str(noise), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(MIX_RATE_HZ)
        wav.writeframes(samples.tobytes())
    assert voiced_seconds(noise) == 0.0


def test_voices_say_is_the_clip_a_session_plays(tmp_path: Path) -> None:
    """The sample goes through the voice cache: saying it again makes the same file."""
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    for out in (first, second):
        result = invoke("voices", "--say", "Massage both breasts.", "--voice", "en-us", "-o", out)
        assert result.returncode == 0, result.stderr
        assert "pyttsx3, voice en-us" in result.stderr
    assert first.read_bytes() == second.read_bytes()


def test_voices_say_keeps_an_existing_file_without_force(tmp_path: Path) -> None:
    out = tmp_path / "x.wav"
    out.write_bytes(b"mine")
    result = invoke("voices", "--say", "Hello.", "--engine", "espeak-ng", "-o", out)
    assert result.returncode == 2
    assert out.read_bytes() == b"mine"
    forced = invoke("voices", "--say", "Hello.", "--engine", "espeak-ng", "-o", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert voiced_seconds(out) > 0.2


def test_voices_say_refuses_what_no_routine_could_say(tmp_path: Path) -> None:
    for text, problem in (
        ("   ", "nothing to say"),
        ("a\x1b[2Jb", "control character in the text"),
    ):
        result = invoke("voices", "--say", text, "-o", tmp_path / "x.wav")
        assert result.returncode == 2
        assert result.stderr == f"error: --say: {problem}\n"
    assert not (tmp_path / "x.wav").exists()


def test_voices_options_for_a_sample_need_say() -> None:
    result = invoke("voices", "--engine", "espeak-ng")
    assert result.returncode == 2
    assert result.stderr == "error: --engine goes with --say\n"


def test_an_unknown_engine_is_one_line(tmp_path: Path) -> None:
    result = invoke("voices", "--say", "Hello.", "--engine", "festival", "-o", tmp_path / "x.wav")
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown speech engine 'festival' (choices: hibari,")
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.sound
def test_voices_say_plays_the_sample_on_the_sound_output(pulse_env, tmp_path: Path) -> None:
    """Without -o the sample is played: the private server's monitor hears the same clip."""
    from soundserver import Recorder

    written = tmp_path / "x.wav"
    made = invoke("voices", "--say", "Step 2 of 6", "--engine", "espeak-ng", "-o", written)
    assert made.returncode == 0, made.stderr
    with Recorder(pulse_env) as recording:
        result = invoke("voices", "--say", "Step 2 of 6", "--engine", "espeak-ng")
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith("said: ")
    heard = recording.frames()
    loud = np.flatnonzero(np.abs(heard.astype(np.int32)).max(axis=1) > 100)
    expected, _ = read_wav(written)
    assert len(loud) > 0
    heard_seconds = (loud[-1] - loud[0]) / MIX_RATE_HZ
    assert abs(heard_seconds - len(expected) / MIX_RATE_HZ) < 0.2
