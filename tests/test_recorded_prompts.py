"""Recorded prompts: a routine's own sound files (mp3, m4a, ogg, wav, flac) in the session.

The recordings are real speech (espeak-ng, in a voice unlike the program's) encoded by real
ffmpeg, with quiet noise around them, as a phone's recording has.
"""

from __future__ import annotations

import json
import os
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from voiceguide.audioclip import load_clip
from voiceguide.audioformat import MIX_RATE_HZ
from voiceguide.config import Config
from voiceguide.errors import RoutineError
from voiceguide.mix.plan import PlanSettings, build_plan
from voiceguide.mix.prepare import SessionOptions, prepare_session
from voiceguide.paths import Paths
from voiceguide.routine.load import Line, Recording, Routine, caption, parse_routine
from voiceguide.speech.recorded import RECORDING_MAX_SECONDS
from voiceguide.speech.resample import to_mix_rate
from voiceguide.speech.voice import CLIP_PEAK_DBFS
from voiceguide.speech.wavfile import read_wav_mono

from audio_helpers import find_clip, read_wav
from cli_helpers import invoke
from test_conductor import Rig

RECORDING_VOICE = "en-gb-x-rp+f4"
"""Not the program's voice (espeak-ng's default English, male)."""
LEADING_SECONDS = 0.8
TRAILING_SECONDS = 0.6
NOISE_AMPLITUDE = 0.0003
"""About -70 dBFS: the room noise of a quiet recording."""
# Each format with its own rate, channels and encoder settings, so resampling, channels and
# decoders are all exercised.
FORMATS: dict[str, tuple[int, int, list[str]]] = {
    "mp3": (44_100, 1, ["-c:a", "libmp3lame", "-b:a", "192k"]),
    "m4a": (48_000, 2, ["-c:a", "aac", "-b:a", "192k"]),
    "ogg": (32_000, 1, ["-c:a", "libvorbis", "-q:a", "6"]),
    "wav": (22_050, 1, ["-c:a", "pcm_s16le"]),
    "flac": (48_000, 2, ["-c:a", "flac", "-sample_fmt", "s32"]),
}
SENTENCES = {
    "mp3": "Sit down, and breathe slowly.",
    "m4a": "Start the pump now, and relax your shoulders.",
    "ogg": "Keep your hands warm and soft.",
    "wav": "You did well today.",
    "flac": "Massage the breast with small circles.",
}
SPEECH_RATE = 22_050


def speak(text: str, folder: Path) -> np.ndarray:
    """`text` said by espeak-ng in RECORDING_VOICE: float mono at SPEECH_RATE."""
    raw = folder / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", RECORDING_VOICE, "-s", "135", "-w", str(raw), text],
        check=True,
        capture_output=True,
        env={"PULSE_SERVER": "unix:/dev/null/none", "PATH": "/usr/bin:/bin"},
    )
    samples, rate = read_wav_mono(raw)
    assert rate == SPEECH_RATE
    raw.unlink()
    return samples


def make_recording(folder: Path, name: str, fmt: str, speech: np.ndarray) -> Path:
    """`speech` with LEADING/TRAILING seconds of quiet noise around it, encoded as `fmt`."""
    rng = np.random.default_rng(len(name))
    lead = rng.normal(0, NOISE_AMPLITUDE, round(LEADING_SECONDS * SPEECH_RATE))
    tail = rng.normal(0, NOISE_AMPLITUDE, round(TRAILING_SECONDS * SPEECH_RATE))
    padded = np.concatenate([lead, speech, tail])
    source = folder / f".{name}.source.wav"
    with wave.open(str(source), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SPEECH_RATE)
        wav.writeframes(np.round(padded * 32767).astype("<i2").tobytes())
    rate, channels, codec = FORMATS[fmt]
    target = folder / f"{name}.{fmt}"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source),
         "-ar", str(rate), "-ac", str(channels), *codec, str(target)],
        check=True,
    )  # fmt: skip
    source.unlink()
    return target


