"""Is a file playable audio, and how long is it: one ffprobe per file, results cached."""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from voiceguide.music.playlists.filecache import FileResultCache
from voiceguide.music.playlists.tools import RunCommand, last_line, run_command
from voiceguide.paths import Paths

log = logging.getLogger(__name__)

MIN_TRACK_SECONDS = 1.0
"""Shorter files are skipped: too short to be music, usually a broken or stub file."""


def probe_cache_file(paths: Paths) -> Path:
    return paths.cache_dir / "probe.json"


@dataclass(frozen=True)
class ProbeInfo:
    """What ffprobe says about a playable file."""

    duration_seconds: float
    title: str | None = None
    artist: str | None = None


class UnplayableError(Exception):
    """One file cannot be played; the message says why (shown as a warning, then skipped)."""

    def __init__(self, reason: str, *, lasting: bool = True) -> None:
        super().__init__(reason)
        self.lasting = lasting
        """False when the failure may pass (a timeout): such results are not cached."""


def check_file(path: Path) -> str | None:
    """Why `path` cannot be an audio file before asking ffprobe, or None if it may be one."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "file not found"
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    if path.is_dir():
        return "is a folder, not an audio file"
    if not path.is_file():
        return "not a regular file"
    if info.st_size == 0:
        return "empty file (0 bytes)"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def ffprobe_command(path: Path) -> list[str]:
    # An absolute path never starts with "-" or looks like an ffmpeg protocol ("name:").
    absolute = os.path.abspath(path)
    return [
        "ffprobe", "-v", "error", "-print_format", "json",
        "-show_format", "-show_streams", "-select_streams", "a", absolute,
    ]  # fmt: skip


def run_ffprobe(path: Path, run: RunCommand = run_command) -> ProbeInfo:
    """Probe one file (one subprocess); UnplayableError says why it cannot be played."""
    reason = check_file(path)
    if reason is not None:
        raise UnplayableError(reason)
    done = run(ffprobe_command(path))
    if done.returncode != 0:
        detail = last_line(done.stderr, os.path.abspath(path))
        raise UnplayableError(
            f"not playable audio: damaged, or not audio at all (ffprobe: {detail})",
            lasting=done.returncode > 0,
        )
    return parse_ffprobe_json(done.stdout)


def parse_ffprobe_json(text: str) -> ProbeInfo:
    """Duration and tags from `ffprobe -print_format json -show_format -show_streams`."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise UnplayableError("not playable audio (ffprobe gave no readable answer)") from err
    fmt = data.get("format") or {}
    streams = [s for s in data.get("streams") or [] if s.get("codec_type") == "audio"]
    if not streams:
        raise UnplayableError("not playable audio (no audio stream)")
    seconds = _number(fmt.get("duration"))
    if seconds is None:
        seconds = _number(streams[0].get("duration"))
    if seconds is None:
        raise UnplayableError("not playable audio (its length is unknown)")
    # Tags sit on the container (mp3, m4a, flac) or on the stream (ogg, opus).
    tags = _lower_keys(streams[0].get("tags")) | _lower_keys(fmt.get("tags"))
    return ProbeInfo(seconds, _tag(tags, "title"), _tag(tags, "artist"))


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _lower_keys(tags: Any) -> dict[str, str]:
    if not isinstance(tags, dict):
        return {}
    return {str(key).lower(): str(value) for key, value in tags.items()}


def _tag(tags: dict[str, str], name: str) -> str | None:
    value = " ".join(tags.get(name, "").split())
    return value or None


class Prober:
    """`run_ffprobe` with a cache keyed by (path, size, mtime_ns); failures are cached too."""

    def __init__(self, cache_file: Path, run: RunCommand = run_command) -> None:
        self.cache = FileResultCache(cache_file, "probe")
        self.run = run

    def probe(self, path: Path) -> ProbeInfo:
        """ProbeInfo for a playable file; UnplayableError (with the reason) otherwise."""
        reason = check_file(path)
        if reason is not None:
            # Cheap checks are never cached: the file may appear or become readable later.
            raise UnplayableError(reason)
        cached = _from_record(self.cache.get(path))
        if isinstance(cached, UnplayableError):
            raise cached
        if cached is not None:
            return cached
        try:
            info = run_ffprobe(path, self.run)
        except UnplayableError as err:
            if err.lasting:
                self.cache.put(path, {"ok": False, "reason": str(err)})
            raise
        self.cache.put(path, {"ok": True, **asdict(info)})
        return info

    def save(self) -> None:
        self.cache.save()


def _from_record(record: dict[str, Any] | None) -> ProbeInfo | UnplayableError | None:
    """A cached result; None when there is none or it is malformed (then probe again)."""
    if record is None:
        return None
    if record.get("ok") is False and isinstance(record.get("reason"), str):
        return UnplayableError(record["reason"])
    seconds = _number(record.get("duration_seconds"))
    title, artist = record.get("title"), record.get("artist")
    if record.get("ok") is not True or seconds is None:
        return None
    return ProbeInfo(
        seconds,
        title if isinstance(title, str) else None,
        artist if isinstance(artist, str) else None,
    )
