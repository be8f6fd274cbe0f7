"""The natural voice (hibari, the extra `voiceguide[natural]`): the default when installed,
its clips cached like the others, nothing downloaded, espeak-ng when it fails.

Run by `make test-natural`, which installs the extra first; skipped without it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from voiceguide.config import Config
from voiceguide.errors import BadInputError
from voiceguide.mix.prepare import SessionOptions, prepare_session, voice_settings
from voiceguide.paths import Paths
from voiceguide.speech import hibari_engine
from voiceguide.speech.engines import choose_engine
from voiceguide.speech.hibari_engine import HibariEngine
from voiceguide.speech.voice import Voice, VoiceSettings

from audio_helpers import read_wav, voiced_seconds
from cli_helpers import invoke

pytestmark = [
    pytest.mark.natural,
    pytest.mark.skipif(
        not hibari_engine.installed(),
        reason=f"the natural voice is not installed ({hibari_engine.INSTALL_HINT})",
    ),
]

NATURAL = VoiceSettings(engine="hibari")
TEXT = "Massage both breasts, in small circles."


def test_the_natural_voice_is_the_default_and_a_voice_of_espeak_ng_keeps_its_engine() -> None:
    assert voice_settings(Config(), SessionOptions()).engine == "hibari"
    assert choose_engine(None, "heart") == "hibari"
    assert choose_engine(None, "en-us") == "pyttsx3"
    assert choose_engine("espeak-ng", None) == "espeak-ng"


def test_the_demo_renders_with_the_natural_voice_and_a_second_render_synthesizes_nothing(
    tmp_path: Path,
) -> None:
    paths = Paths.from_environment()
    options = SessionOptions(routine="demo", no_music=True)
    renders = []
    for _ in range(2):
        session = prepare_session(Config(), options, paths, warn=pytest.fail)
        try:
            assert session.voice.settings.engine == "hibari"
            frames = session.renderer.render(0, session.plan.total_frames)
            renders.append((frames, session.voice.synthesized))
        finally:
            session.close()
    (first, made), (second, made_again) = renders
    assert made > 5  # every spoken line of the demo, by the natural voice
    assert made_again == 0  # all from the cache
    np.testing.assert_array_equal(first, second)
    cached = list(paths.voice_cache_dir.glob("*.wav"))
    assert len(cached) == made


def _workers_of_this_process() -> list[int]:
    """Pids of the natural voice's worker processes started by this test process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if parent == os.getpid() and hibari_engine.WORKER.encode() in command:
            found.append(int(entry.name))
    return found


def test_a_session_that_fails_to_start_leaves_no_worker_behind(tmp_path: Path) -> None:
    """The worker starts loading before the music is looked at; a music file that is not
    there stops the session, and the worker must end with it, not wait on its input."""
    before = set(_workers_of_this_process())
    options = SessionOptions(routine="demo", music=str(tmp_path / "missing.m3u"))
    with pytest.raises(BadInputError, match=r"missing\.m3u"):
        prepare_session(Config(), options, Paths.from_environment(), warn=pytest.fail, eager=False)
    assert set(_workers_of_this_process()) - before == set()


