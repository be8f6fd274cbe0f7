"""Audio made inside the tests (never committed) and a subprocess runner that counts calls.

Other test_playlist_* modules import these helpers; the tests here check the helpers.
"""

from __future__ import annotations

import json
import random
import subprocess
from collections.abc import Sequence
from pathlib import Path

from voiceguide.music.playlists.tools import run_command


def make_tone(
    path: Path,
    seconds: float = 2.0,
    *,
    level_dbfs: float = -18.0,
    frequency_hz: float = 440.0,
    title: str | None = None,
    artist: str | None = None,
) -> Path:
    """A mono sine of the given peak level, encoded by the file's extension."""
    amplitude = 10 ** (level_dbfs / 20)
    source = f"aevalsrc={amplitude:.6f}*sin(2*PI*{frequency_hz}*t):s=44100:d={seconds}"
    args = ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", source]
    for key, value in (("title", title), ("artist", artist)):
        if value is not None:
            args += ["-metadata", f"{key}={value}"]
    if path.suffix == ".m4a":
        args += ["-c:a", "aac"]
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([*args, "-y", str(path)], check=True)
    return path


def make_silence(path: Path, seconds: float = 2.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
         "anullsrc=r=44100:cl=mono", "-t", str(seconds), "-y", str(path)],
        check=True,
    )  # fmt: skip
    return path


def make_corrupt_mp3(path: Path, size_bytes: int = 20_000) -> Path:
    """Random bytes (seeded, so every run is the same) under an .mp3 name."""
    path.write_bytes(random.Random(1234).randbytes(size_bytes))
    return path


def apply_gain(source: Path, target: Path, gain_db: float) -> Path:
    """A copy of `source` with `gain_db` applied, as float WAV (no clipping)."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(source), "-af",
         f"volume={gain_db}dB", "-c:a", "pcm_f32le", "-y", str(target)],
        check=True,
    )  # fmt: skip
    return target


class CountingRunner:
    """Runs commands like the real runner, recording each one."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(args))
        return run_command(args)

    def count(self, program: str) -> int:
        return sum(1 for call in self.calls if call[0] == program)


def test_make_tone_writes_each_format_with_the_asked_length(tmp_path: Path) -> None:
    for suffix in (".mp3", ".ogg", ".flac", ".m4a", ".wav"):
        path = make_tone(tmp_path / f"tone{suffix}", 1.5, title="T", artist="A")
        done = run_command(
            ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", str(path)]
        )
        seconds = float(json.loads(done.stdout)["format"]["duration"])
        assert abs(seconds - 1.5) < 0.1, suffix


def test_counting_runner_counts_by_program(tmp_path: Path) -> None:
    runner = CountingRunner()
    runner(["ffprobe", "-version"])
    runner(["ffmpeg", "-version"])
    runner(["ffprobe", "-version"])
    assert runner.count("ffprobe") == 2
    assert runner.count("ffmpeg") == 1
