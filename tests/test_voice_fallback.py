"""When pyttsx3 fails, the clip still comes, from the espeak-ng command, with a warning, cached."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.spawn
from collections.abc import Iterator
from multiprocessing import resource_tracker
from pathlib import Path

import numpy as np
import pytest

from voiceguide.errors import VoiceError
from voiceguide.speech.engines import EspeakEngine
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
