"""PLS playlists: a `[playlist]` section of `FileN=`, `TitleN=` and `LengthN=` keys."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from voiceguide.errors import PlaylistFileError
from voiceguide.music.playlists.entries import (
    ParsedPlaylist,
    PlaylistEntry,
    parse_location,
    positive_seconds,
    remote_warning,
)
from voiceguide.music.playlists.textfile import read_lines

log = logging.getLogger(__name__)

_KEY = re.compile(r"^(file|title|length)(\d+)$", re.IGNORECASE)
_MAX_NUMBER_DIGITS = 9
"""Entry numbers beyond this are no playlist's (and int() refuses 4,300 digits)."""


@dataclass
class _Slot:
    file: str | None = None
    file_line: int = 0
    title: str | None = None
    seconds: float | None = None


def parse_pls(path: Path) -> ParsedPlaylist:
    """Read a .pls file; entries come in the order of their numbers, not of the lines.

    Only the `[playlist]` section is read; other sections are ignored. A file without
    one, or with lines before its first section, raises PlaylistFileError naming the line.
    Remote URLs and unusable entries are skipped with a warning naming the line.
    """
    lines, warnings = read_lines(path, warn_on_fallback=False)
    parsed = ParsedPlaylist(source=path, warnings=warnings)
    base_dir = Path(os.path.abspath(path)).parent
    slots: dict[int, _Slot] = {}
    in_playlist = in_section = seen_header = False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        if line.startswith("[") and line.endswith("]"):
            in_playlist = line[1:-1].strip().lower() == "playlist"
            seen_header = seen_header or in_playlist
            in_section = True
            continue
        if not in_section:
            raise _not_pls(path, number)
        if not in_playlist:
            continue  # another section ([Reference], a player's own): nothing we need
        key, sep, value = line.partition("=")
        if not sep:
            parsed.warnings.append(f"{path}:{number}: ignored a line that is not key=value")
            continue
        match = _KEY.match(key.strip())
        if match is None:
            continue  # NumberOfEntries, Version and other keys say nothing we need
        if len(match.group(2).lstrip("0")) > _MAX_NUMBER_DIGITS:
            shown = f"{key.strip()[:20]}..."
            parsed.warnings.append(f"{path}:{number}: skipped {shown}: entry number too large")
            continue
        slot = slots.setdefault(int(match.group(2)), _Slot())
        kind, value = match.group(1).lower(), value.strip()
        if kind == "file":
            slot.file, slot.file_line = value, number
        elif kind == "title":
            slot.title = value or None
        else:
            slot.seconds = positive_seconds(value)
    if not seen_header:
        raise _not_pls(path, 1)
    for index in sorted(slots):
        _add_slot(parsed, slots[index], base_dir)
    log.debug("read %d entries from %s", len(parsed.entries), path)
    return parsed


def _not_pls(path: Path, line: int) -> PlaylistFileError:
    return PlaylistFileError(f"{path}:{line}: not a PLS playlist (expected a [playlist] section)")


def _add_slot(parsed: ParsedPlaylist, slot: _Slot, base_dir: Path) -> None:
    if not slot.file:
        return
    location = parse_location(slot.file, base_dir)
    if not isinstance(location, Path):  # remote, or no file can have that name
        parsed.warnings.append(remote_warning(parsed.source, slot.file_line, location))
        return
    entry = PlaylistEntry(location, slot.title, slot.seconds, slot.file_line, parsed.source)
    parsed.entries.append(entry)
