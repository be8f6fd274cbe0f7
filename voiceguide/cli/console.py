"""Rich consoles for the CLI layer only (the core never imports rich)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """User text (a note, a name) made safe for a terminal: control characters, such as the
    ESC that starts a terminal escape sequence, are shown as \\xNN instead of acting."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _console(stderr: bool) -> Console:
    """A console that wraps text only on a terminal.

    Piped or captured output (a log, a test, `grep`) gets every message on one line whatever
    COLUMNS says, so a long path never splits an error or an "ok" line in two. Tables still
    fit the width: soft wrap only changes how plain text is broken.
    """
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False)
    out.soft_wrap = not out.is_terminal
    return out


def console() -> Console:
    """Standard output."""
    return _console(stderr=False)


def error_console() -> Console:
    """Standard error: progress, warnings and errors."""
    return _console(stderr=True)


def warn(message: str) -> None:
    """One `warning: ...` line on standard error, never wrapped."""
    error_console().print(f"warning: {message}", markup=False, soft_wrap=True)
