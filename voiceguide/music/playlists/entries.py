"""What a playlist file holds once read: local entries, and where each came from."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from voiceguide.errors import one_line

_SHOWN_CHARS = 200
"""How much of a skipped location a warning shows."""
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


@dataclass(frozen=True)
class PlaylistEntry:
    """One local file named by a playlist (it may be missing or unplayable)."""

    path: Path
    """Absolute, lexically normalised; symlinks are not resolved."""
    title: str | None = None
    """The display title from `#EXTINF` or `TitleN=`, usually "Artist - Title"."""
    duration_seconds: float | None = None
    """The length the playlist claims (`#EXTINF`/`LengthN=`); None when unknown."""
    line: int | None = None
    """1-based line in the playlist file it was read from, for messages."""
    playlist: Path | None = None
    """The playlist file it was read from, for messages."""


@dataclass
class ParsedPlaylist:
    """The entries of one playlist file plus warnings about lines that were skipped."""

    source: Path
    entries: list[PlaylistEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RemoteLocation:
    """A location with a scheme other than file:// (http, https, rtsp, ...): never fetched."""

    url: str
    scheme: str


@dataclass(frozen=True)
class UnusableLocation:
    """A location no file can have (a NUL byte, a line break): skipped, never opened."""

    text: str
    problem: str


def parse_location(text: str, base_dir: Path) -> Path | RemoteLocation | UnusableLocation:
    """Turn one playlist location into an absolute local path, or flag it as remote or
    unusable.

    Handles absolute and relative paths (relative to `base_dir`, the playlist's folder),
    percent-encoded `file://` URIs, Windows backslash separators and a leading `~`.
    """
    match = _SCHEME.match(text)
    # A one-letter "scheme" is a Windows drive ("C:\\Music"), not a URL.
    if match and len(match.group(1)) > 1:
        scheme = match.group(1).lower()
        if scheme != "file":
            return RemoteLocation(text, scheme)
        path_text = _file_uri_path(text)
    else:
        path_text = os.path.expanduser(text.replace("\\", "/"))
    problem = path_problem(path_text)
    if problem is not None:
        return UnusableLocation(text, problem)
    return _absolute(Path(path_text), base_dir)


def path_problem(path_text: str) -> str | None:
    """Why no file can have this name (a NUL byte, a line break), or None."""
    if "\x00" in path_text:
        return "a file name cannot hold a NUL byte"
    if "\n" in path_text or "\r" in path_text:
        return "a line break in a file name cannot be stored in a playlist (one name per line)"
    return None


def _file_uri_path(uri: str) -> str:
    parts = urlsplit(uri)
    path = unquote(parts.path)
    if parts.netloc not in ("", "localhost"):
        # file://server/share/x.mp3 names a network share; the closest local reading.
        path = f"//{parts.netloc}{path}"
    # file:///C:/Music/x.mp3 -> C:/Music/x.mp3 (left as is: such a path is not local here).
    if re.match(r"^/[A-Za-z]:/", path):
        path = path[1:]
    return path


def _absolute(path: Path, base_dir: Path) -> Path:
    # normpath, not resolve(): players read "../x.mp3" lexically, and symlinks stay as named.
    return Path(os.path.normpath(base_dir / path))


def split_display_title(title: str | None) -> tuple[str | None, str | None]:
    """Split "Artist - Title" into (artist, title); a title without " - " has no artist."""
    if not title:
        return None, None
    artist, sep, name = title.partition(" - ")
    if sep and artist.strip() and name.strip():
        return artist.strip(), name.strip()
    return None, title.strip()


def display_title(artist: str | None, title: str | None) -> str | None:
    """The "Artist - Title" form written after `#EXTINF:seconds,`."""
    if artist and title:
        return f"{artist} - {title}"
    return title or None


def remote_warning(playlist: Path, line: int, location: RemoteLocation | UnusableLocation) -> str:
    """The warning for a skipped remote or unusable entry: names the playlist file and line."""
    if isinstance(location, UnusableLocation):
        shown = one_line(location.text[:_SHOWN_CHARS])
        more = "..." if len(location.text) > _SHOWN_CHARS else ""
        return f"{playlist}:{line}: skipped {shown}{more}: {location.problem}"
    return (
        f"{playlist}:{line}: skipped {location.url}: only local files are played "
        f"({location.scheme} links are not fetched)"
    )


def positive_seconds(text: str | None) -> float | None:
    """A playlist's claimed length; -1, 0, junk and non-finite values mean unknown."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 and math.isfinite(value) else None
