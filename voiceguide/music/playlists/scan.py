"""Finding audio files: by extension, in folders scanned recursively, in a stable order."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".aac", ".wav")

_DIGITS = re.compile(r"(\d+)")

MAX_SCAN_ENTRIES = 200_000
"""Files and folders one scan looks at: a big music library has tens of thousands."""
MAX_SCAN_SECONDS = 20.0
"""How long one scan may take: a whole disk behind a link must not hold a session up."""
_SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")
"""The kernel's own file systems: endless, and never music."""

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


def scan_folder(
    folder: Path,
    *,
    max_entries: int = MAX_SCAN_ENTRIES,
    max_seconds: float = MAX_SCAN_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[Path], list[str]]:
    """Every audio file under `folder`, recursively, and warnings about what was skipped.

    Files are ordered by natural sort of their path below `folder`, so albums in
    sub-folders play in order. Symlinked folders are followed once each (loops end),
    except links to a folder that holds `folder` (/, .., the home folder: the scan would
    take in the whole disk) or into /proc, /sys or /dev. Hidden files and folders
    (".name", such as macOS "._song.mp3") are left out. The scan stops, with a warning,
    after `max_entries` files and folders or `max_seconds`, keeping what it found.
    """
    root = Path(os.path.abspath(folder))
    real_root = os.path.realpath(root)
    warnings: list[str] = []
    found: list[Path] = []
    visited: set[tuple[int, int]] = set()
    system = _system_devices()
    started = clock()
    seen = 0

    def on_error(err: OSError) -> None:
        warnings.append(f"{err.filename}: skipped folder: {err.strerror or err}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=True):
        seen += 1 + len(filenames)
        if seen > max_entries or clock() - started > max_seconds:
            warnings.append(
                f"{root}: stopped looking for music after {seen:,} files and folders in"
                f" {clock() - started:.0f} s; playing the {len(found):,} found so far (give a"
                " smaller folder, or make a playlist of it)"
            )
            break
        try:
            info = os.stat(dirpath)
        except OSError as err:
            warnings.append(f"{dirpath}: skipped folder: {err.strerror or err}")
            dirnames[:] = []
            continue
        identity = (info.st_dev, info.st_ino)
        if identity in visited or info.st_dev in system:
            # Reached a real folder a second time (a symlink loop or a second link to it).
            log.debug("already scanned %s, or a system folder; not descending", dirpath)
            dirnames[:] = []
            continue
        visited.add(identity)
        kept = []
        for name in dirnames:
            if name.startswith("."):
                continue
            problem = _link_problem(os.path.join(dirpath, name), real_root)
            if problem is None:
                kept.append(name)
            else:
                warnings.append(f"{os.path.join(dirpath, name)}: skipped folder link: {problem}")
        dirnames[:] = kept
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


def _system_devices() -> set[int]:
    devices = set()
    for folder in _SYSTEM_FOLDERS:
        try:
            devices.add(os.stat(folder).st_dev)
        except OSError:
            continue
    return devices


def _link_problem(path: str, real_root: str) -> str | None:
    """Why the folder link at `path` is not followed, or None (also for a plain folder)."""
    if not os.path.islink(path):
        return None
    target = os.path.realpath(path)
    if real_root == target or real_root.startswith(target.rstrip(os.sep) + os.sep):
        return f"it leads to {target}, which holds the whole folder"
    if any(target == top or target.startswith(top + os.sep) for top in _SYSTEM_FOLDERS):
        return f"it leads to {target}, a system folder"
    return None
