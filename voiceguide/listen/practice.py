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
from voiceguide.listen.pipeline import ECHO, VOICE_OUTSIDE, Heard
from voiceguide.listen.recognizer import CLOSE_CALL, MIN_FIT, NO_SENTENCE, UNCLEAR


class Silence:
    """The program's sound while practising: nothing plays."""

    def playhead_frame(self) -> int | None:
        return None

    def played(self, start_frame: int, n_frames: int) -> np.ndarray:
        return np.zeros((n_frames, CHANNELS), dtype=np.int16)


AGAIN = "say the wake phrase and the command in one breath"
REASONS = {
    ECHO: "the program's own sound may be in it",
    VOICE_OUTSIDE: "other words around it: say only the command",
    UNCLEAR: "not clear enough: say it again, a little slower",
    CLOSE_CALL: "too much like something else: say it again",
}
"""What each refusal (pipeline.Heard.refusal) means to the person practising."""


TALK_FIT = 0.0
"""A fit below which a refused sentence is taken for talk the grammar fitted somewhere, not
for a command said unclearly: "the weather is nice today", by six test talkers, came out as
a command at fits -5.4 to 1.7 (four of five below 0) and once as "voice guide start again"
(-7.7); commands refused as unclear in the benchmark fitted 1.5-3.9 (+12 to -12 dB,
BENCHMARKS.md section 6). Only for what the user is told."""


def explain(heard: Heard, wake_phrase: str) -> str:
    """One line on an utterance in the commands mode: the command a session would act on, or
    why it would not (from the same refusal the session goes by)."""
    r = heard.recognition
    refusal = heard.refusal()
    if refusal is None:
        return f"heard: {grammar.command_for(r.words, wake_phrase)}"
    if refusal == NO_SENTENCE and r.ignored and r.fit >= MIN_FIT[heard.mode]:
        # Said clearly, and meaning nothing.
        if r.ignored == wake_phrase:
            return f'not acted on: "{wake_phrase}" alone ({AGAIN})'
        return f'not acted on: "{r.ignored}" is not a command'
    if refusal == NO_SENTENCE or r.fit < TALK_FIT:
        return f"not acted on: no command in it ({AGAIN})"
    return f'not acted on: "{r.words}"? {REASONS[refusal]}'


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
