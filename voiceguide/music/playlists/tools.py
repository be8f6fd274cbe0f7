"""Running ffprobe and ffmpeg: one injectable function, so tests can count and fake the calls."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence

from voiceguide.errors import MusicError

RunCommand = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]
"""Runs one command to completion and returns its exit code, stdout and stderr as text."""

TOOL_TIMEOUT_SECONDS = 900.0
"""Long enough for a loudness pass over a multi-hour file on a slow machine."""


def run_command(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output; a missing program is a MusicError, a timeout exit -1."""
    try:
        return subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            stdin=subprocess.DEVNULL,
            timeout=TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError as err:
        program = args[0]
        message = f"{program} is not installed; install ffmpeg (it provides {program})"
        raise MusicError(message) from err
    except subprocess.TimeoutExpired:
        # A hung decode is a problem with that one file, not with the whole playlist.
        message = f"{args[0]} timed out after {TOOL_TIMEOUT_SECONDS:.0f} s"
        return subprocess.CompletedProcess(list(args), -1, "", message)


def last_line(text: str, path: str | None = None) -> str:
    """The last non-blank line of a tool's stderr: usually the reason it failed.

    A leading "<path>: " is dropped; the caller names the file already.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else "no output"
    if path is not None and line.startswith(f"{path}: "):
        line = line[len(path) + 2 :]
    return line
