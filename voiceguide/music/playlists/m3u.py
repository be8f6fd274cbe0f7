"""M3U and M3U8 playlists: read the real-world variants, write plain `#EXTM3U` UTF-8."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from voiceguide.files import SHARED_MODE, write_own_file
from voiceguide.music.playlists.entries import (
    ParsedPlaylist,
    PlaylistEntry,
    parse_location,
    positive_seconds,
    remote_warning,
)
from voiceguide.music.playlists.textfile import read_lines

log = logging.getLogger(__name__)

_EXTINF = re.compile(r"^#EXTINF:\s*(-?[0-9]+(?:\.[0-9]*)?)?[^,]*(?:,(.*))?$", re.IGNORECASE)


def parse_m3u(path: Path) -> ParsedPlaylist:
    """Read an .m3u/.m3u8 file: `#EXTINF` titles and lengths, paths, file:// URIs.

    Blank lines and other `#` comments are ignored; relative paths are relative to the
    playlist's folder; remote URLs are skipped with a warning naming file and line.
    A `.m3u` not in UTF-8 is read as Latin-1; a `.m3u8` too, but with a warning.
    """
    lines, warnings = read_lines(path, warn_on_fallback=path.suffix.lower() == ".m3u8")
    parsed = ParsedPlaylist(source=path, warnings=warnings)
    base_dir = Path(os.path.abspath(path)).parent
    pending_title: str | None = None
    pending_seconds: float | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            extinf = _EXTINF.match(line)
            if extinf:
                pending_seconds = positive_seconds(extinf.group(1))
                pending_title = (extinf.group(2) or "").strip() or None
            continue
        location = parse_location(line, base_dir)
        if not isinstance(location, Path):  # remote, or no file can have that name
            parsed.warnings.append(remote_warning(path, number, location))
        else:
            parsed.entries.append(
                PlaylistEntry(location, pending_title, pending_seconds, number, path)
            )
        pending_title = pending_seconds = None
    log.debug("read %d entries from %s", len(parsed.entries), path)
    return parsed


def format_m3u8(entries: Iterable[PlaylistEntry], *, relative_to: Path | None = None) -> str:
    """The text of an `#EXTM3U` playlist, one `#EXTINF:seconds,title` line per entry.

    Paths are absolute, except that with `relative_to` (the folder the playlist will
    live in) files inside that folder are written relative to it, with forward slashes.
    """
    out = ["#EXTM3U"]
    for entry in entries:
        seconds = -1 if entry.duration_seconds is None else round(entry.duration_seconds)
        title = entry.title if entry.title is not None else entry.path.stem
        out.append(f"#EXTINF:{seconds},{_one_line(title)}")
        out.append(_written_path(entry.path, relative_to))
    return "\n".join(out) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _written_path(path: Path, relative_to: Path | None) -> str:
    if relative_to is not None:
        folder = Path(os.path.abspath(relative_to))
        if path.is_relative_to(folder):
            return path.relative_to(folder).as_posix()
    return path.as_posix()


def write_m3u8(
    path: Path, entries: Iterable[PlaylistEntry], *, relative_to: Path | None = None
) -> None:
    """Write a stored playlist: a UTF-8 `#EXTM3U` file, replaced whole (never half-written)."""
    # Readable by others: any music player of the user's may open it.
    write_own_file(path, format_m3u8(entries, relative_to=relative_to), mode=SHARED_MODE)
