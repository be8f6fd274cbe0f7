"""Own chimes: `chime` and `end_chime` in config.toml or a routine's [audio], in the render at
each step's end; a file that cannot be used is one warning, and the bundled chime plays."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voiceguide.audioclip import load_clip
from voiceguide.audioformat import INT16_FULL_SCALE, MIX_RATE_HZ
from voiceguide.mix.chimes import CHIME_MAX_SECONDS
from voiceguide.music import bundled
from voiceguide.paths import Paths

from audio_helpers import read_wav
from cli_helpers import invoke

ROUTINE = """\
format = 1
title = "Chimes"

[[steps]]
id = "one"
title = "One"
say = "First."
duration = "8s"

[[steps]]
id = "two"
title = "Two"
say = "Second."
duration = "8s"
{audio}
"""


def make_bell(
    path: Path, hz: float, seconds: float, lead_seconds: float = 0.3, decay: bool = True
) -> Path:
    """A (decaying) tone after `lead_seconds` of silence, by ffmpeg, in `path`'s format."""
    fade = f"afade=t=out:st=0.05:d={seconds - 0.05}:curve=exp," if decay else ""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={hz}:sample_rate=48000:duration={seconds}",
         "-af", f"{fade}adelay={round(lead_seconds * 1000)}:all=1,volume=0.3",
         "-ac", "2", str(path)],
        check=True,
    )  # fmt: skip
    return path


def own_clip(path: Path, like: str) -> np.ndarray:
    """The chime as voiceguide makes it: at the bundled chime's peak (from the same cache)."""
    peak = int(np.abs(bundled.load_chime(like).astype(np.int32)).max())
    return load_clip(
        path,
        peak_dbfs=20 * math.log10(peak / INT16_FULL_SCALE),
        max_seconds=CHIME_MAX_SECONDS,
        cut_longer=True,
        cache_dir=Paths.from_environment().clip_cache_dir,
    ).samples


def render(folder: Path, home: Path, config: str = "", audio: str = "") -> tuple:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(config)
    routine = folder / "chimes.toml"
    routine.write_text(ROUTINE.format(audio=audio))
    out, cues = folder / "out.wav", folder / "cues.json"
    result = invoke(
        "render", "--routine", routine, "--no-music", "-o", out, "--cues-json", cues, "--force"
    )
    assert result.returncode == 0, result.stderr
    audio_out, _ = read_wav(out)
    return audio_out, json.loads(cues.read_text()), result.stderr


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.astype(np.float64).ravel(), b.astype(np.float64).ravel())[0, 1])


def chime_cues(plan: dict, kind: str) -> list[dict]:
    return [cue for cue in plan["cues"] if cue["kind"] == kind]


def test_own_chimes_from_config_sound_at_each_step_end(tmp_path: Path, voiceguide_home) -> None:
    bell = make_bell(tmp_path / "bell.ogg", 880, 1.2)
    (tmp_path / "sounds").mkdir()
    end = make_bell(tmp_path / "sounds" / "end.flac", 523, 2.0)
    config = f'chime = "{bell}"\nend_chime = "{end}"\n'
    audio, plan, stderr = render(tmp_path, voiceguide_home, config)
    assert "warning" not in stderr
    chime, end_chime = own_clip(bell, bundled.CHIME_FILE), own_clip(end, bundled.END_CHIME_FILE)
    steps = chime_cues(plan, "chime")
    assert len(steps) == 2
    for cue in steps:
        start, stop = cue["start_frame"], cue["end_frame"]
        assert stop - start == len(chime)
        assert correlation(audio[start:stop], chime) >= 0.99
        # The file's 0.3 s of silence is gone: the bell starts at the cue.
        assert np.abs(audio[start : start + 220].astype(np.int32)).max() > 300
    (last,) = chime_cues(plan, "end-chime")
    assert last["end_frame"] - last["start_frame"] == len(end_chime)
    assert correlation(audio[last["start_frame"] : last["end_frame"]], end_chime) >= 0.99
    # At the bundled chime's peak (and the chime level of the mix), not the file's.
    bundled_peak = np.abs(bundled.load_chime(bundled.CHIME_FILE).astype(np.int32)).max()
    assert np.abs(chime.astype(np.int32)).max() == pytest.approx(bundled_peak, abs=2)


