"""EBU R128 loudness of a file (ffmpeg `ebur128`), cached, and the gain to a target."""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceguide.audioformat import CHANNELS, MIX_RATE_HZ
from voiceguide.music.playlists.filecache import FileResultCache
from voiceguide.music.playlists.probe import UnplayableError
from voiceguide.music.playlists.tools import RunCommand, last_line, run_command

log = logging.getLogger(__name__)

DEFAULT_TARGET_LUFS = -20.0
"""Music under speech: quiet enough to talk over, a little under typical speech level."""
PEAK_CEILING_DBFS = -2.0
"""Sample peak after gain stays at or below this. True peak (4x oversampled) would be the
textbook measure, but it makes the analysis 2.3x slower (measured, BENCHMARKS.md); inter-sample
peaks of music rarely exceed the sample peak by 1 dB, so this ceiling keeps about -1 dBTP, and
the renderer's limiter catches what is left."""
SILENCE_LUFS = -70.0
"""ffmpeg reports -70 LUFS when every block is below the BS.1770 absolute gate."""

_SUMMARY_I = re.compile(r"^\s*I:\s*(-?inf|-?[0-9.]+)\s*LUFS", re.MULTILINE)
_SUMMARY_PEAK = re.compile(r"^\s*Peak:\s*(-?inf|-?[0-9.]+)\s*dB", re.MULTILINE)
_OUT_TIME_US = re.compile(r"^out_time_us=(\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Loudness:
    """Integrated loudness and sample peak, measured as the mix will play the file."""

    integrated_lufs: float
    peak_dbfs: float
    """Sample peak; -inf for digital silence."""
    decoded_frames: int | None = None
    """How many frames ffmpeg decodes from the file at the mix rate: the length the music
    stream plays. ffprobe's duration can be longer (an mp3's encoder delay and padding:
    about 36 ms), which at a hard cut between tracks would be a gap of silence."""

    @property
    def is_silent(self) -> bool:
        return not self.integrated_lufs > SILENCE_LUFS


def ebur128_command(path: Path) -> list[str]:
    """ffmpeg measuring the file after conversion to the mix format (44.1 kHz stereo).

    Measuring after the conversion the music stream makes means mono files are judged
    as they will sound (ffmpeg spreads mono at -3 dB per side) and the peak is checked
    at the rate that will be played. `framelog=verbose` keeps the per-100 ms lines out
    of stderr, so a long file does not produce megabytes of log; the Summary remains.
    `-progress pipe:2` adds, at the end, how long the decoded sound was (`out_time_us`).
    """
    layout = "stereo" if CHANNELS == 2 else "mono"
    graph = (
        f"aformat=sample_rates={MIX_RATE_HZ}:channel_layouts={layout},"
        "ebur128=peak=sample:framelog=verbose"
    )
    absolute = os.path.abspath(path)
    return [
        "ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", absolute,
        "-map", "0:a:0", "-af", graph, "-f", "null", "-", "-progress", "pipe:2",
    ]  # fmt: skip


def parse_ebur128_summary(stderr: str) -> Loudness:
    """Integrated loudness and sample peak from the Summary the ebur128 filter prints, and
    the decoded length from the last `out_time_us` of ffmpeg's progress report, if any
    (microseconds, finer than a frame: rounding gives the frame count back)."""
    start = stderr.rfind("Summary:")
    if start < 0:
        raise ValueError("no ebur128 summary in ffmpeg's output")
    summary = stderr[start:]
    integrated = _SUMMARY_I.search(summary)
    peak = _SUMMARY_PEAK.search(summary)
    if integrated is None or peak is None:
        raise ValueError("incomplete ebur128 summary in ffmpeg's output")
    out_times = _OUT_TIME_US.findall(stderr)
    decoded = round(int(out_times[-1]) * MIX_RATE_HZ / 1_000_000) if out_times else None
    return Loudness(float(integrated.group(1)), float(peak.group(1)), decoded)


def measure_loudness(path: Path, run: RunCommand = run_command) -> Loudness:
    """Decode the whole file once through ffmpeg's ebur128 filter (one subprocess)."""
    done = run(ebur128_command(path))
    if done.returncode != 0:
        raise UnplayableError(
            f"cannot be decoded (ffmpeg: {last_line(done.stderr, os.path.abspath(path))})",
            lasting=done.returncode > 0,
        )
    try:
        return parse_ebur128_summary(done.stderr)
    except ValueError as err:
        raise UnplayableError(f"cannot be measured ({err})") from err


def gain_db_for(
    loudness: Loudness,
    target_lufs: float = DEFAULT_TARGET_LUFS,
    peak_ceiling_dbfs: float = PEAK_CEILING_DBFS,
) -> float:
    """Gain in dB that brings the file to `target_lufs`, lowered so that its sample peak
    stays at or below `peak_ceiling_dbfs`. Silence gets 0 dB (there is nothing to match)."""
    if loudness.is_silent:
        return 0.0
    gain_db = target_lufs - loudness.integrated_lufs
    if math.isfinite(loudness.peak_dbfs):
        gain_db = min(gain_db, peak_ceiling_dbfs - loudness.peak_dbfs)
    return round(gain_db, 2)


class LoudnessMeter:
    """`measure_loudness` with a cache keyed by (path, size, mtime_ns)."""

    def __init__(self, cache_file: Path, run: RunCommand = run_command) -> None:
        self.cache = FileResultCache(cache_file, "loudness")
        self.run = run

    def measure(self, path: Path) -> Loudness:
        """The file's loudness; UnplayableError if ffmpeg cannot decode it."""
        cached = _from_record(self.cache.get(path))
        if isinstance(cached, UnplayableError):
            raise cached
        if cached is not None:
            return cached
        try:
            loudness = measure_loudness(path, self.run)
        except UnplayableError as err:
            if err.lasting:
                self.cache.put(path, {"ok": False, "reason": str(err)})
            raise
        self.cache.put(
            path,
            {
                "ok": True,
                # JSON has no -inf: None stands for it.
                "integrated_lufs": _finite_or_none(loudness.integrated_lufs),
                "peak_dbfs": _finite_or_none(loudness.peak_dbfs),
                "decoded_frames": loudness.decoded_frames,
            },
        )
        return loudness

    def save(self) -> None:
        self.cache.save()


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _from_record(record: dict[str, Any] | None) -> Loudness | UnplayableError | None:
    if record is None:
        return None
    if record.get("ok") is False and isinstance(record.get("reason"), str):
        return UnplayableError(record["reason"])
    if record.get("ok") is not True:
        return None
    if "peak_dbfs" not in record or "decoded_frames" not in record:
        return None  # from an older version (true peak; no decoded length): measure again
    values = [record.get("integrated_lufs"), record.get("peak_dbfs")]
    if not all(value is None or isinstance(value, int | float) for value in values):
        return None
    decoded = record["decoded_frames"]
    if decoded is not None and (not isinstance(decoded, int) or decoded < 0):
        return None
    integrated, peak = (-math.inf if value is None else float(value) for value in values)
    return Loudness(integrated, peak, decoded)
