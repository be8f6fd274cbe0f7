"""Text-to-speech engines by name: hibari (the natural voice, an extra), pyttsx3, espeak-ng."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from voiceguide.errors import BadInputError
from voiceguide.speech import espeak, hibari_engine
from voiceguide.speech.espeak import EspeakEngine
from voiceguide.speech.hibari_engine import HibariEngine
from voiceguide.speech.pyttsx3_engine import Pyttsx3Engine


class SpeechEngine(Protocol):
    """Writes one utterance to a mono 16-bit WAV file (any sample rate)."""

    name: str

    def synthesize(self, text: str, out_wav: Path) -> Path:
        """Write `text` to `out_wav`, or to another new file in its folder; return the file."""
        ...

    def close(self) -> None: ...


ENGINES: dict[str, type[HibariEngine] | type[Pyttsx3Engine] | type[EspeakEngine]] = {
    HibariEngine.name: HibariEngine,
    Pyttsx3Engine.name: Pyttsx3Engine,
    EspeakEngine.name: EspeakEngine,
}
NATURAL = HibariEngine.name
"""The natural voice: the default when its extra is installed."""
BASE = Pyttsx3Engine.name
"""The engine that always works (espeak-ng's voices): the default without the extra."""
ESPEAK_VOICED = frozenset({Pyttsx3Engine.name, EspeakEngine.name})
"""Engines that speak with espeak-ng's voices and samples, as the fallback command does."""


def check_engine(name: str) -> str:
    """`name` if it is an engine; BadInputError naming the choices otherwise."""
    if name not in ENGINES:
        raise BadInputError(f"unknown speech engine {name!r} (choices: {', '.join(ENGINES)})")
    return name


def choose_engine(engine: str | None, voice: str | None) -> str:
    """The engine for a session: the one asked for; else the natural voice when it is
    installed and `voice` is one of its own (or none is asked for); else pyttsx3.

    So a voice of espeak-ng's (`voice = "en-gb"` in config.toml) keeps its engine when the
    extra is installed later.
    """
    if engine is not None:
        return check_engine(engine)
    if hibari_engine.installed() and (voice is None or voice.lower() in hibari_engine.VOICES):
        return NATURAL
    return BASE


def engine_version(name: str) -> str:
    """What identifies an engine's sound beyond its name and voice, for the voice cache's
    key: the natural engine's package version; espeak-ng's for the engines on its voices (an
    upgraded espeak-ng would have had its clips served from the old one's cache)."""
    return hibari_engine.version() if name == NATURAL else espeak.version()


def make_engine(name: str, voice: str | None, rate_wpm: int) -> SpeechEngine:
    """A new engine (it starts, or loads its model, at the first clip)."""
    return ENGINES[check_engine(name)](voice, rate_wpm)
