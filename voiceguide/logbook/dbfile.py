"""The log file on disk: made user-only, and checked to be SQLite before SQLite touches it."""

from __future__ import annotations

import logging
import os
import shlex
import stat
from pathlib import Path

from voiceguide.errors import VoiceguideError
from voiceguide.files import PRIVATE_MODE, make_private_folder

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"


class LogFileError(VoiceguideError):
    """The file at the log path cannot be used as the log; it is left exactly as it was."""

    def __init__(self, path: Path, reason: str, *, move_aside: bool = True) -> None:
        text = f"{path}: {reason}"
        if move_aside:
            quoted = shlex.quote(str(path))
            backup = shlex.quote(f"{path}.bak")
            text += (
                f"; voiceguide will not overwrite it: move it aside with "
                f"`mv {quoted} {backup}` and the next run starts a new log"
            )
        super().__init__(text)
        self.path = path
        self.reason = reason


def create_private(path: Path) -> bool:
    """Create `path` empty with mode 0600 unless it exists; True if this call created it.

    os.open with O_EXCL rather than letting SQLite create it, so the file is never,
    even briefly, readable by others (umask can only take bits away from 0600).
    """
    make_private_folder(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def tighten(path: Path) -> bool:
    """Take group/other permissions off an existing file; True if they had to be removed."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return False
    path.chmod(mode & ~0o077)
    return True


def prepare(path: Path) -> None:
    """Create the log file 0600 if missing, else check that it starts like an SQLite file.

    Raises LogFileError when the file exists but is not SQLite (nothing is written to it).
    An empty file is what create_private leaves behind if a first run died at once.
    """
    try:
        if create_private(path):
            log.info("created the session log %s", path)
            return
    except PermissionError as exc:
        raise LogFileError(path, f"cannot be opened: {exc.strerror}", move_aside=False) from exc
    except OSError as exc:
        raise LogFileError(path, f"cannot be opened: {exc.strerror or exc}") from exc
    check(path)


def check(path: Path) -> bool:
    """True if `path` holds a log to read, False if there is none (missing or empty);
    LogFileError if it is something else. Nothing is created or written."""
    try:
        if not path.exists():
            return False
        if not path.is_file():
            raise LogFileError(path, "is not a regular file")
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except PermissionError as exc:
        raise LogFileError(path, f"cannot be opened: {exc.strerror}", move_aside=False) from exc
    except OSError as exc:
        raise LogFileError(path, f"cannot be opened: {exc.strerror or exc}") from exc
    if header and header != SQLITE_HEADER:
        raise LogFileError(path, "is not an SQLite database (not a voiceguide session log)")
    return bool(header)


def log_files(path: Path) -> tuple[Path, ...]:
    """The log and the files SQLite keeps beside it in WAL mode."""
    return (path, Path(f"{path}-wal"), Path(f"{path}-shm"))


def make_private(path: Path) -> None:
    """Take group/other permissions off the log and its WAL files: they hold health data.

    Called only once the file is known to be a voiceguide log; a foreign file is left
    exactly as it was.
    """
    for candidate in log_files(path):
        try:
            if candidate.exists() and tighten(candidate):
                log.warning("%s was readable by other users; now user-only (0600)", candidate)
        except OSError as exc:
            log.warning("cannot make %s user-only: %s", candidate, exc)
