"""The error family: every failure a user can cause, with its exit code."""

from __future__ import annotations

import errno
import reprlib
from enum import IntEnum
from pathlib import Path

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = _SHOWN.maxother = 60
_SHOWN.maxlevel = 3


def shown(value: object) -> str:
    """A value from the user's file, for an error message: its repr, cut short.

    A 900 KB text or an array nested 500 deep must not become a 900 KB (or crashing) error line.
    """
    return _SHOWN.repr(value)


class ExitStatus(IntEnum):
    """Exit codes of the command line (the only place they are defined)."""

    OK = 0
    ERROR = 1
    BAD_INPUT = 2
    NO_AUDIO = 3
    INTERRUPTED = 130


class VoiceguideError(Exception):
    """A failure the user can act on: shown as one line, never a traceback."""

    exit_status = ExitStatus.ERROR


class BadInputError(VoiceguideError):
    """A file or option the user gave is wrong (exit code 2)."""

    exit_status = ExitStatus.BAD_INPUT


class RoutineError(BadInputError):
    """A routine file that cannot be used; the message names file and key path."""

    def __init__(self, source: str, where: str, problem: str, line: int | None = None) -> None:
        place = where if line is None else f"line {line}: {where}" if where else f"line {line}"
        text = f"{source}: {place}: {problem}" if place else f"{source}: {problem}"
        super().__init__(text)
        self.source = source
        self.where = where
        self.problem = problem
        self.line = line


class MusicError(VoiceguideError):
    """A music file or playlist that cannot be read."""


class PlaylistFileError(MusicError, BadInputError):
    """A playlist file that is not one (binary, no [playlist] section, a device): bad input,
    exit 2, and a MusicError to the code that lists playlists and skips a broken one."""


class OutputError(VoiceguideError):
    """The output file cannot be written."""


class AudioOutputError(VoiceguideError):
    """No live audio output can be opened."""

    exit_status = ExitStatus.NO_AUDIO


class VoiceError(VoiceguideError):
    """Text-to-speech failed with every engine."""


NAME_MAX_BYTES = 255
"""The longest file or folder name Linux file systems take, in bytes of UTF-8."""

_WHAT_TO_DO = {
    errno.ENAMETOOLONG: (
        "name too long (at most 255 bytes for each file or folder name); use a shorter name"
    ),
    errno.ENOSPC: "the disk is full; free some space, or write to another disk",
    errno.EDQUOT: "the disk quota is used up; free some space, or write to another disk",
    errno.EFBIG: "too large for this file system (or this process's file size limit)",
    errno.EROFS: "the file system is read-only; use a folder you can write to",
    errno.EACCES: "permission denied; check the folder's permissions, or use another folder",
    errno.EPERM: "not permitted; check the folder's permissions, or use another folder",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.ELOOP: "too many levels of symbolic links (a link loop?)",
}
_BAD_INPUT_ERRNOS = {errno.ENAMETOOLONG, errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ELOOP}


def one_line(text: str | Path) -> str:
    """`text` with line breaks and other control characters escaped, so a message stays one line."""
    return "".join(
        char if char.isprintable() or char == " " else repr(char)[1:-1] for char in str(text)
    )


def os_problem(err: OSError) -> str:
    """What went wrong, in words, and what to do about it (no path)."""
    return _WHAT_TO_DO.get(err.errno or 0) or str(err.strerror or err)


def from_os_error(
    err: OSError,
    path: str | Path | None = None,
    *,
    doing: str = "",
    error: type[VoiceguideError] = VoiceguideError,
) -> VoiceguideError:
    """The one-line error for an OSError: the path, what failed, the problem and what to do.

    A name that is too long, missing or not a folder is bad input (BadInputError, exit 2);
    a full disk, a read-only folder or missing permissions is an `error` of the place.
    """
    where = path if path is not None else err.filename
    parts = [one_line(where)] if where is not None else []
    parts += [doing] if doing else []
    text = ": ".join([*parts, os_problem(err)])
    if err.errno in _BAD_INPUT_ERRNOS:
        return BadInputError(text)
    return error(text)
