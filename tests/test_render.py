"""Rendering the real session: cues exactly where planned, music ducked, nothing clipped."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voiceguide.config import Config
from voiceguide.mix.prepare import Session, SessionOptions, prepare_session
from voiceguide.mix.renderer import Renderer
from voiceguide.paths import Paths
from voiceguide.speech.voice import Voice, VoiceSettings, read_wav_mono

from audio_helpers import find_clip, read_wav, rms_db
from cli_helpers import invoke
from test_playlist_audio import make_tone

RATE = 44_100


def warn_list() -> tuple[list[str], object]:
    found: list[str] = []
    return found, found.append


def session(routine: str, **options: object) -> Session:
    _, warn = warn_list()
    return prepare_session(
        Config(), SessionOptions(routine=routine, **options), Paths.from_environment(), warn
    )


def render_all(renderer: Renderer, total: int, block: int) -> np.ndarray:
    return np.concatenate(
        [renderer.render(f, min(block, total - f)) for f in range(0, total, block)]
    )


@pytest.fixture(scope="module")
def full_render(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    """One CLI render of the whole hands-on-pumping session, shared by the tests below."""
    folder = tmp_path_factory.mktemp("full")
    home = folder / "home"
    wav, cues = folder / "session.wav", folder / "cues.json"
    result = invoke(
        "render",
        "--routine",
        "hands-on-pumping",
        "-o",
        str(wav),
        "--cues-json",
        str(cues),
        env={"VOICEGUIDE_HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr
    return wav, json.loads(cues.read_text()), home


@pytest.mark.slow
def test_every_speech_cue_is_at_its_planned_frame(full_render) -> None:
    wav, plan, home = full_render
    audio, rate = read_wav(wav)
    assert rate == plan["sample_rate"] == RATE
    voice = Voice(
        VoiceSettings(), Paths.from_environment({"VOICEGUIDE_HOME": str(home)}).voice_cache_dir
    )
    mono = audio.mean(axis=1)
    spoken = [c for c in plan["cues"] if c["text"]]
    assert len(spoken) >= 30
    for cue in spoken:
        clip_path = voice.cache_path(cue["text"])
        assert clip_path.is_file(), cue["text"]
        clip, _ = read_wav_mono(clip_path)
        assert cue["end_frame"] - cue["start_frame"] == len(clip)
        frame, score = find_clip(mono, clip, cue["start_frame"], search=RATE // 4)
        assert frame == cue["start_frame"], (cue["text"], frame - cue["start_frame"])
        assert score > 0.8, (cue["text"], score)


@pytest.mark.slow
def test_length_equals_plan_and_nothing_at_full_scale(full_render) -> None:
    wav, plan, _ = full_render
    audio, _ = read_wav(wav)
    assert len(audio) == plan["total_frames"]
    assert int(np.abs(audio.astype(np.int32)).max()) < 32767
    steps = plan["steps"]
    assert steps[0]["id"] == "massage"
    assert 20 * 60 * RATE < plan["total_frames"] < 25 * 60 * RATE


@pytest.mark.slow
def test_music_under_speech_is_at_least_10_db_lower(full_render) -> None:
    _, plan_json, home = full_render
    paths = Paths.from_environment({"VOICEGUIDE_HOME": str(home)})
    _, warn = warn_list()
    options = SessionOptions(routine="hands-on-pumping", include_first_run=True)
    ducked = prepare_session(Config(), options, paths, warn)
    flat = prepare_session(replace(Config(), duck_db=0.0), options, paths, warn)
    assert ducked.plan.to_json()["cues"] == plan_json["cues"]
    music_only = frozenset({"music"})
    ducked_r = Renderer(
        ducked.plan,
        ducked.voice.clip,
        ducked.chime,
        ducked.end_chime,
        ducked.music,
        ducked.levels,
        layers=music_only,
    )
    flat_r = Renderer(
        flat.plan,
        flat.voice.clip,
        flat.chime,
        flat.end_chime,
        flat.music,
        flat.levels,
        layers=music_only,
    )
    checked = 0
    for span in plan_json["music_spans"]:
        a, b = span["start_frame"], span["end_frame"]
        low = ducked_r.render(a, b - a)
        full = flat_r.render(a, b - a)
        for cue in plan_json["cues"]:
            if not cue["text"] or not a + RATE <= cue["start_frame"] < b:
                continue
            s, e = cue["start_frame"] - a, cue["end_frame"] - a
            under, same_music = rms_db(low[s:e]), rms_db(full[s:e])
            assert under <= same_music - 10, cue["text"]
            before = rms_db(low[s - RATE : s - RATE // 2])
            assert under <= before - 10, cue["text"]
            checked += 1
    assert checked >= 15
    ducked.close()
    flat.close()


def test_block_by_block_equals_one_shot(tmp_path: Path) -> None:
    results = []
    for block in (None, 4096, 3 * RATE + 7):
        s = session("demo")
        total = s.plan.total_frames
        results.append(
            s.renderer.render(0, total) if block is None else render_all(s.renderer, total, block)
        )
        s.close()
    one_shot = results[0].tobytes()
    assert results[1].tobytes() == one_shot
    assert results[2].tobytes() == one_shot
    assert np.abs(results[0]).max() > 1000  # not silence


def test_cli_file_equals_one_shot_render(tmp_path: Path) -> None:
    out = tmp_path / "demo.wav"
    result = invoke("render", "--routine", "demo", "-o", str(out))
    assert result.returncode == 0, result.stderr
    audio, _ = read_wav(out)
    s = session("demo", include_first_run=True)
    expected = s.renderer.render(0, s.plan.total_frames)
    s.close()
    assert audio.tobytes() == expected.tobytes()


@pytest.mark.parametrize("suffix", [".mp3", ".ogg", ".flac"])
def test_encoded_outputs(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"demo{suffix}"
    result = invoke("render", "--routine", "demo", "--no-music", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.stat().st_size > 10_000
    assert not list(tmp_path.glob(".demo*"))  # the temporary file was renamed away


def test_unsupported_output_format(tmp_path: Path) -> None:
    result = invoke("render", "--routine", "demo", "-o", str(tmp_path / "x.aiff"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: ") and "x.aiff" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_output(tmp_path: Path) -> None:
    out = tmp_path / "no-such-folder" / "x.wav"
    result = invoke("render", "--routine", "demo", "-o", str(out))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "no-such-folder" in lines[-1]
    assert "Traceback" not in result.stderr


def test_cues_json_has_the_promised_fields(tmp_path: Path) -> None:
    cues = tmp_path / "plan.json"
    result = invoke(
        "render",
        "--routine",
        "demo",
        "--no-music",
        "-o",
        str(tmp_path / "d.wav"),
        "--cues-json",
        str(cues),
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(cues.read_text())
    assert plan["sample_rate"] == RATE
    assert set(plan["steps"][0]) >= {"id", "title", "start_frame", "end_frame"}
    assert set(plan["cues"][0]) >= {"kind", "step_id", "text", "start_frame", "end_frame"}
    assert set(plan["music_spans"][0]) >= {"start_frame", "end_frame"}
    audio, _ = read_wav(tmp_path / "d.wav")
    assert len(audio) == plan["total_frames"]


def test_unknown_voice_is_one_line(tmp_path: Path) -> None:
    result = invoke("render", "--routine", "demo", "--voice", "no-such-voice", "-o",
                     str(tmp_path / "x.wav"))  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: unknown voice 'no-such-voice' (see `voiceguide voices` for the choices)"
    )


def test_espeak_engine_and_voice_choice_change_the_speech(tmp_path: Path) -> None:
    outputs = []
    for extra in ([], ["--engine", "espeak-ng"], ["--voice", "en-us", "--rate", "180"]):
        out = tmp_path / f"v{len(outputs)}.wav"
        result = invoke("render", "--routine", "demo", "--no-music", "-o", str(out), *extra)
        assert result.returncode == 0, result.stderr
        outputs.append(read_wav(out)[0])
    assert all(len(o) > 40 * RATE for o in outputs)
    assert len(outputs[2]) < len(outputs[0])  # faster speech: shorter intro and closing
    assert not np.array_equal(outputs[0][: 10 * RATE], outputs[2][: 10 * RATE])


# -- nothing the user has is written over without asking; inputs never ----------------------


def test_render_refuses_an_existing_output_at_once_without_force(tmp_path: Path) -> None:
    out = tmp_path / "session.wav"
    out.write_bytes(b"last week's recording")
    result = invoke("render", "--routine", "demo", "-o", str(out))
    assert result.returncode == 2
    assert result.stderr == f"error: {out}: already exists; use --force to overwrite it\n"
    assert out.read_bytes() == b"last week's recording"


def test_render_never_writes_over_its_music_even_with_force(tmp_path: Path) -> None:
    music = make_tone(tmp_path / "song.mp3", 3.0)
    original = music.read_bytes()
    result = invoke("render", "--routine", "demo", "-o", str(music), "--music", str(music),
                     "--force")  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {music}: is one of this command's inputs; write the output to another file"
    )
    assert music.read_bytes() == original
    # A track found in a --music folder, named through a symbolic link, is protected too.
    link = tmp_path / "link-to-song.mp3"
    link.symlink_to(music)
    result = invoke("render", "--routine", "demo", "-o", str(music), "--music", str(tmp_path),
                     "--force")  # fmt: skip
    assert result.returncode == 2
    assert "is one of this command's inputs" in result.stderr
    assert music.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link-to-song.mp3", "song.mp3"]


def test_cues_json_never_replaces_the_routine_file(tmp_path: Path) -> None:
    routine = tmp_path / "mine.toml"
    routine.write_text(
        'format = 1\ntitle = "Mine"\n\n[[steps]]\nid = "one"\ntitle = "One"\n'
        'say = "Breathe."\nduration = 5\n',
        encoding="utf-8",
    )
    before = routine.read_bytes()
    result = invoke("render", "--routine", str(routine), "--no-music", "-o",
                     str(tmp_path / "out.wav"), "--cues-json", str(routine), "--force")  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"error: {routine}: is one of this command's inputs" in result.stderr
    assert routine.read_bytes() == before
    assert not (tmp_path / "out.wav").exists()


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_render_refuses_links_and_fifos_even_with_force(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out.wav"
    if kind == "symlink":
        (tmp_path / "aim.wav").write_bytes(b"precious")
        out.symlink_to(tmp_path / "aim.wav")
    else:
        os.mkfifo(out)
    result = invoke("render", "--routine", "demo", "-o", str(out), "--force")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {out}: is a ")
    if kind == "symlink":
        assert (tmp_path / "aim.wav").read_bytes() == b"precious"


def test_render_with_force_replaces_a_file_with_mode_0644(tmp_path: Path) -> None:
    out, cues = tmp_path / "demo.wav", tmp_path / "plan.json"
    out.write_bytes(b"old")
    cues.write_text("old")
    previous = os.umask(0o077)  # the modes are explicit, whatever the user's umask
    try:
        result = invoke("render", "--routine", "demo", "--no-music", "-o", str(out),
                         "--cues-json", str(cues), "--force")  # fmt: skip
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stderr
    assert read_wav(out)[0].size > 0 and json.loads(cues.read_text())["total_frames"] > 0
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()} == {
        "demo.wav": 0o644,
        "plan.json": 0o644,
    }
