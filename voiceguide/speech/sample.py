"""A spoken sample to choose a voice by ear, and the table of every engine's voices."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.audioformat import CHANNELS, MIX_RATE_HZ
from voiceguide.errors import VoiceError
from voiceguide.output.base import Sink
from voiceguide.speech import hibari_engine
from voiceguide.speech.engines import NATURAL, choose_engine
from voiceguide.speech.espeak import EspeakEngine, list_voices
from voiceguide.speech.voice import Voice, VoiceSettings

ESPEAK_ENGINES = EspeakEngine.name
"""The engines that speak with espeak-ng's voices (pyttsx3 too) are listed under its name."""


@dataclass(frozen=True)
class VoiceRow:
    """One voice in `voiceguide voices`."""

    voice: str
    """What to give --voice."""
    name: str
    engines: str
    default: bool
    """The voice a session uses when nothing else is chosen."""


def voice_rows(engine: str | None, voice: str | None) -> list[VoiceRow]:
    """Every engine's voices, the natural voice's first; `engine` and `voice` are the
    settings' (None: not chosen), which decide the default. VoiceError if espeak-ng lists
    no voices."""
    default_engine = choose_engine(engine, voice)
    rows: list[VoiceRow] = []
    if hibari_engine.installed():
        wanted = hibari_engine.DEFAULT_VOICE if voice is None else voice.lower()
        rows += [
            VoiceRow(name, text, NATURAL, default_engine == NATURAL and name == wanted)
            for name, text in hibari_engine.VOICES.items()
        ]
    espeak_voices = list_voices()
    if not espeak_voices:
        raise VoiceError("espeak-ng lists no voices: is it installed? (apt-get install espeak-ng)")
    espeak_default = default_engine != NATURAL
    for identifier, name, is_default in espeak_voices:
        chosen = is_default if voice is None else voice.lower() == identifier.lower()
        rows.append(VoiceRow(identifier, name, ESPEAK_ENGINES, espeak_default and chosen))
    return rows


def stereo(clip: np.ndarray) -> np.ndarray:
    """A mono int16 clip as the mix's int16 frames (the same samples in every channel)."""
    return np.repeat(clip[:, np.newaxis], CHANNELS, axis=1)


def say_sample(
    settings: VoiceSettings, cache_dir: Path, text: str, sink: Sink
) -> tuple[float, bool]:
    """Say `text` with `settings` into `sink` (the speakers or a file): its seconds, and
    whether the espeak-ng command said it because the engine failed (warned about).

    The clip goes through the voice cache as a session's do: a sample of a routine's
    sentence is the very clip the session plays.
    """
    voice = Voice(settings, cache_dir)
    try:
        clip = voice.clip(text)
        fell_back = voice.fell_back
    finally:
        voice.close()
    frames = stereo(clip)
    sink.open(MIX_RATE_HZ, len(frames))
    try:
        sink.write(frames)
    except BaseException:
        sink.abort()
        raise
    sink.close()
    return len(clip) / MIX_RATE_HZ, fell_back
