"""Spoken clips at the mix rate: synthesize once, trim, level, and cache on disk."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.audioformat import MIX_RATE_HZ
from voiceguide.errors import VoiceError
from voiceguide.speech.engines import EspeakEngine, SpeechEngine, make_engine
from voiceguide.speech.resample import to_mix_rate

log = logging.getLogger(__name__)

CLIP_PEAK_DBFS = -3.0
_SILENCE_THRESHOLD = 10 ** (-50 / 20)
_KEEP_BEFORE_FRAMES = 88  # 2 ms before the first sound, so the onset is not cut
_KEEP_AFTER_FRAMES = 1323  # 30 ms after the last sound
_FADE_OUT_FRAMES = 441  # 10 ms
_CACHE_VERSION = "v2"  # bump when the clip processing changes (v2: soxr resampling)


@dataclass(frozen=True)
class VoiceSettings:
    engine: str = "pyttsx3"
    voice: str | None = None
    rate_wpm: int = 150


def cache_key(settings: VoiceSettings, text: str) -> str:
    raw = "\x1f".join(
        (_CACHE_VERSION, settings.engine, settings.voice or "", str(settings.rate_wpm), text)
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def read_wav_mono(path: Path) -> tuple[np.ndarray, int]:
    """Float samples in [-1, 1) and the rate of a 16-bit WAV (channels averaged)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise VoiceError(f"{path}: expected 16-bit audio")
        rate, channels = wav.getframerate(), wav.getnchannels()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    samples = data.reshape(-1, channels).mean(axis=1) / 32768.0
    return samples, rate


def write_wav_mono(path: Path, samples_int16: np.ndarray) -> None:
    """Write atomically (temp file + rename) so a killed process never leaves half a clip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    with wave.open(tmp, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(MIX_RATE_HZ)
        wav.writeframes(samples_int16.astype("<i2").tobytes())
    Path(tmp).replace(path)


def shape_clip(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    """Trim the engine's silence, resample to the mix rate, set the peak: int16 mono."""
    audio = to_mix_rate(samples, rate_hz)
    loud = np.flatnonzero(np.abs(audio) > _SILENCE_THRESHOLD)
    if len(loud) == 0:
        raise VoiceError("speech engine produced silence")
    start = max(0, int(loud[0]) - _KEEP_BEFORE_FRAMES)
    end = min(len(audio), int(loud[-1]) + _KEEP_AFTER_FRAMES)
    audio = audio[start:end].copy()
    fade = min(_FADE_OUT_FRAMES, len(audio))
    audio[-fade:] *= np.linspace(1.0, 0.0, fade)
    audio *= 10 ** (CLIP_PEAK_DBFS / 20) / np.abs(audio).max()
    return np.round(audio * 32767.0).astype(np.int16)


class Voice:
    """Clips by text, from memory, then the disk cache, then the engine (espeak-ng as fallback)."""

    def __init__(self, settings: VoiceSettings, cache_dir: Path) -> None:
        self.settings = settings
        self.cache_dir = cache_dir
        self._memory: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._engine: SpeechEngine | None = None
        self._fallback: SpeechEngine | None = None

    def cache_path(self, text: str) -> Path:
        return self.cache_dir / f"{cache_key(self.settings, text)}.wav"

    def clip(self, text: str) -> np.ndarray:
        """The clip for `text`: int16 mono at the mix rate, peak at CLIP_PEAK_DBFS."""
        cached = self._memory.get(text)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._memory.get(text)
            if cached is not None:
                return cached
            path = self.cache_path(text)
            clip = self._load(path)
            if clip is None:
                clip = self._synthesize(text)
                write_wav_mono(path, clip)
            clip.setflags(write=False)
            self._memory[text] = clip
            return clip

    def clip_frames(self, text: str) -> int:
        return len(self.clip(text))

    def ready_frames(self, text: str) -> int | None:
        """The clip's length if it exists already (memory or disk), without synthesizing."""
        cached = self._memory.get(text)
        if cached is not None:
            return len(cached)
        try:
            with wave.open(str(self.cache_path(text)), "rb") as wav:
                if wav.getframerate() == MIX_RATE_HZ and wav.getnframes() > 0:
                    return wav.getnframes()
        except (OSError, EOFError, wave.Error):
            return None
        return None

    def _load(self, path: Path) -> np.ndarray | None:
        """A cached clip, or None if it is missing or not a mono 16-bit WAV at the mix rate.

        Read as int16 directly (the cache holds exactly what `clip` returns): no float
        temporaries, which cost time before the first sound and memory at each new step.
        """
        try:
            with wave.open(str(path), "rb") as wav:
                layout = (wav.getsampwidth(), wav.getnchannels(), wav.getframerate())
                if layout != (2, 1, MIX_RATE_HZ):
                    return None
                data = wav.readframes(wav.getnframes())
        except (OSError, EOFError, wave.Error):
            return None
        if not data or len(data) % 2:
            return None
        return np.frombuffer(data, dtype="<i2").astype(np.int16, copy=False)

    def _synthesize(self, text: str) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="voiceguide-tts-") as tmp:
            raw = Path(tmp) / "raw.wav"
            try:
                if self._engine is None:
                    self._engine = make_engine(
                        self.settings.engine, self.settings.voice, self.settings.rate_wpm
                    )
                self._engine.synthesize(text, raw)
                return shape_clip(*read_wav_mono(raw))
            except VoiceError as err:
                if self.settings.engine == EspeakEngine.name:
                    raise
                log.warning("%s; using the espeak-ng command instead", err)
            if self._fallback is None:
                self._fallback = EspeakEngine(self.settings.voice, self.settings.rate_wpm)
            raw.unlink(missing_ok=True)
            self._fallback.synthesize(text, raw)
            return shape_clip(*read_wav_mono(raw))

    def close(self) -> None:
        for engine in (self._engine, self._fallback):
            if engine is not None:
                engine.close()
