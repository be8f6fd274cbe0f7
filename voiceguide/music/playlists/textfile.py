"""Reading a playlist file's text: encodings, BOMs, line endings, and refusing binary data."""

from __future__ import annotations

import re
from pathlib import Path

from voiceguide.errors import PlaylistFileError

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Control characters never appear in a text playlist (tab, CR, LF and form feed aside).
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
MAX_PLAYLIST_BYTES = 16 * 1024 * 1024
"""A playlist of 100,000 entries is under 16 MiB; anything bigger is not a playlist."""
FALLBACK_ENCODING = "cp1252"
"""Windows-1252: Latin-1 plus the printable characters Windows puts in 0x80-0x9F."""


def read_lines(path: Path, *, warn_on_fallback: bool) -> tuple[list[str], list[str]]:
    """The lines of a text playlist and any warnings; UTF-8 first, then Latin-1.

    A UTF-8 BOM is dropped and CRLF/CR line endings are accepted. A file that is not
    text at all raises PlaylistFileError (exit 2) naming the file and the first offending line.
    """
    try:
        if path.stat().st_size > MAX_PLAYLIST_BYTES:
            raise PlaylistFileError(f"{path}:1: not a playlist: larger than 16 MiB")
        data = path.read_bytes()
    except OSError as err:
        raise PlaylistFileError(f"{path}: cannot read playlist: {err.strerror or err}") from err
    warnings: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        bad_line = data.count(b"\n", 0, err.start) + 1
        text = _decode_legacy(data)
        if warn_on_fallback:
            warnings.append(
                f"{path}:{bad_line}: not valid UTF-8; read the file as Latin-1 (Windows-1252)"
            )
    lines = _LINE_BREAK.split(text)
    for number, line in enumerate(lines, start=1):
        if _BINARY.search(line):
            raise PlaylistFileError(f"{path}:{number}: not a playlist: binary data on this line")
    return lines, warnings


def _decode_legacy(data: bytes) -> str:
    try:
        return data.decode(FALLBACK_ENCODING)
    except UnicodeDecodeError:
        # The five bytes cp1252 leaves undefined; Latin-1 decodes everything.
        return data.decode("latin-1")
