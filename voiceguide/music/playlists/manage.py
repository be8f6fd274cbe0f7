"""The playlist commands as library calls: each takes Paths and returns what to show."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from voiceguide.errors import BadInputError, MusicError, from_os_error, one_line
from voiceguide.files import SHARED_MODE, check_target, write_file
from voiceguide.music.playlists.analyse import Analysis, Progress, TrackAnalyser, skip_warning
from voiceguide.music.playlists.entries import PlaylistEntry, display_title, path_problem
from voiceguide.music.playlists.m3u import format_m3u8
from voiceguide.music.playlists.playlistfile import PLAYLIST_SUFFIXES, read_playlist_file
from voiceguide.music.playlists.probe import Prober, UnplayableError, probe_cache_file
from voiceguide.music.playlists.resolve import read_paths
from voiceguide.music.playlists.store import PlaylistStore, validate_name
from voiceguide.music.playlists.tools import RunCommand, run_command
from voiceguide.paths import Paths

log = logging.getLogger(__name__)

EXPORT_SUFFIXES = (".m3u8", ".m3u")


@dataclass
class ChangeReport:
    """What a change to a stored playlist did."""

    name: str
    file: Path
    added: int
    total: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    """One numbered entry of a stored playlist, as `show` lists it."""

    number: int
    entry: PlaylistEntry
    missing: bool


@dataclass(frozen=True)
class Summary:
    """One stored playlist as `list` shows it; `problem` is set if it cannot be read."""

    name: str
    tracks: int
    seconds: float
    unknown_lengths: int
    missing: int
    problem: str | None = None


def _stored_entry(analysis: Analysis) -> PlaylistEntry:
    """The entry to store: its length and "Artist - Title" taken from the file when known."""
    entry, info = analysis.entry, analysis.probe
    if info is None:
        return PlaylistEntry(entry.path, entry.title, entry.duration_seconds)
    title = display_title(info.artist, info.title) or entry.title
    return PlaylistEntry(entry.path, title, info.duration_seconds)


def _playable(
    inputs: Sequence[Path],
    paths: Paths,
    already: Sequence[PlaylistEntry],
    run: RunCommand,
    on_progress: Progress | None,
) -> tuple[list[PlaylistEntry], list[str]]:
    """The playable files among `inputs` that are not yet in the playlist, and warnings.

    Every file is probed and measured now, so the first session with it starts at once.
    A file named on the command line whose name cannot be stored (a line break) is refused;
    one found in a folder is left out with a warning.
    """
    for path in inputs:
        problem = path_problem(str(path))
        if problem is not None:
            raise BadInputError(f"{one_line(path)}: {problem}; rename the file")
    found, warnings = read_paths(inputs)
    entries: list[PlaylistEntry] = []
    for entry in found:
        problem = path_problem(str(entry.path))
        if problem is None:
            entries.append(entry)
        else:
            warnings.append(f"{one_line(entry.path)}: skipped: {problem}")
    seen = {entry.path for entry in already}
    kept: list[PlaylistEntry] = []
    repeated = 0
    analyser = TrackAnalyser(paths, run=run, on_progress=on_progress)
    for analysis in analyser.analyse(entries):
        if analysis.track is None:
            warnings.append(skip_warning(analysis.entry, analysis.problem or ""))
        elif analysis.entry.path in seen:
            repeated += 1
        else:
            seen.add(analysis.entry.path)
            kept.append(_stored_entry(analysis))
    if repeated:
        warnings.append(f"left out {repeated} file(s) already in the playlist")
    return kept, warnings


def new_playlist(
    paths: Paths,
    name: str,
    inputs: Sequence[Path] = (),
    *,
    run: RunCommand = run_command,
    on_progress: Progress | None = None,
) -> ChangeReport:
    """Create a playlist from folders, audio files and playlist files (it may start empty)."""
    name = validate_name(name)
    store = PlaylistStore(paths)
    if store.exists(name):
        raise BadInputError(f"a playlist named {name!r} already exists; add to it or delete it")
    entries, warnings = _playable(inputs, paths, [], run, on_progress)
    file = store.save(name, entries)
    return ChangeReport(name, file, len(entries), len(entries), warnings)


def add_to_playlist(
    paths: Paths,
    name: str,
    inputs: Sequence[Path],
    *,
    run: RunCommand = run_command,
    on_progress: Progress | None = None,
) -> ChangeReport:
    """Append the playable files among `inputs`; files already in the playlist are left out."""
    if not inputs:
        raise BadInputError("nothing to add: give audio files, folders or playlist files")
    store = PlaylistStore(paths)
    current = store.load(name)
    added, warnings = _playable(inputs, paths, current.entries, run, on_progress)
    entries = [*current.entries, *added]
    file = store.save(name, entries)
    return ChangeReport(name, file, len(added), len(entries), [*current.warnings, *warnings])


def remove_from_playlist(paths: Paths, name: str, which: str) -> list[PlaylistEntry]:
    """Remove entry number `which` (1-based), or every entry for the file `which` names:
    a path, or a file name that matches exactly one file in the playlist."""
    store = PlaylistStore(paths)
    entries = store.load(name).entries
    doomed = _matching(entries, which, name)
    store.save(name, [entry for index, entry in enumerate(entries) if index not in doomed])
    return [entries[index] for index in sorted(doomed)]


def _matching(entries: Sequence[PlaylistEntry], which: str, name: str) -> set[int]:
    text = which.strip()
    if text.isdigit():
        number = int(text)
        if not 1 <= number <= len(entries):
            raise BadInputError(
                f"{name!r} has no entry {number} (it has {len(entries)}; see: "
                f"voiceguide playlist show {name})"
            )
        return {number - 1}
    target = Path(os.path.abspath(Path(text).expanduser()))
    found = {index for index, entry in enumerate(entries) if entry.path == target}
    if found:
        return found
    by_name = {index for index, entry in enumerate(entries) if entry.path.name == text}
    if len({entries[index].path for index in by_name}) == 1:
        return by_name
    if by_name:
        raise BadInputError(f"{text!r} matches several files in {name!r}; give its number or path")
    raise BadInputError(f"{name!r} has no entry {text!r} (give a number from show, or a path)")


def import_playlist(
    paths: Paths,
    file: Path,
    name: str | None = None,
    *,
    replace: bool = False,
    run: RunCommand = run_command,
    on_progress: Progress | None = None,
) -> ChangeReport:
    """Store an .m3u/.m3u8/.pls file under `name` (default: the file's stem).

    Every local entry is kept, even one that is missing or unplayable now (it is
    warned about, and skipped when played); remote URLs are dropped with a warning.
    """
    if file.suffix.lower() not in PLAYLIST_SUFFIXES:
        raise BadInputError(f"{file}: not a playlist file (expected .m3u, .m3u8 or .pls)")
    try:  # anything there, read_playlist_file says what it is
        os.lstat(file)
    except OSError as err:
        raise from_os_error(err, file, error=BadInputError) from None
    name = validate_name(file.stem if name is None else name)
    store = PlaylistStore(paths)
    if store.exists(name) and not replace:
        raise BadInputError(
            f"a playlist named {name!r} already exists; choose another --name or use --force"
        )
    parsed = read_playlist_file(file)
    warnings = list(parsed.warnings)
    entries: list[PlaylistEntry] = []
    analyser = TrackAnalyser(paths, run=run, on_progress=on_progress)
    for analysis in analyser.analyse(parsed.entries):
        if analysis.track is None:
            problem = f"{analysis.problem} (kept in the playlist; skipped when played)"
            warnings.append(skip_warning(analysis.entry, problem).replace(": skipped: ", ": "))
        entries.append(_stored_entry(analysis))
    stored = store.save(name, entries)
    return ChangeReport(name, stored, len(entries), len(entries), warnings)


def export_playlist(
    paths: Paths, name: str, file: Path, *, absolute: bool = False, replace: bool = False
) -> Path:
    """Write a stored playlist to `file` (.m3u8 or .m3u, always UTF-8 with #EXTINF).

    Files inside the export's folder are written relative to it, so the folder can be
    moved or copied to another device as a whole; every other file gets its absolute
    path. `absolute=True` writes absolute paths throughout.
    """
    if file.suffix.lower() not in EXPORT_SUFFIXES:
        raise BadInputError(f"{file}: export to a .m3u8 (or .m3u) file")
    store = PlaylistStore(paths)
    stored = (store.file_for(name),)  # the export's input: never written over, even --force
    check_target(file, force=replace, inputs=stored)  # before any work
    parsed = store.load(name)
    target = Path(os.path.abspath(file.expanduser()))
    text = format_m3u8(parsed.entries, relative_to=None if absolute else target.parent)
    write_file(target, text, mode=SHARED_MODE, force=replace, inputs=stored)
    return target


def delete_playlist(paths: Paths, name: str) -> Path:
    """Delete a stored playlist's file (the music itself is never touched)."""
    return PlaylistStore(paths).delete(name)


def show_playlist(
    paths: Paths, name: str, *, run: RunCommand = run_command
) -> tuple[list[Row], list[str]]:
    """The numbered entries of a stored playlist, missing files marked, and warnings.

    Lengths come from the playlist's #EXTINF lines; a file without one is probed (cached).
    """
    parsed = PlaylistStore(paths).load(name)
    prober = Prober(probe_cache_file(paths), run)
    rows: list[Row] = []
    for number, entry in enumerate(parsed.entries, start=1):
        missing = not entry.path.exists()
        shown = entry
        if entry.duration_seconds is None and not missing:
            shown = _with_probed_length(entry, prober)
        rows.append(Row(number, shown, missing))
    prober.save()
    return rows, parsed.warnings


def _with_probed_length(entry: PlaylistEntry, prober: Prober) -> PlaylistEntry:
    try:
        info = prober.probe(entry.path)
    except UnplayableError:
        return entry
    title = entry.title or display_title(info.artist, info.title)
    return PlaylistEntry(entry.path, title, info.duration_seconds, entry.line, entry.playlist)


def list_playlists(paths: Paths) -> list[Summary]:
    """Every stored playlist with its track count and total length (from #EXTINF)."""
    store = PlaylistStore(paths)
    summaries: list[Summary] = []
    for name in store.names():
        try:
            entries = store.load(name).entries
        except MusicError as err:
            summaries.append(Summary(name, 0, 0.0, 0, 0, problem=str(err)))
            continue
        known = [entry.duration_seconds for entry in entries if entry.duration_seconds]
        missing = sum(1 for entry in entries if not entry.path.exists())
        summaries.append(
            Summary(name, len(entries), sum(known), len(entries) - len(known), missing)
        )
    return summaries
