"""Finding audio files: by extension, in folders scanned recursively, in a stable order."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac", ".wav")

_DIGITS = re.compile(r"(\d+)")

NaturalKey = tuple[tuple[int, int, str], ...]


def is_audio_path(path: Path) -> bool:
    """True for names ending in one of AUDIO_SUFFIXES (any case); says nothing of content."""
    return path.suffix.lower() in AUDIO_SUFFIXES


def natural_key(name: str) -> NaturalKey:
    """Case-insensitive sort key in which "Track 2" comes before "Track 10"."""
    key: list[tuple[int, int, str]] = []
    for index, part in enumerate(_DIGITS.split(name)):
        if index % 2:
            key.append((0, int(part), part))
        elif part:
            key.append((1, 0, part.casefold()))
    # The name itself last, so that "a.mp3" and "A.mp3" still sort the same way every time.
    key.append((2, 0, name))
    return tuple(key)


def scan_folder(folder: Path) -> tuple[list[Path], list[str]]:
    """Every audio file under `folder`, recursively, and warnings about what was skipped.

    Files are ordered by natural sort of their path below `folder`, so albums in
    sub-folders play in order. Symlinked folders are followed once each (loops end),
    and hidden files and folders (".name", such as macOS "._song.mp3") are left out.
    """
    root = Path(os.path.abspath(folder))
    warnings: list[str] = []
    found: list[Path] = []
    visited: set[tuple[int, int]] = set()

    def on_error(err: OSError) -> None:
        warnings.append(f"{err.filename}: skipped folder: {err.strerror or err}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=True):
        try:
            info = os.stat(dirpath)
        except OSError as err:
            warnings.append(f"{dirpath}: skipped folder: {err.strerror or err}")
            dirnames[:] = []
            continue
        identity = (info.st_dev, info.st_ino)
        if identity in visited:
            # Reached a real folder a second time (a symlink loop or a second link to it).
            log.debug("already scanned %s; not descending again", dirpath)
            dirnames[:] = []
            continue
        visited.add(identity)
        dirnames[:] = [name for name in dirnames if not name.startswith(".")]
        for name in filenames:
            path = Path(dirpath) / name
            if name.startswith(".") or not is_audio_path(path):
                continue
            if not path.is_file():
                warnings.append(f"{path}: skipped: broken link or not a regular file")
                continue
            found.append(path)
    found.sort(key=lambda path: tuple(natural_key(part) for part in path.relative_to(root).parts))
    log.debug("found %d audio files under %s", len(found), root)
    return found, warnings
