"""When pyttsx3 fails or stalls, the clip still comes, from the espeak-ng command, and is cached:
with a warning when pyttsx3 is dropped, silently when the command was only quicker."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.spawn
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from multiprocessing import resource_tracker
from pathlib import Path

import numpy as np
import pytest

from voiceguide.errors import VoiceError
from voiceguide.speech.espeak import EspeakEngine
from voiceguide.speech.pyttsx3_engine import Pyttsx3Engine
from voiceguide.speech.voice import Voice, VoiceSettings, read_wav_mono, shape_clip

TEXT = "Massage both breasts, in small circles."


@pytest.fixture
def no_python_for_workers(tmp_path: Path) -> Iterator[None]:
    """pyttsx3's worker cannot start: the interpreter spawned processes run is gone (as when
    Python is upgraded or a venv removed under a running session)."""
    # The resource tracker is spawned the same way: start it while the interpreter is there, so
    # it lives on after this test instead of being relaunched with a warning.
    resource_tracker.ensure_running()
    spawn = multiprocessing.get_context("spawn")
    original = multiprocessing.spawn.get_executable()
    spawn.set_executable(str(tmp_path / "python-that-was-removed"))
    try:
        yield
    finally:
        spawn.set_executable(original)


def espeak_ng_clip(text: str, folder: Path) -> np.ndarray:
    """The clip the espeak-ng command makes for `text`, shaped as Voice shapes every clip."""
    raw = folder / "espeak-ng.wav"
    EspeakEngine(None, VoiceSettings().rate_wpm).synthesize(text, raw)
    return shape_clip(*read_wav_mono(raw))


@pytest.mark.usefixtures("no_python_for_workers")
def test_a_pyttsx3_failure_falls_back_to_espeak_ng_and_is_cached(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = VoiceSettings(engine="pyttsx3")
    cache = tmp_path / "cache"
    voice = Voice(settings, cache)
    try:
        with caplog.at_level(logging.WARNING, logger="voiceguide.speech.voice"):
            clip = voice.clip(TEXT)
    finally:
        voice.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "pyttsx3 worker failed" in warnings[0]
    assert "using the espeak-ng command instead" in warnings[0]
    np.testing.assert_array_equal(clip, espeak_ng_clip(TEXT, tmp_path))

    # Cached under the settings asked for: a new Voice (pyttsx3 still broken) reads it from disk
    # and never tries an engine, so nothing is warned.
    assert voice.cache_path(TEXT).is_file()
    caplog.clear()
    again = Voice(settings, cache)
    try:
        with caplog.at_level(logging.WARNING, logger="voiceguide.speech.voice"):
            np.testing.assert_array_equal(again.clip(TEXT), clip)
    finally:
        again.close()
    assert caplog.records == []


@pytest.mark.usefixtures("no_python_for_workers")
def test_espeak_ng_failing_too_is_an_error_not_a_silent_clip(tmp_path: Path) -> None:
    voice = Voice(VoiceSettings(engine="pyttsx3", voice="zz"), tmp_path)
    try:
        with pytest.raises(VoiceError, match="espeak-ng failed"):
            voice.clip(TEXT)
    finally:
        voice.close()
    assert list(tmp_path.iterdir()) == []


# -- a worker that stalls: the espeak-ng command says the clip within a second or two ---------


def make_pyttsx3(cache: Path) -> tuple[Voice, Pyttsx3Engine]:
    """A Voice on pyttsx3 whose worker is up (it has made one clip itself)."""
    voice = Voice(VoiceSettings(engine="pyttsx3"), cache)
    deadline = time.monotonic() + 60
    index = 0
    while True:
        voice.clip(f"Warming up, sentence {index}.")
        index += 1
        engine = voice._engine
        assert isinstance(engine, Pyttsx3Engine)
        if engine.answered_by[-1] == "pyttsx3":
            return voice, engine
        assert time.monotonic() < deadline, "the pyttsx3 worker never answered"


def test_a_stalled_worker_costs_under_two_seconds_not_twenty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    voice, engine = make_pyttsx3(tmp_path / "cache")
    worker = engine._process
    assert worker is not None and worker.pid is not None
    try:
        os.kill(worker.pid, signal.SIGSTOP)  # it cannot write a thing until it is continued
        with caplog.at_level(logging.WARNING, logger="voiceguide.speech.voice"):
            started = time.monotonic()
            clip = voice.clip(TEXT)
            assert time.monotonic() - started < 2.0
            assert engine.answered_by[-1] == "espeak-ng"
            # The next one goes to the command at once: the worker owes an answer.
            started = time.monotonic()
            voice.clip(f"{TEXT} Again.")
            assert time.monotonic() - started < 2.0
        assert caplog.records == []  # the same voice: nothing to tell the user
        np.testing.assert_array_equal(clip, espeak_ng_clip(TEXT, tmp_path))
        os.kill(worker.pid, signal.SIGCONT)
        # Once it has answered (late), it gets requests again, and its late file is gone.
        deadline = time.monotonic() + 30
        index = 0
        while engine.answered_by[-1] != "pyttsx3":
            assert time.monotonic() < deadline, "the worker never came back"
            voice.clip(f"Back again, sentence {index}.")
            index += 1
        assert not [p for p in tmp_path.rglob("*") if ".pyttsx3-" in p.name]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGCONT)
        voice.close()
    assert not worker.is_alive()


def test_a_worker_that_never_answers_is_dropped_for_the_session(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.speech import pyttsx3_engine

    voice, engine = make_pyttsx3(tmp_path / "cache")
    monkeypatch.setattr(pyttsx3_engine, "WRITE_TIMEOUT_SECONDS", 1.0)  # 20 s in real life
    worker = engine._process
    assert worker is not None and worker.pid is not None
    try:
        os.kill(worker.pid, signal.SIGSTOP)
        with caplog.at_level(logging.WARNING, logger="voiceguide.speech.voice"):
            voice.clip(TEXT)  # by the command; the worker now owes it
            time.sleep(1.2)
            started = time.monotonic()
            for index in range(3):
                voice.clip(f"After the worker is gone, sentence {index}.")
            assert time.monotonic() - started < 3.0
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1, warnings
        assert "pyttsx3 did not answer" in warnings[0]
        assert "using the espeak-ng command instead" in warnings[0]
        worker.join(timeout=5)
        assert not worker.is_alive()  # killed at once: it might never wake up
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGCONT)
        voice.close()


def test_a_long_text_the_worker_is_slow_on_leaves_no_trace(tmp_path: Path) -> None:
    """pyttsx3 takes seconds on 5,000 characters (its buffer grows by copying): the command
    answers first, and the worker, given up on at the end, prints nothing and leaves nothing."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from voiceguide.speech.voice import Voice, VoiceSettings\n"
        "if __name__ == '__main__':\n"
        "    voice = Voice(VoiceSettings(), Path(sys.argv[1]))\n"
        "    voice.clip('Warm up.')\n"
        "    voice.clip(' '.join(['Keep the hands moving, gently, and breathe.'] * 115))\n"
        "    voice.close()\n"
    )
    cache = tmp_path / "cache"
    result = subprocess.run(
        [sys.executable, "-c", code, str(cache)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert sorted(p.suffix for p in cache.iterdir()) == [".wav", ".wav"]
