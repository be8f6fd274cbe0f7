"""Text-to-speech engines by name: pyttsx3 (in a spawned worker) and the espeak-ng command."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from voiceguide.errors import BadInputError
from voiceguide.speech.espeak import EspeakEngine
from voiceguide.speech.pyttsx3_engine import Pyttsx3Engine


class SpeechEngine(Protocol):
    """Writes one utterance to a mono 16-bit WAV file (any sample rate)."""

    name: str

    def synthesize(self, text: str, out_wav: Path) -> Path:
        """Write `text` to `out_wav`, or to another new file in its folder; return the file."""
        ...

    def close(self) -> None: ...


ENGINES: dict[str, type[Pyttsx3Engine] | type[EspeakEngine]] = {
    Pyttsx3Engine.name: Pyttsx3Engine,
    EspeakEngine.name: EspeakEngine,
}


def make_engine(name: str, voice: str | None, rate_wpm: int) -> SpeechEngine:
    try:
        engine_class = ENGINES[name]
    except KeyError:
        raise BadInputError(
            f"unknown speech engine {name!r} (choices: {', '.join(ENGINES)})"
        ) from None
    return engine_class(voice, rate_wpm)
