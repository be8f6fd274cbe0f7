"""16-bit WAV files of clips (spoken, recorded): how many frames, read as floats, written whole."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.errors import VoiceError
from voiceguide.files import PRIVATE_MODE, PendingFile

if TYPE_CHECKING:
    import numpy as np

# numpy is imported where it is used: the pyttsx3 worker reads wav_frames only, and a
# numpy import would add a fraction of a second to its start.


def wav_frames(path: Path) -> int | None:
    """Frames in a complete WAV file; None if it is missing or not (yet) a complete WAV.

    0 is a whole file that holds no sound (a header only).
    """
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes()
    except (OSError, EOFError, wave.Error):
        return None


def read_wav_mono(path: Path) -> tuple[np.ndarray, int]:
    """Float samples in [-1, 1) and the rate of a 16-bit WAV (channels averaged)."""
    import numpy as np

    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise VoiceError(f"{path}: expected 16-bit audio")
        rate, channels = wav.getframerate(), wav.getnchannels()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    samples = data.reshape(-1, channels).mean(axis=1) / 32768.0
    return samples, rate


def write_wav_mono(path: Path, samples_int16: np.ndarray, rate_hz: int) -> None:
    """Write a clip to the cache whole or not at all (voiceguide.files), user-only (0600)."""
    write_wav(path, samples_int16, rate_hz)


def write_wav(path: Path, samples_int16: np.ndarray, rate_hz: int) -> None:
    """As `write_wav_mono`, for mono (frames,) or interleaved (frames, channels) samples."""
    channels = 1 if samples_int16.ndim == 1 else samples_int16.shape[1]
    with PendingFile(path, mode=PRIVATE_MODE, owned=True, cache=True, suffix=".wav") as pending:
        assert pending.temp is not None
        with wave.open(str(pending.temp), "wb") as wav:
            wav.setnchannels(channels)
            wav.setsampwidth(2)
            wav.setframerate(rate_hz)
            wav.writeframes(samples_int16.astype("<i2").tobytes())