def test_render_with_the_natural_voice_holds_its_speech(tmp_path: Path) -> None:
    out = tmp_path / "demo.wav"
    result = invoke("render", "--routine", "demo", "--no-music", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    frames, rate = read_wav(out)
    assert len(frames) / rate > 60
    assert voiced_seconds(out) > 20


def test_voices_say_with_the_natural_voice_writes_speech(tmp_path: Path) -> None:
    out = tmp_path / "x.wav"
    result = invoke("voices", "--say", "Step 2 of 6", "--engine", "hibari", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "hibari, voice heart" in result.stderr
    assert voiced_seconds(out) > 0.5
    listed = invoke("voices")
    (default,) = [line for line in listed.stdout.splitlines() if "(default)" in line]
    assert default.split()[:1] == ["heart"]


def test_the_natural_voice_differs_from_espeak_ng_and_is_the_same_each_time(
    tmp_path: Path,
) -> None:
    clips = []
    for index, settings in enumerate((NATURAL, NATURAL, VoiceSettings(engine="espeak-ng"))):
        voice = Voice(settings, tmp_path / f"cache-{index}")
        try:
            clips.append(voice.clip(TEXT))
        finally:
            voice.close()
    np.testing.assert_array_equal(clips[0], clips[1])  # a fixed seed: a render is repeatable
    assert len(clips[0]) != len(clips[2]) or not np.array_equal(clips[0], clips[2])


def test_the_cache_key_holds_the_engine_version(tmp_path: Path) -> None:
    from voiceguide.speech.voice import cache_key

    assert hibari_engine.version() == "0.2.1"
    other = VoiceSettings(engine="pyttsx3")
    assert cache_key(NATURAL, TEXT) != cache_key(other, TEXT)


def test_a_voice_the_natural_engine_lacks_is_one_line(tmp_path: Path) -> None:
    """emma, fenrir... are downloaded by hibari on first use: never offered."""
    result = invoke(
        "voices", "--say", "Hello.", "--engine", "hibari", "--voice", "emma", "-o", tmp_path / "x"
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown voice 'emma' for the hibari engine")


NETWORK_GUARD = """
import runpy, sys
def guard(event, args):
    if event.startswith(("socket.", "urllib.")):
        sys.__stderr__.write(f"NETWORK {event}\\n")
        raise SystemExit(99)
sys.addaudithook(guard)
sys.argv = ["hibari_worker", *sys.argv[1:]]
runpy.run_module("voiceguide.speech.hibari_worker", run_name="__main__")
"""


def test_the_worker_never_touches_the_network(tmp_path: Path) -> None:
    """An audit hook in the worker ends it at any socket or urllib use; HIBARI_HOME (where
    hibari would download voices to) stays empty. Asked for a voice that is not bundled,
    it still reads the bundled model's file, never its downloader."""
    hibari_home = tmp_path / "hibari-home"
    hibari_home.mkdir()
    wav = tmp_path / "out.wav"
    done = subprocess.run(
        [sys.executable, "-c", NETWORK_GUARD, "emma", "1.0"],
        input=f'{{"id": 0, "text": "{TEXT}", "wav": "{wav}"}}\n',
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HIBARI_HOME": str(hibari_home)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ['{"ready": true}', '{"id": 0, "problem": null}']
    assert wav.stat().st_size > 10_000
    assert list(hibari_home.iterdir()) == []


def test_a_worker_that_cannot_load_falls_back_to_espeak_ng_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's interpreter cannot import hibari (as after the extra was removed
    under a running session): espeak-ng says every clip, warned about once, and its clips
    are cached as espeak-ng's, so the natural voice makes them once it works again."""
    broken = tmp_path / "python-without-hibari"
    broken.write_text(f'#!/bin/sh\nexec {sys.executable} -I -S "$@"\n')
    broken.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(broken))
    cache = tmp_path / "cache"
    voice = Voice(NATURAL, cache)
    try:
        with caplog.at_level(logging.WARNING, logger="voiceguide.speech.voice"):
            clips = [voice.clip(TEXT), voice.clip("Step 2 of 6.")]
    finally:
        voice.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "hibari" in warnings[0] and "espeak-ng" in warnings[0]
    espeak = VoiceSettings(engine="espeak-ng")
    assert not voice.cache_path(TEXT).exists()
    assert voice.cache_path(TEXT, espeak).is_file()
    reference = Voice(espeak, tmp_path / "reference")
    try:
        np.testing.assert_array_equal(clips[0], reference.clip(TEXT))
    finally:
        reference.close()


def test_the_engine_loads_once_for_many_clips(tmp_path: Path) -> None:
    engine = HibariEngine(None, 150)
    try:
        engine.preload()
        pids = set()
        for index in range(3):
            engine.synthesize(f"Sentence number {index}.", tmp_path / f"{index}.wav")
            assert engine._process is not None
            pids.add(engine._process.pid)
        assert len(pids) == 1
    finally:
        engine.close()
    assert engine._process is None


@pytest.mark.parametrize("args", [("--help",), ("voices",), ("routines", "show", "demo")])
def test_commands_that_make_no_clip_never_import_the_natural_voice(args: tuple[str, ...]) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "voiceguide", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "voiceguide.cli" in imported or args == ("--help",)
    assert not {"hibari", "onnxruntime"} & {name.split(".")[0] for name in imported}


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def test_the_worker_makes_hibaris_own_clip_with_its_phonemizer_in_a_child(tmp_path: Path) -> None:
    """The worker loads the phonemizer in a forked child while it opens the model: its clip of
    a two-sentence text is what hibari's own `Hibari()(text, speed, seed)` makes, sample for
    sample, and the child ends with the worker."""
    from hibari import Hibari

    from voiceguide.speech.hibari_worker import SEED

    text = f"{TEXT} Then pump, for ten minutes."
    engine = HibariEngine(None, 150)
    try:
        out = engine.synthesize(text, tmp_path / "clip.wav")
        assert engine._process is not None
        worker = engine._process.pid
        phonemizers = children_of(worker)
        assert len(phonemizers) == 1
    finally:
        engine.close()
    samples, rate = read_wav(out)
    own = Hibari(voice="heart", threads=1)(text, speed=engine.speed, seed=SEED)
    expected = np.round(np.clip(own, -1.0, 1.0) * 32767.0).astype(np.int16)
    assert rate == Hibari.sample_rate
    np.testing.assert_array_equal(samples.reshape(-1), expected)
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{pid}").exists() for pid in phonemizers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{pid}").exists() for pid in phonemizers)