def test_a_routines_chime_comes_before_the_configs(tmp_path: Path, voiceguide_home) -> None:
    in_config = make_bell(tmp_path / "config-bell.wav", 880, 1.0)
    (tmp_path / "sounds").mkdir()
    in_routine = make_bell(tmp_path / "sounds" / "routine-bell.mp3", 660, 1.0)
    audio, plan, stderr = render(
        tmp_path,
        voiceguide_home,
        f'chime = "{in_config}"\n',
        '[audio]\nchime = "sounds/routine-bell.mp3"',
    )
    assert "warning" not in stderr
    chime = own_clip(in_routine, bundled.CHIME_FILE)
    for cue in chime_cues(plan, "chime"):
        assert correlation(audio[cue["start_frame"] : cue["end_frame"]], chime) >= 0.99


@pytest.mark.parametrize("kind", ["corrupt", "missing", "empty"])
def test_a_bad_chime_is_one_warning_and_the_bundled_chime(
    tmp_path: Path, voiceguide_home, kind: str
) -> None:
    bell = tmp_path / "bell.ogg"
    if kind == "corrupt":
        bell.write_bytes(b"OggS" + bytes(range(256)) * 20)
    elif kind == "empty":
        bell.write_bytes(b"")
    audio, plan, stderr = render(tmp_path, voiceguide_home, f'chime = "{bell}"\n')
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    config_file = voiceguide_home / "config" / "config.toml"
    assert len(warnings) == 1, stderr
    assert warnings[0].startswith(f"warning: {config_file}: chime: {bell}: ")
    assert warnings[0].endswith("; the bundled chime plays instead")
    chime = bundled.load_chime(bundled.CHIME_FILE)
    steps = chime_cues(plan, "chime")
    assert len(steps) == 2
    for cue in steps:
        assert cue["end_frame"] - cue["start_frame"] == len(chime)
        assert correlation(audio[cue["start_frame"] : cue["end_frame"]], chime) >= 0.99


def test_a_chime_longer_than_5_s_is_cut_with_a_warning(tmp_path: Path, voiceguide_home) -> None:
    long_bell = make_bell(tmp_path / "long.wav", 440, 8.0, lead_seconds=0.0, decay=False)
    audio, plan, stderr = render(tmp_path, voiceguide_home, f'end_chime = "{long_bell}"\n')
    assert f"{long_bell}: longer than 5 s; cut to that" in stderr
    (last,) = chime_cues(plan, "end-chime")
    frames = last["end_frame"] - last["start_frame"]
    assert 4.9 * MIX_RATE_HZ < frames <= CHIME_MAX_SECONDS * MIX_RATE_HZ
    chime = audio[last["start_frame"] : last["end_frame"]].astype(np.int32)
    # Faded out over its last 0.25 s, not cut off with a click.
    assert np.abs(chime[-441:]).max() < 0.05 * np.abs(chime[:MIX_RATE_HZ]).max()


def test_routines_check_warns_about_a_routines_bad_chime(tmp_path: Path) -> None:
    routine = tmp_path / "chimes.toml"
    routine.write_text(ROUTINE.format(audio='[audio]\nend_chime = "nowhere.ogg"'))
    result = invoke("routines", "check", routine)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        f"warning: {routine}: audio.end_chime: {tmp_path / 'nowhere.ogg'}: cannot read sound"
        " file: No such file or directory; the bundled chime plays instead"
    )
    assert "ok: Chimes, 2 steps" in result.stdout


def test_render_never_writes_over_an_own_chime(tmp_path: Path, voiceguide_home) -> None:
    bell = make_bell(tmp_path / "bell.ogg", 880, 1.0)
    before = bell.read_bytes()
    (voiceguide_home / "config").mkdir(parents=True, exist_ok=True)
    (voiceguide_home / "config" / "config.toml").write_text(f'chime = "{bell}"\n')
    routine = tmp_path / "chimes.toml"
    routine.write_text(ROUTINE.format(audio=""))
    result = invoke("render", "--routine", routine, "--no-music", "-o", bell, "--force")
    assert result.returncode == 2, result.stderr
    assert str(bell) in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert bell.read_bytes() == before
