"""Named playlists: M3U8 files in the user's playlists folder, readable by any player."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

from voiceguide.errors import NAME_MAX_BYTES, BadInputError, MusicError, from_os_error, one_line
from voiceguide.files import make_private_folder
from voiceguide.music.playlists.entries import ParsedPlaylist, PlaylistEntry, path_problem
from voiceguide.music.playlists.m3u import parse_m3u, write_m3u8
from voiceguide.music.playlists.scan import natural_key
from voiceguide.paths import Paths

log = logging.getLogger(__name__)

STORE_SUFFIX = ".m3u8"
MAX_NAME_CHARS = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a playlist, or None if it can."""
    if not name.strip():
        return "a playlist name cannot be empty"
    if "/" in name or "\\" in name or os.sep in name:
        return f"playlist name {name!r} cannot contain / or \\ (it is a name, not a path)"
    if name.strip().startswith("."):
        return f"playlist name {name!r} cannot start with '.'"
    if _CONTROL.search(name):
        return f"playlist name {name!r} cannot contain control characters"
    if len(name.strip()) > MAX_NAME_CHARS:
        return f"playlist name is too long (at most {MAX_NAME_CHARS} characters)"
    if len(f"{name.strip()}{STORE_SUFFIX}".encode()) > NAME_MAX_BYTES:
        limit = NAME_MAX_BYTES - len(STORE_SUFFIX)
        return (
            f"playlist name is too long: {len(name.strip().encode())} bytes of UTF-8, at most"
            f" {limit} (an emoji takes 4)"
        )
    return None


def validate_name(name: str) -> str:
    """The name without surrounding spaces; BadInputError if it cannot name a playlist."""
    problem = name_problem(name)
    if problem is not None:
        raise BadInputError(problem)
    return name.strip()


class PlaylistStore:
    """The playlists folder: one `<name>.m3u8` per playlist, absolute paths inside.

    Files may be edited by hand; saving rewrites them in the plain `#EXTM3U` form
    (comments other than `#EXTINF` and skipped remote URLs are not kept).
    """

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.folder = paths.playlists_dir

    def names(self) -> list[str]:
        """Every stored playlist's name, in natural order."""
        if not self.folder.is_dir():
            return []
        names = [
            path.name[: -len(STORE_SUFFIX)]
            for path in self.folder.iterdir()
            if path.name.endswith(STORE_SUFFIX) and not path.name.startswith(".") and path.is_file()
        ]
        return sorted(names, key=natural_key)

    def file_for(self, name: str) -> Path:
        return self.folder / f"{validate_name(name)}{STORE_SUFFIX}"

    def exists(self, name: str) -> bool:
        return name_problem(name) is None and self.file_for(name).is_file()

    def unknown(self, name: str, *, also: str = "") -> BadInputError:
        """The error for a name that is not a stored playlist; it lists the names there are."""
        names = self.names()
        known = (
            "playlists: " + ", ".join(names)
            if names
            else "there are no playlists yet (make one with: voiceguide playlist new NAME FOLDER)"
        )
        return BadInputError(f"no playlist named {name!r}{also}; {known}")

    def load(self, name: str) -> ParsedPlaylist:
        """The stored playlist's entries and parse warnings (BadInputError if unknown)."""
        validate_name(name)
        if not self.exists(name):
            raise self.unknown(name)
        return parse_m3u(self.file_for(name))

    def save(self, name: str, entries: Sequence[PlaylistEntry]) -> Path:
        """Write the playlist (creating or replacing it) and return its file."""
        path = self.file_for(name)
        for entry in entries:
            problem = path_problem(str(entry.path))
            if problem is not None:  # one name per line: it would read back as other files
                raise BadInputError(f"{one_line(entry.path)}: {problem}; rename the file")
        try:
            make_private_folder(self.folder)
        except OSError as err:
            raise from_os_error(err, self.folder, doing="cannot create", error=MusicError) from err
        write_m3u8(path, entries)
        log.info("saved playlist %s (%d entries) to %s", name, len(entries), path)
        return path

    def delete(self, name: str) -> Path:
        validate_name(name)
        if not self.exists(name):
            raise self.unknown(name)
        path = self.file_for(name)
        try:
            path.unlink()
        except OSError as err:
            raise MusicError(f"{path}: cannot delete: {err.strerror or err}") from err
        return path