def make_tone(path: Path, seconds: float, hz: float = 660.0) -> Path:
    """A sine of `seconds` (a bell-like decay), by ffmpeg, in the format of `path`'s suffix."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={hz}:sample_rate=44100:duration={seconds}",
         "-af", "volume=0.5", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, np.ndarray]]:
    """A folder `prompts/` of one recording per format; the speech each holds, at the mix rate."""
    folder = tmp_path_factory.mktemp("recorded")
    prompts = folder / "prompts"
    prompts.mkdir()
    spoken = {}
    for fmt, text in SENTENCES.items():
        speech = speak(text, prompts)
        make_recording(prompts, f"line-{fmt}", fmt, speech)
        spoken[fmt] = to_mix_rate(speech, SPEECH_RATE)
    return folder, spoken


ROUTINE = """\
format = 1
title = "Recorded"

[intro]
say_audio = ["prompts/line-mp3.mp3"]

[[steps]]
id = "pump"
title = "Pump"
say_audio = "prompts/line-m4a.m4a"
duration = "20s"

  [[steps.cues]]
  at = "9s"
  say_audio = "prompts/line-ogg.ogg"

[[steps]]
id = "massage"
title = "Massage"
say = "Now the massage."
duration = "12s"

  [[steps.cues]]
  at = "5s"
  say_audio = "prompts/line-flac.flac"

[closing]
say = "Well done."

