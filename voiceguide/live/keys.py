"""Single keys from the terminal, hands-free friendly: cbreak mode, a reader thread.

cbreak (not raw) keeps Ctrl-C working as a signal and leaves output processing alone, so the
live display still draws correctly. With no terminal (piped, CI) keys are simply off.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import threading
import tty
from collections.abc import Callable
from typing import IO, Any

# Escape sequences of keys that foot pedals and presenters commonly send.
SEQUENCES = {
    "\x1b[C": "right", "\x1b[D": "left", "\x1b[A": "up", "\x1b[B": "down",
    "\x1b[5~": "pageup", "\x1b[6~": "pagedown",
}  # fmt: skip


class KeyReader:
    """Calls `on_key(name)` for each key; a context manager that always restores the terminal."""

    def __init__(self, on_key: Callable[[str], None], stream: IO[str] | None = None) -> None:
        self.on_key = on_key
        self.stream = stream or sys.stdin
        self._saved: list[Any] | None = None
        self._fd = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self._saved is not None

    def __enter__(self) -> KeyReader:
        try:
            if not self.stream.isatty():
                return self
            self._fd = self.stream.fileno()
            self._saved = termios.tcgetattr(self._fd)
        except (OSError, ValueError, termios.error):
            return self
        tty.setcbreak(self._fd, termios.TCSANOW)
        self._thread = threading.Thread(target=self._run, name="voiceguide-keys", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()

    def restore(self) -> None:
        """Put the terminal back as it was (safe to call twice, and from a signal handler)."""
        self._stop.set()
        if self._saved is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self._fd, 16).decode(errors="ignore")
            except (OSError, ValueError):
                return
            for name in split_keys(data):
                self.on_key(name)


def split_keys(data: str) -> list[str]:
    """Turn what one read returned into key names ("n", " ", "right", ...)."""
    keys = []
    i = 0
    while i < len(data):
        for sequence, name in SEQUENCES.items():
            if data.startswith(sequence, i):
                keys.append(name)
                i += len(sequence)
                break
        else:
            keys.append("enter" if data[i] in "\r\n" else data[i])
            i += 1
    return keys
