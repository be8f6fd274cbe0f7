"""Turning playlist entries into playable Tracks: probe, length check, loudness, gain."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from voiceguide.audioformat import seconds_to_frames
from voiceguide.music.playlists.entries import PlaylistEntry, split_display_title
from voiceguide.music.playlists.loudness import (
    DEFAULT_TARGET_LUFS,
    Loudness,
    LoudnessMeter,
    gain_db_for,
)
from voiceguide.music.playlists.probe import (
    MIN_TRACK_SECONDS,
    ProbeInfo,
    Prober,
    UnplayableError,
    probe_cache_file,
)
from voiceguide.music.playlists.tools import RunCommand, run_command
from voiceguide.music.track import Track
from voiceguide.paths import Paths

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called as (files done, files in all) while files are examined."""

DEFAULT_WORKERS = 4
"""ffprobe/ffmpeg run in parallel: a first loudness pass over a long playlist is CPU-bound."""


@dataclass(frozen=True)
class Analysis:
    """One entry checked: a Track if it can be played, otherwise the reason it cannot."""

    entry: PlaylistEntry
    track: Track | None
    problem: str | None = None
    probe: ProbeInfo | None = None


@dataclass(frozen=True)
class _FileResult:
    probe: ProbeInfo | None
    loudness: Loudness | None
    problem: str | None


class TrackAnalyser:
    """Probes and measures files once each (cached on disk), in a few worker threads."""

    def __init__(
        self,
        paths: Paths,
        *,
        run: RunCommand = run_command,
        max_workers: int | None = None,
        on_progress: Progress | None = None,
    ) -> None:
        self.prober = Prober(probe_cache_file(paths), run)
        self.meter = LoudnessMeter(paths.loudness_cache_file, run)
        self.max_workers = max_workers or min(DEFAULT_WORKERS, os.cpu_count() or 1)
        self.on_progress = on_progress

    def analyse(
        self, entries: Sequence[PlaylistEntry], *, target_lufs: float = DEFAULT_TARGET_LUFS
    ) -> list[Analysis]:
        """One Analysis per entry, in order; each distinct file is examined once."""
        unique = list(dict.fromkeys(entry.path for entry in entries))
        results: dict[Path, _FileResult] = {}
        try:
            with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
                for path, result in zip(unique, pool.map(self._examine, unique), strict=True):
                    results[path] = result
                    if self.on_progress is not None:
                        self.on_progress(len(results), len(unique))
        finally:
            # Whatever was measured stays measured, even if the session was interrupted.
            self.prober.save()
            self.meter.save()
        return [_analysis(entry, results[entry.path], target_lufs) for entry in entries]

    def _examine(self, path: Path) -> _FileResult:
        try:
            info = self.prober.probe(path)
        except UnplayableError as err:
            return _FileResult(None, None, str(err))
        if info.duration_seconds < MIN_TRACK_SECONDS:
            problem = (
                f"too short ({info.duration_seconds:.2f} s; tracks under "
                f"{MIN_TRACK_SECONDS:g} s are skipped)"
            )
            return _FileResult(info, None, problem)
        try:
            loudness = self.meter.measure(path)
        except UnplayableError as err:
            return _FileResult(info, None, str(err))
        if loudness.is_silent:
            return _FileResult(info, loudness, "silent (no measurable loudness)")
        return _FileResult(info, loudness, None)


def _analysis(entry: PlaylistEntry, result: _FileResult, target_lufs: float) -> Analysis:
    if result.problem is not None or result.probe is None or result.loudness is None:
        return Analysis(entry, None, result.problem or "not playable", result.probe)
    info = result.probe
    artist, title = info.artist, info.title
    if title is None:
        # No tags: fall back to the playlist's "Artist - Title", if it had one.
        listed_artist, title = split_display_title(entry.title)
        artist = artist or listed_artist
    track = Track(
        path=entry.path,
        duration_frames=result.loudness.decoded_frames or seconds_to_frames(info.duration_seconds),
        gain_db=gain_db_for(result.loudness, target_lufs),
        title=title,
        artist=artist,
    )
    return Analysis(entry, track, None, info)


def skip_warning(entry: PlaylistEntry, problem: str) -> str:
    """ "<playlist>:<line>: <file>: skipped: <why>" (the playlist part only when known)."""
    where = f"{entry.playlist}:{entry.line}: " if entry.playlist and entry.line else ""
    return f"{where}{entry.path}: skipped: {problem}"