[audio]
summary = "prompts/line-wav.wav"
"""


def clip_of(path: Path) -> np.ndarray:
    """The clip as voiceguide makes it (from the same cache the render used)."""
    return load_clip(
        path,
        peak_dbfs=CLIP_PEAK_DBFS,
        max_seconds=RECORDING_MAX_SECONDS,
        cut_longer=False,
        cache_dir=Paths.from_environment().clip_cache_dir,
    ).samples


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.astype(np.float64).ravel(), b.astype(np.float64).ravel())[0, 1])


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_recording_is_stripped_levelled_and_at_the_mix_format(recordings, fmt: str) -> None:
    folder, spoken = recordings
    clip = clip_of(folder / "prompts" / f"line-{fmt}.{fmt}")
    assert clip.dtype == np.int16 and clip.ndim == 2 and clip.shape[1] == 2
    speech = spoken[fmt]
    loud = np.flatnonzero(np.abs(speech) > 0.01 * np.abs(speech).max())
    voiced = speech[loud[0] : loud[-1] + 1]
    # The silence around it is gone (espeak-ng's own at its ends too): the clip lasts as long
    # as the speech does, not 1.4 s more.
    assert abs(len(clip) - len(voiced)) < 0.06 * MIX_RATE_HZ, (len(clip), len(voiced))
    mono = clip.astype(np.float64).mean(axis=1)
    onset = int(np.flatnonzero(np.abs(mono) > 0.01 * np.abs(mono).max())[0])
    assert onset < 0.005 * MIX_RATE_HZ, onset
    # At the speech level: the synthesized clips' peak.
    peak_db = 20 * np.log10(np.abs(clip.astype(np.int32)).max() / 32767)
    assert abs(peak_db - CLIP_PEAK_DBFS) < 0.05
    # What is left is the speech itself, through the codec.
    heard = mono / 32768  # find_clip wants both at one scale
    _, score = find_clip(heard, voiced[: len(voiced) - 3000], 0, search=MIX_RATE_HZ // 10)
    assert score > (0.999 if fmt in ("wav", "flac") else 0.98), (fmt, score)


@pytest.fixture(scope="module")
def rendered(recordings) -> tuple[np.ndarray, dict, Path]:
    folder, _ = recordings
    routine = folder / "recorded.toml"
    routine.write_text(ROUTINE)
    out, cues = folder / "session.wav", folder / "cues.json"
    result = invoke("render", "--routine", routine, "--no-music", "-o", out, "--cues-json", cues)
    assert result.returncode == 0, result.stderr
    audio, rate = read_wav(out)
    assert rate == MIX_RATE_HZ
    return audio, json.loads(cues.read_text()), folder


def test_the_render_holds_each_recording_at_its_cue_frame(rendered) -> None:
    audio, plan, folder = rendered
    recorded = [cue for cue in plan["cues"] if cue["recording"]]
    by_file = {Path(cue["recording"]).name: cue for cue in recorded}
    assert sorted(by_file) == sorted(f"line-{fmt}.{fmt}" for fmt in FORMATS)
    assert all(cue["text"] == "" for cue in recorded)
    assert [cue["kind"] for cue in recorded] == ["intro", "announce", "tip", "tip", "closing"]
    for name, cue in by_file.items():
        assert Path(cue["recording"]) == folder / "prompts" / name
        clip = clip_of(Path(cue["recording"]))
        start, end = cue["start_frame"], cue["end_frame"]
        assert end - start == len(clip)
        assert correlation(audio[start:end], clip) >= 0.99, name
        frame, _ = find_clip(audio.mean(axis=1), clip.mean(axis=1), start, MIX_RATE_HZ // 4)
        assert frame == start, (name, frame - start)
        # Its leading silence is gone: the sound starts at the cue's frame.
        first = np.abs(audio[start : start + 220].astype(np.int32)).max()
        assert first > 0.01 * 32767, (name, first)


def test_the_programs_own_lines_stay_synthesized_unless_recorded(rendered) -> None:
    _, plan, _ = rendered
    texts = [cue["text"] for cue in plan["cues"] if cue["text"]]
    # "Step 1 of 2." before the recorded step; the second step as one text, as always; the
    # summary is recorded ([audio] summary), the routine's own closing text is not.
    assert texts == ["Step 1 of 2.", "Step 2 of 2. Now the massage.", "Well done."]
    number, recorded = [c for c in plan["cues"] if c["kind"] == "announce"][:2]
    assert number["text"] == "Step 1 of 2." and recorded["recording"]
    assert 0 < recorded["start_frame"] - number["end_frame"] <= 0.5 * MIX_RATE_HZ


def test_a_live_session_plays_the_recordings_and_repeats_one(recordings) -> None:
    """As `start` prepares it (only the lines before step 2 made first), on a MemoryOutput."""
    folder, _ = recordings
    routine = folder / "live.toml"
    routine.write_text(ROUTINE)
    options = SessionOptions(routine=str(routine), no_music=True)
    session = prepare_session(
        Config(), options, Paths.from_environment(), lambda _m: None, eager=False
    )
    rig = Rig(session)
    try:
        rig.start()
        plan = rig.session.plan
        rig.play(plan.steps[0].start_frame / MIX_RATE_HZ + 10.0)
        at = rig.conductor.repeat()
        assert at is not None
        rig.play(5.0)
        heard = rig.output.heard()
        pump = clip_of(folder / "prompts" / "line-m4a.m4a")
        cue = next(c for c in plan.cues if c.kind == "announce" and isinstance(c.text, Recording))
        assert correlation(heard[cue.start_frame : cue.end_frame], pump) >= 0.99
        # "r" says the recorded instruction again, at once.
        (event,) = [e for e in rig.events if e.kind == "repeat"]
        assert event.text == "[line-m4a.m4a]"
        found, score = find_clip(heard.mean(axis=1), pump.mean(axis=1), at, MIX_RATE_HZ // 2)
        assert score > 0.99 and at <= found <= at + MIX_RATE_HZ // 2
        # What the screen shows while a recording plays: its file name.
        captions = [e.text for e in rig.events if e.kind == "cue"]
        assert captions[:3] == ["[line-mp3.mp3]", "Step 1 of 2.", "[line-m4a.m4a]"]
    finally:
        rig.close()
        session.close()


def test_routines_check_and_show_with_recordings(recordings) -> None:
    folder, _ = recordings
    routine = folder / "check.toml"
    routine.write_text(ROUTINE)
    checked = invoke("routines", "check", routine)
    assert checked.returncode == 0, checked.stderr
    assert "ok: Recorded, 2 steps" in checked.stdout
    shown = invoke("routines", "show", routine)
    assert shown.returncode == 0, shown.stderr
    assert "[line-m4a.m4a]" in shown.stdout and "[line-ogg.ogg]" in shown.stdout


def test_the_cache_is_keyed_by_the_file(tmp_path: Path, recordings) -> None:
    """A second load is the cached clip; a changed file (size, time) is processed again."""
    folder, _ = recordings
    path = tmp_path / "prompt.ogg"
    path.write_bytes((folder / "prompts" / "line-ogg.ogg").read_bytes())
    cache = Paths.from_environment().clip_cache_dir
    first = clip_of(path)
    cached = sorted(cache.iterdir())
    assert len(cached) == 1 and cached[0].stat().st_mode & 0o777 == 0o600
    assert np.array_equal(clip_of(path), first)
    assert sorted(cache.iterdir()) == cached
    path.write_bytes((folder / "prompts" / "line-mp3.mp3").read_bytes())
    changed = clip_of(path)
    assert len(list(cache.iterdir())) == 2
    assert len(changed) != len(first)


# -- bad recordings -------------------------------------------------------------------------


def bad_recording(kind: str, folder: Path) -> Path:
    path = folder / f"bad-{kind}.ogg"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "corrupt":
        path.write_bytes(b"OggS" + bytes(range(256)) * 40)
    elif kind == "too-long":
        make_tone(path, RECORDING_MAX_SECONDS + 1)
    elif kind == "fifo":
        os.mkfifo(path)  # a read would block forever: it is never opened
    elif kind == "silent":
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
             "-i", "anullsrc=r=44100:cl=mono", "-t", "2", str(path)],
            check=True,
        )  # fmt: skip
    return path


BAD_ROUTINE = """\
format = 1
title = "Bad"

