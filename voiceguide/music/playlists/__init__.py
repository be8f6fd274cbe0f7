"""Playlists: named M3U8 playlists, playlist files, folders, and the Tracks they resolve to.

`resolve_tracks` is what the music stream calls; `manage` holds the `playlist` commands.
"""

from voiceguide.music.playlists.entries import ParsedPlaylist, PlaylistEntry
from voiceguide.music.playlists.loudness import DEFAULT_TARGET_LUFS, Loudness, gain_db_for
from voiceguide.music.playlists.resolve import read_source, resolve_tracks, shuffle_tracks
from voiceguide.music.playlists.store import PlaylistStore

__all__ = [
    "DEFAULT_TARGET_LUFS",
    "Loudness",
    "ParsedPlaylist",
    "PlaylistEntry",
    "PlaylistStore",
    "gain_db_for",
    "read_source",
    "resolve_tracks",
    "shuffle_tracks",
]
