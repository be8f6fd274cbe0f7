"""Which files are playlists, and reading one by its extension."""

from __future__ import annotations

from pathlib import Path

from voiceguide.errors import BadInputError
from voiceguide.music.playlists.entries import ParsedPlaylist
from voiceguide.music.playlists.m3u import parse_m3u
from voiceguide.music.playlists.pls import parse_pls

PLAYLIST_SUFFIXES = (".m3u", ".m3u8", ".pls")


def is_playlist_path(path: Path) -> bool:
    return path.suffix.lower() in PLAYLIST_SUFFIXES


def read_playlist_file(path: Path) -> ParsedPlaylist:
    """Parse an .m3u, .m3u8 or .pls file (PlaylistFileError if it cannot be parsed at all)."""
    suffix = path.suffix.lower()
    if suffix == ".pls":
        return parse_pls(path)
    if suffix in (".m3u", ".m3u8"):
        return parse_m3u(path)
    raise BadInputError(f"{path}: not a playlist file (expected .m3u, .m3u8 or .pls)")
