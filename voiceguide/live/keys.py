"""Keys as a front end of a live session: single keys in cbreak mode, read by a thread.

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
from typing import IO, Any, Protocol


class Controls(Protocol):
    """What keys can do to a live session (LiveSession implements it)."""

    def toggle_pause(self) -> None: ...
    def next_step(self) -> None: ...
    def back(self) -> None: ...
    def repeat(self) -> None: ...
    def extend(self) -> None: ...
    def request_stop(self) -> None: ...


KEY_ACTIONS = {
    " ": "toggle_pause", "enter": "toggle_pause", "p": "toggle_pause",
    "n": "next_step", "right": "next_step", "pagedown": "next_step",
    "b": "back", "left": "back", "pageup": "back",
    "r": "repeat", "+": "extend", "=": "extend",
    "q": "request_stop",
}  # fmt: skip
"""Key name -> control. Arrows and Page Up/Down are what foot pedals and presenters send."""


def dispatch_key(controls: Controls, key: str) -> str | None:
    """Act on one key; returns the control's name, or None for a key that does nothing."""
    name = KEY_ACTIONS.get(key.lower() if len(key) == 1 else key)
    if name is not None:
        getattr(controls, name)()
    return name


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
        """Put the terminal back as it was and join the reader (safe to call twice)."""
        self._stop.set()
        if self._saved is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)  # it wakes every 0.1 s to look at the stop flag

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
