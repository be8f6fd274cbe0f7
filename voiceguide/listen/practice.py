"""Practising the voice commands: listening with nothing playing, and saying of each thing
said whether a session would act on it, and if not, why.

    practice = Practice(on_line, warn, wake_phrase="voice guide")
    practice.start()   # NoInputError if there is no microphone
    ...                # on_line(seconds, "heard: next") or (seconds, 'not acted on: ...')
    practice.close()

The listening chain is the session's own (CommandListener), with silence as the program's
sound: nothing plays, so there is no echo to cancel, and what is refused is refused by the
grammar's checks, the ones a session applies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voiceguide.audioformat import CHANNELS
from voiceguide.listen import grammar
from voiceguide.listen.format import LISTEN_RATE_HZ
from voiceguide.listen.listener import CommandListener
from voiceguide.listen.pipeline import MAX_VOICE_OUTSIDE_SECONDS, Heard
from voiceguide.listen.recognizer import MIN_FIT, MIN_MARGIN


class Silence:
    """The program's sound while practising: nothing plays."""

    def playhead_frame(self) -> int | None:
        return None

    def played(self, start_frame: int, n_frames: int) -> np.ndarray:
        return np.zeros((n_frames, CHANNELS), dtype=np.int16)


AGAIN = "say the wake phrase and the command in one breath"


def explain(heard: Heard, wake_phrase: str) -> str:
    """One line on an utterance: the command a session would act on, or why it would not."""
    r = heard.recognition
    command = grammar.command_for(r.words, wake_phrase) if r.words else None
    if heard.accepted and command is not None:
        return f"heard: {command}"
    if r.ignored == wake_phrase:
        return f'not acted on: "{wake_phrase}" alone ({AGAIN})'
    if r.ignored:
        return f'not acted on: "{r.ignored}" is not a command'
    if command is None:
        return f"not acted on: no command in it ({AGAIN})"
    said = f'"{r.words}"'
    if heard.voice_outside_seconds > MAX_VOICE_OUTSIDE_SECONDS:
        return f"not acted on: {said} with other words around it (say only the command)"
    if r.fit < MIN_FIT[heard.mode]:
        return f"not acted on: {said}? not clear enough (say it again, a little slower)"
    if r.margin is not None and r.margin < MIN_MARGIN[heard.mode]:
        return f"not acted on: {said}? too close to another command (say it again)"
    return f"not acted on: {said} (the program's own sound may be in it)"


class Practice:
    """The session's listener on the microphone, with nothing playing; each utterance heard
    goes to `on_line(seconds since listening began, line)` from the listener's thread."""

    def __init__(
        self,
        on_line: Callable[[float, str], None],
        warn: Callable[[str], None],
        *,
        wake_phrase: str = grammar.DEFAULT_WAKE_PHRASE,
        source: str | None = None,
    ) -> None:
        self._on_line = on_line
        self.commands: list[str] = []
        """The commands a session would have acted on, in order."""
        self.listener = CommandListener(
            Silence(),
            self.commands.append,
            warn,
            wake_phrase=wake_phrase,
            source=source,
            latency_seconds=0.0,  # nothing plays: no echo delay to track
            on_heard=self._heard,
        )

    def _heard(self, heard: Heard) -> None:
        self._on_line(
            heard.start_sample / LISTEN_RATE_HZ, explain(heard, self.listener.wake_phrase)
        )

    def start(self) -> None:
        """Start the microphone; NoInputError if there is none."""
        self.listener.start()

    @property
    def source(self) -> str | None:
        return self.listener.source

    @property
    def listening(self) -> bool:
        return self.listener.listening

    def close(self) -> None:
        self.listener.close()