[[steps]]
id = "first"
title = "First"
say = "A first step."
duration = "10s"

[[steps]]
id = "second"
title = "Second"
say_audio = "{path}"
duration = "10s"
"""
PROBLEMS = {
    "missing": "No such file",
    "empty": "the file is empty",
    "corrupt": "not a sound file ffmpeg can read",
    "too-long": "lasts more than 60 s",
    "silent": "holds no sound",
    "fifo": "cannot read sound file: it is a FIFO",
}


@pytest.mark.parametrize("kind", list(PROBLEMS))
@pytest.mark.parametrize("command", ["check", "render", "start"])
def test_a_bad_recording_is_one_line_naming_file_step_and_path(
    tmp_path: Path, kind: str, command: str
) -> None:
    path = bad_recording(kind, tmp_path)
    routine = tmp_path / "bad.toml"
    routine.write_text(BAD_ROUTINE.format(path=path.name))
    out = tmp_path / "out.wav"
    args = {
        "check": ("routines", "check", routine),
        "render": ("render", "--routine", routine, "--no-music", "-o", out),
        "start": ("start", "--routine", routine, "--no-music"),
    }[command]
    # start fails before any sound: a server that cannot exist makes sure of it.
    result = invoke(*args, env={"PULSE_SERVER": "unix:/dev/null/none"})
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {routine}: line 13: steps[1].say_audio: {path}: ")
    assert PROBLEMS[kind] in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


# -- the routine's keys, and the plan -------------------------------------------------------

STEP = """\
format = 1
title = "T"
{top}
[[steps]]
id = "one"
title = "One"
{say}
duration = "{duration}"
"""


def parsed(say: str, top: str = "", duration: str = "5m") -> Routine:
    text = STEP.format(top=top, say=say, duration=duration)
    return parse_routine(text, "/r/t.toml", "t")


@pytest.mark.parametrize(
    ("say", "top", "expected"),
    [
        ('say = "Hi."\nsay_audio = "a.ogg"', "", r"line 4: steps\[0\]: give 'say' or 'say_audio'"),
        ("say_audio = 3", "", r"steps\[0\]\.say_audio: expected the path of a sound file"),
        ('say_audio = ["a.ogg"]', "", r"steps\[0\]\.say_audio: expected the path"),
        ('say_audio = ""', "", r"steps\[0\]\.say_audio: expected the path"),
        ("music = true", "", r"missing 'say' \(or 'say_audio'\)"),
        ('say = "Hi."', '[audio]\nstep_numbers = ["a.ogg", "b.ogg"]',
         r"audio\.step_numbers: expected a list of 1 sound files"),
        ('say = "Hi."', '[audio]\nhalfway = "a\\u0007.ogg"', r"audio\.halfway: control character"),
        ('say = "Hi."', '[audio]\nbell = "a.ogg"', r"audio\.bell: unknown key"),
        ('say_audio = "~no-such-user-xyz/a.ogg"', "", r"no such user's home folder"),
        ('say = "Hi."', '[intro]\nsay = "A."\nsay_audio = "a.ogg"', r"intro: give 'say'"),
    ],
)  # fmt: skip
def test_bad_recording_keys(say: str, top: str, expected: str) -> None:
    with pytest.raises(RoutineError, match=expected):
        parsed(say, top)


def test_recordings_are_paths_relative_to_the_routine() -> None:
    routine = parsed(
        'say_audio = "prompts/one.m4a"',
        '[intro]\nsay_audio = ["a.mp3", "/abs/b.wav"]\n[closing]\nsay_audio = "../c.flac"',
    )
    paths = [recording.path for recording in routine.recordings()]
    assert paths == [Path(p) for p in ("/r/a.mp3", "/abs/b.wav", "/r/prompts/one.m4a", "/c.flac")]
    assert routine.recordings()[2].where == "steps[0].say_audio"
    assert routine.recordings()[2].line == 10


def test_the_programs_own_lines_from_the_audio_table() -> None:
    """[audio] gives "Step 1 of 1.", "Halfway there.", "One minute left" and the summary."""
    routine = parsed(
        'say = "Breathe."',
        '[audio]\nstep_numbers = ["n1.ogg"]\nhalfway = "half.ogg"\none_minute = "min.ogg"\n'
        'summary = "end.ogg"',
    )
    lengths = {"n1.ogg": 30_000, "half.ogg": 40_000, "min.ogg": 50_000, "end.ogg": 60_000}

    def frames(line: Line) -> int:
        return lengths[line.path.name] if isinstance(line, Recording) else 44_100

    plan = build_plan(routine, PlanSettings(), frames, 20_000, 30_000)
    spoken = [(c.kind, caption(c.text), c.end_frame - c.start_frame) for c in plan.cues if c.spoken]
    assert spoken == [
        ("announce", "[n1.ogg]", 30_000),
        ("announce", "Breathe.", 44_100),
        ("halfway", "[half.ogg]", 40_000),
        ("one-minute", "[min.ogg]", 50_000),
        ("closing", "[end.ogg]", 60_000),
    ]
    number, words = plan.cues[0], plan.cues[1]
    assert words.start_frame == number.end_frame + PlanSettings().frames(0.4)
    cue = plan.to_json()["cues"][0]
    assert cue["recording"] == "/r/n1.ogg" and cue["text"] == ""


def test_blocks_of_any_size_give_the_same_bytes_with_recordings(recordings) -> None:
    folder, _ = recordings
    routine = folder / "blocks.toml"
    routine.write_text(ROUTINE)
    options = SessionOptions(routine=str(routine), no_music=True)
    session = prepare_session(Config(), options, Paths.from_environment(), lambda _m: None)
    try:
        total = session.plan.total_frames
        renderer = session.renderer
        whole = renderer.render(0, total)
        blocks = np.concatenate(
            [renderer.render(f, min(4_099, total - f)) for f in range(0, total, 4_099)]
        )
        assert np.array_equal(whole, blocks)
    finally:
        session.close()
