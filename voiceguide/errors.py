"""The error family: every failure a user can cause, with its exit code."""

from __future__ import annotations

import reprlib
from enum import IntEnum

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
