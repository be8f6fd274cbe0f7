"""Sound files a user gives (recorded prompts, own chimes) as clips in the mix format, cached.

pydub decodes them (through ffmpeg: any format it reads) and finds their silence; soxr
resamples them, as it does speech. Imported only when a routine or the settings name such a
file, and pydub only when a clip is not in the cache yet: a warm start pays for neither.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import stat
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voiceguide.audioformat import CHANNELS, INT16_FULL_SCALE, MIX_RATE_HZ, db_to_gain
from voiceguide.errors import BadInputError, VoiceguideError, one_line
from voiceguide.reading import read_user_file
from voiceguide.speech.resample import to_mix_rate
from voiceguide.speech.wavfile import write_wav

log = logging.getLogger(__name__)

CLIP_VERSION = "c1"
"""Part of every cache key: bump it when the processing below changes."""
MAX_FILE_BYTES = 64 << 20
"""A minute of studio WAV (96 kHz, 24-bit, stereo) is 35 MB; a prompt or a chime is far less."""
SILENCE_BELOW_PEAK_DB = 40.0
"""Leading and trailing silence is what stays this far below the clip's peak (a phone's room
noise lies 50-60 dB below a spoken peak)..."""
SILENCE_FLOOR_DBFS = -60.0
"""... or below this level, for a very quiet recording."""
KEEP_BEFORE_MS = 2
"""Kept before the first sound, so its onset is not cut (as for synthesized speech)."""
KEEP_AFTER_MS = 30
FADE_OUT_FRAMES = 441
"""10 ms: the end of a trimmed clip never clicks."""
CUT_FADE_OUT_FRAMES = MIX_RATE_HZ // 4
"""A clip cut short (a chime of more than 5 s) fades out over 0.25 s instead."""


class ClipFileError(BadInputError):
    """A sound file that cannot be used: "PATH: problem" (the caller adds where it was named)."""


@dataclass(frozen=True)
class Clip:
    """A sound file made ready: int16 (frames, 2) at the mix rate, its peak at the level asked."""

    samples: np.ndarray
    cut: bool
    """The file lasted longer than allowed and was cut (a chime); say so."""


def load_clip(
    path: Path, *, peak_dbfs: float, max_seconds: float, cut_longer: bool, cache_dir: Path
) -> Clip:
    """The file at `path` as a clip: leading and trailing silence stripped, resampled, its peak
    at `peak_dbfs`; from the cache when the file (its resolved path, size and modification
    time) was processed before.

    Longer than `max_seconds`: cut to it if `cut_longer`, else a ClipFileError. So is a
    missing, empty, silent, unreadable or undecodable file.
    """
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        found = None  # read_user_file below says what is wrong, in its words
    cache_path = None
    if found is not None and stat.S_ISREG(found.st_mode):
        if found.st_size == 0:
            raise ClipFileError(f"{one_line(path)}: the file is empty")
        key = "\x1f".join(
            (CLIP_VERSION, os.path.realpath(path), str(found.st_size), str(found.st_mtime_ns),
             f"{peak_dbfs:.3f}", f"{max_seconds:.3f}", str(cut_longer))
        )  # fmt: skip
        cache_path = cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.wav"
        cached = _recall(cache_path)
        if cached is not None:
            return cached
    data = read_user_file(path, limit_bytes=MAX_FILE_BYTES, what="sound file", error=ClipFileError)
    if not data:
        raise ClipFileError(f"{one_line(path)}: the file is empty")
    clip = _process(data, path, peak_dbfs, max_seconds, cut_longer)
    if cache_path is not None:
        _store(cache_path, clip)
    return clip


def _cut_name(cache_path: Path) -> Path:
    return cache_path.with_name(f"{cache_path.stem}-cut.wav")


def _recall(cache_path: Path) -> Clip | None:
    """A clip `_store` wrote (int16 stereo at the mix rate), or None."""
    for candidate, cut in ((cache_path, False), (_cut_name(cache_path), True)):
        try:
            with wave.open(str(candidate), "rb") as wav:
                shape = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate())
                if shape != (CHANNELS, 2, MIX_RATE_HZ) or wav.getnframes() == 0:
                    continue
                data = wav.readframes(wav.getnframes())
        except (OSError, EOFError, wave.Error):
            continue
        samples = np.frombuffer(data, dtype="<i2").astype(np.int16).reshape(-1, CHANNELS)
        samples.setflags(write=False)
        return Clip(samples, cut)
    return None


def _store(cache_path: Path, clip: Clip) -> None:
    """Into the cache; a cache that cannot be written costs only the time to make it again."""
    try:
        write_wav(_cut_name(cache_path) if clip.cut else cache_path, clip.samples, MIX_RATE_HZ)
    except VoiceguideError as err:
        log.warning("%s; sound files are processed again at each start until it can", err)


def _process(
    data: bytes, path: Path, peak_dbfs: float, max_seconds: float, cut_longer: bool
) -> Clip:
    with warnings.catch_warnings():
        # pydub imports audioop, deprecated in Python 3.12 (audioop-lts stands in from 3.13):
        # nothing a user could act on.
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub import AudioSegment
        from pydub.exceptions import PydubException
        from pydub.silence import detect_leading_silence

    limit_ms = round(max_seconds * 1000)
    try:
        # One tenth of a second more than allowed is decoded: enough to know a file is too
        # long, without decoding an hour-long file.
        segment = AudioSegment.from_file(io.BytesIO(data), duration=max_seconds + 0.1)
    except FileNotFoundError as err:
        raise VoiceguideError(
            f"{err.filename or 'ffmpeg'} is not installed; it reads sound files"
            " (apt-get install ffmpeg)"
        ) from None
    except (PydubException, IndexError, KeyError, ValueError, TypeError, OSError) as err:
        raise ClipFileError(
            f"{one_line(path)}: not a sound file ffmpeg can read ({_last_line(err)})"
        ) from None
    cut = len(segment) > limit_ms
    if cut:
        if not cut_longer:
            raise ClipFileError(f"{one_line(path)}: lasts more than {max_seconds:g} s")
        segment = segment[:limit_ms]
    if len(segment) == 0 or segment.max_dBFS == float("-inf"):
        raise ClipFileError(f"{one_line(path)}: holds no sound (only silence)")
    threshold_db = max(SILENCE_FLOOR_DBFS, segment.max_dBFS - SILENCE_BELOW_PEAK_DB)

    def silence_ms(sound: Any) -> int:
        """The leading silence by 1 ms chunks (pydub's), skipping ahead by 10 ms chunks first
        (1 ms chunks all the way took 0.16 s for 1.4 s of silence). The same answer: a 10 ms
        chunk 10 dB below the threshold holds no 1 ms chunk above it."""
        coarse_db = threshold_db - 10.0
        skip = detect_leading_silence(sound, silence_threshold=coarse_db, chunk_size=10)
        rest = detect_leading_silence(sound[skip:], silence_threshold=threshold_db, chunk_size=1)
        return skip + rest

    lead_ms = silence_ms(segment)
    trail_ms = silence_ms(segment.reverse())
    if lead_ms >= len(segment):
        raise ClipFileError(f"{one_line(path)}: holds no sound (only silence)")
    samples = _as_floats(segment)
    rate = segment.frame_rate
    start = max(0, (lead_ms - KEEP_BEFORE_MS) * rate // 1000)
    end = min(len(samples), len(samples) - (trail_ms - KEEP_AFTER_MS) * rate // 1000)
    audio = to_mix_rate(samples[start:end], rate)
    fade = min(CUT_FADE_OUT_FRAMES if cut and trail_ms < KEEP_AFTER_MS else FADE_OUT_FRAMES,
               len(audio))  # fmt: skip
    audio[len(audio) - fade :] *= np.linspace(1.0, 0.0, fade)[:, None]
    audio *= db_to_gain(peak_dbfs) / np.abs(audio).max()
    stereo = np.repeat(audio, CHANNELS, axis=1) if audio.shape[1] == 1 else audio
    samples_int16 = np.round(stereo * INT16_FULL_SCALE).astype(np.int16)
    samples_int16.setflags(write=False)
    return Clip(samples_int16, cut)


def _as_floats(segment: Any) -> np.ndarray:
    """pydub's samples as floats in [-1, 1), (frames, 1) or (frames, 2): more channels than
    two are mixed down to one (a prompt is a voice; where it sits is ours to choose)."""
    width: int = segment.sample_width
    channels: int = segment.channels
    raw = np.asarray(segment.get_array_of_samples(), dtype=np.float64)
    samples = raw.reshape(-1, channels) / float(1 << (8 * width - 1))
    if channels > CHANNELS:
        samples = samples.mean(axis=1, keepdims=True)
    return samples


def _last_line(err: BaseException) -> str:
    """ffmpeg's last words (its error), not the banner pydub passes on."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return one_line(lines[-1][:200]) if lines else type(err).__name__
