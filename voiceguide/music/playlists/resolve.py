"""From what the user named (playlist name, playlist file, audio file, folder) to Tracks."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from voiceguide.errors import BadInputError
from voiceguide.music.playlists.analyse import TrackAnalyser, skip_warning
from voiceguide.music.playlists.entries import ParsedPlaylist, PlaylistEntry
from voiceguide.music.playlists.loudness import DEFAULT_TARGET_LUFS
from voiceguide.music.playlists.playlistfile import (
    PLAYLIST_SUFFIXES,
    is_playlist_path,
    read_playlist_file,
)
from voiceguide.music.playlists.scan import AUDIO_SUFFIXES, is_audio_path, scan_folder
from voiceguide.music.playlists.store import PlaylistStore
from voiceguide.music.playlists.tools import RunCommand, run_command
from voiceguide.music.track import Track
from voiceguide.paths import Paths

log = logging.getLogger(__name__)


def read_path(path: Path) -> ParsedPlaylist:
    """The entries a folder, playlist file or audio file stands for.

    BadInputError for a path that is none of these (or does not exist).
    """
    absolute = Path(os.path.abspath(path.expanduser()))
    if absolute.is_dir():
        files, warnings = scan_folder(absolute)
        return ParsedPlaylist(absolute, [PlaylistEntry(file) for file in files], warnings)
    if is_playlist_path(absolute) and absolute.is_file():
        return read_playlist_file(absolute)
    if is_audio_path(absolute):
        if not absolute.exists():
            raise BadInputError(f"{path}: no such file")
        return ParsedPlaylist(absolute, [PlaylistEntry(absolute)])
    if not absolute.exists():
        raise BadInputError(f"{path}: no such file or folder")
    raise BadInputError(
        f"{path}: not an audio file, playlist or folder (audio: "
        f"{', '.join(AUDIO_SUFFIXES)}; playlists: {', '.join(PLAYLIST_SUFFIXES)})"
    )


def read_paths(inputs: Iterable[Path]) -> tuple[list[PlaylistEntry], list[str]]:
    """The entries of several folders, playlist files and audio files, in order, and warnings."""
    entries: list[PlaylistEntry] = []
    warnings: list[str] = []
    for path in inputs:
        parsed = read_path(path)
        entries.extend(parsed.entries)
        warnings.extend(parsed.warnings)
    return entries, warnings


def read_source(source: str | Path, paths: Paths) -> ParsedPlaylist:
    """A stored playlist by name, else a path. A `str` that names a stored playlist is
    the playlist even if a file of that name exists; a `Path` is always a path."""
    store = PlaylistStore(paths)
    if isinstance(source, str):
        if store.exists(source):
            return store.load(source)
        candidate = Path(source).expanduser()
        if not candidate.exists() and not (os.sep in source or "/" in source):
            raise store.unknown(source, also=" and no file or folder of that name")
        source = candidate
    return read_path(source)


def resolve_tracks(
    source: str | Path,
    paths: Paths,
    *,
    target_lufs: float = DEFAULT_TARGET_LUFS,
    run: RunCommand = run_command,
    max_workers: int | None = None,
) -> tuple[list[Track], list[str]]:
    """The playable Tracks of a playlist name, playlist file, audio file or folder, in
    order, with gains to `target_lufs`; plus warnings for everything skipped.

    Each file is probed (ffprobe) and measured (ffmpeg ebur128) once; results are cached
    by (path, size, mtime_ns), so later sessions start at once. An unknown name that is
    not a path either raises BadInputError listing the stored playlists. No playable
    tracks is not an error: the list is empty and the warnings say why.
    """
    parsed = read_source(source, paths)
    analyser = TrackAnalyser(paths, run=run, max_workers=max_workers)
    warnings = list(parsed.warnings)
    tracks: list[Track] = []
    for analysis in analyser.analyse(parsed.entries, target_lufs=target_lufs):
        if analysis.track is not None:
            tracks.append(analysis.track)
        else:
            warnings.append(skip_warning(analysis.entry, analysis.problem or ""))
    if not tracks:
        warnings.append(f"{source}: no playable tracks")
    log.info("resolved %s: %d tracks, %d warnings", source, len(tracks), len(warnings))
    return tracks, warnings


def shuffle_tracks(tracks: Sequence[Track], seed: int | str | None) -> list[Track]:
    """A shuffled copy; the same seed always gives the same order (random.Random(seed))."""
    shuffled = list(tracks)
    random.Random(seed).shuffle(shuffled)
    return shuffled
