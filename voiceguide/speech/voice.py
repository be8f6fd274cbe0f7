"""Spoken clips at the mix rate: synthesize once, trim, level, and cache on disk."""

from __future__ import annotations

import hashlib
import logging
import threading
import wave
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.audioformat import MIX_RATE_HZ
from voiceguide.errors import VoiceError, VoiceguideError, from_os_error
from voiceguide.files import remove_stale_temps_in
from voiceguide.speech.engines import ESPEAK_VOICED, SpeechEngine, engine_version, make_engine
from voiceguide.speech.espeak import EspeakEngine
from voiceguide.speech.hibari_engine import HibariEngine
from voiceguide.speech.resample import to_mix_rate
from voiceguide.speech.wavfile import read_wav_mono, write_wav_mono
from voiceguide.speech.workfolder import WorkFolder, remove_stale_work

__all__ = ["CLIP_PEAK_DBFS", "Voice", "VoiceSettings", "cache_key", "read_wav_mono", "shape_clip"]

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
    """A name in speech/engines.py (sessions get theirs from `engines.choose_engine`)."""
    voice: str | None = None
    rate_wpm: int = 150


def cache_key(settings: VoiceSettings, text: str) -> str:
    """The clip's name in the disk cache: engine, its version, voice, rate and text."""
    parts = [_CACHE_VERSION, settings.engine, settings.voice or "", str(settings.rate_wpm), text]
    version = engine_version(settings.engine)
    if version:  # "" when the engine cannot be asked: it will not speak either
        parts.insert(2, version)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


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


MEMORY_BYTES = 64 * 1024 * 1024
"""Clips kept in memory (about 250 sentences); the others are read from the disk cache
again when needed, so a routine of 10,000 steps costs no more memory than one of ten."""


class Voice:
    """Clips by text: from memory, then the disk cache, then the engine.

    If the engine fails (pyttsx3 cannot start, or stopped answering; the natural voice is
    missing or cannot load), the espeak-ng command makes this clip and every later one of
    the session, with one warning: in the same voice for pyttsx3, whose clips it is cached
    as (the samples are the same); in espeak-ng's default voice for the natural engine,
    cached as espeak-ng's own, so the natural voice makes them once it works again. A
    cache folder that cannot be written is warned about once; clips are then kept in
    memory only.
    """

    def __init__(self, settings: VoiceSettings, cache_dir: Path) -> None:
        self.settings = settings
        self.cache_dir = cache_dir
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_bytes = 0
        self._pinned: set[str] = set()
        """Clips not on the disk (the cache could not be written): never evicted."""
        self._frames: dict[str, int] = {}
        self._lock = threading.Lock()
        """Held while synthesizing: one engine call at a time."""
        self._memory_lock = threading.Lock()
        """Held for a moment to read or change the clips in memory."""
        self._engine: SpeechEngine | None = None
        self._fallback: SpeechEngine | None = None
        self._engine_failed = False
        self._work = WorkFolder(cache_dir)
        self._cache_warned = False
        self._count = 0
        remove_stale_work(cache_dir)
        remove_stale_temps_in(cache_dir)  # clips being written when a run was killed

    @property
    def fell_back(self) -> bool:
        """Whether the engine failed and the espeak-ng command speaks instead (warned once)."""
        return self._engine_failed

    @property
    def synthesized(self) -> int:
        """How many clips this voice has made (not read from the cache) so far."""
        return self._count

    def cache_path(self, text: str, settings: VoiceSettings | None = None) -> Path:
        """Where the clip for `text` is cached (made with `settings`, by default the voice's)."""
        return self.cache_dir / f"{cache_key(settings or self.settings, text)}.wav"

    def _fallback_settings(self) -> VoiceSettings:
        """What the espeak-ng command speaks with when the engine failed."""
        if self.settings.engine in ESPEAK_VOICED:
            return self.settings
        return VoiceSettings(EspeakEngine.name, None, self.settings.rate_wpm)

    def start_engine(self) -> None:
        """Let the engine start loading now, without waiting (the natural voice's worker
        loads its model meanwhile); the first clip that needs it waits for it."""
        with self._lock:
            if self._engine_failed:
                return
            try:
                if self._engine is None:
                    self._engine = make_engine(
                        self.settings.engine, self.settings.voice, self.settings.rate_wpm
                    )
                if isinstance(self._engine, HibariEngine):  # the others start in no time
                    self._engine.preload()
            except VoiceError:
                pass  # the first clip tries again, and warns

    def clip(self, text: str) -> np.ndarray:
        """The clip for `text`: int16 mono at the mix rate, peak at CLIP_PEAK_DBFS.

        A clip in memory or on the disk never waits for a synthesis under way in another
        thread (the live producer must not wait for the background voice).
        """
        cached = self._recall(text)
        if cached is not None:
            return cached
        path = self.cache_path(text)
        clip = self._load(path)
        if clip is None:
            with self._lock:
                cached = self._recall(text)
                if cached is not None:
                    return cached
                clip = self._load(path)
                if clip is None:
                    clip, made_with = self._synthesize(text)
                    if not self._store(self.cache_path(text, made_with), clip):
                        self._pinned.add(text)
        clip.setflags(write=False)
        self._remember(text, clip)
        return clip

    def _recall(self, text: str) -> np.ndarray | None:
        with self._memory_lock:
            cached = self._memory.get(text)
            if cached is not None:
                self._memory.move_to_end(text)
            return cached

    def _remember(self, text: str, clip: np.ndarray) -> None:
        with self._memory_lock:
            self._frames[text] = len(clip)
            if text in self._memory:
                return
            self._memory[text] = clip
            self._memory_bytes += clip.nbytes
            for old in list(self._memory):
                if self._memory_bytes <= MEMORY_BYTES or old == text:
                    break
                if old not in self._pinned:
                    self._memory_bytes -= self._memory.pop(old).nbytes

    def clip_frames(self, text: str) -> int:
        return len(self.clip(text))

    def ready_frames(self, text: str) -> int | None:
        """The clip's length if it exists already (memory or disk), without synthesizing."""
        known = self._frames.get(text)
        if known is not None:
            return known
        try:
            with wave.open(str(self.cache_path(text)), "rb") as wav:
                if wav.getframerate() == MIX_RATE_HZ and wav.getnframes() > 0:
                    self._frames[text] = wav.getnframes()
                    return wav.getnframes()
        except (OSError, EOFError, wave.Error):
            return None
        return None

    def _load(self, path: Path) -> np.ndarray | None:
        """A cached clip (mono 16-bit at the mix rate, as `_store` writes them), or None."""
        try:
            with wave.open(str(path), "rb") as wav:
                if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (
                    1, 2, MIX_RATE_HZ,
                ):  # fmt: skip
                    return None
                data = wav.readframes(wav.getnframes())
        except (OSError, EOFError, wave.Error):
            return None
        clip = np.frombuffer(data, dtype="<i2").astype(np.int16)
        return clip if len(clip) else None

    def _store(self, path: Path, clip: np.ndarray) -> bool:
        """Put the clip in the disk cache; False (warned once) if it cannot be written."""
        if not self._work.in_cache:
            return False
        try:
            write_wav_mono(path, clip, MIX_RATE_HZ)
        except VoiceguideError as err:  # the disk is full, say
            self._warn_cache(str(err))
            return False
        return True

    def _warn_cache(self, problem: str) -> None:
        if not self._cache_warned:
            self._cache_warned = True
            log.warning("%s; clips are made again at each start until it can", problem)

    def _work_dir(self) -> Path:
        """This process's folder for the engines' raw files (made on first use)."""
        folder = self._work.path()
        if self._work.problem is not None:
            doing = "cannot write the voice cache"
            self._warn_cache(str(from_os_error(self._work.problem, self.cache_dir, doing=doing)))
        return folder

    def _synthesize(self, text: str) -> tuple[np.ndarray, VoiceSettings]:
        """The clip, and the settings it is cached as (the fallback's own when the fallback
        speaks with another voice)."""
        self._count += 1
        raw = self._work_dir() / f"raw-{self._count}.wav"
        if not self._engine_failed:
            try:
                if self._engine is None:
                    self._engine = make_engine(
                        self.settings.engine, self.settings.voice, self.settings.rate_wpm
                    )
                # Only the file written is removed here: a late pyttsx3 worker may still be
                # writing `raw` (its engine removes it when the answer comes, or close does).
                return self._read_raw(self._engine.synthesize(text, raw)), self.settings
            except VoiceError as err:
                if self.settings.engine == EspeakEngine.name:
                    raise
                log.warning("%s; using the espeak-ng command instead", err)
                self._engine_failed = True  # for the rest of the session: no timeout per clip
                if self._engine is not None:
                    self._engine.close()
                    self._engine = None
        fallback = self._fallback_settings()
        if self._fallback is None:
            self._fallback = EspeakEngine(fallback.voice, fallback.rate_wpm)
        raw = raw.with_name(f"{raw.stem}.fallback.wav")
        try:
            return self._read_raw(self._fallback.synthesize(text, raw)), fallback
        finally:
            raw.unlink(missing_ok=True)

    @staticmethod
    def _read_raw(written: Path) -> np.ndarray:
        try:
            return shape_clip(*read_wav_mono(written))
        finally:
            written.unlink(missing_ok=True)

    def close(self) -> None:
        for engine in (self._engine, self._fallback):
            if engine is not None:
                engine.close()
        self._engine = self._fallback = None
        self._work.remove()
