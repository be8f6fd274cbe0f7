"""Sample-rate conversion for short clips (speech, chimes) to the mix rate."""

from __future__ import annotations

import subprocess

import numpy as np

from voiceguide.audioformat import MIX_RATE_HZ

_HALF_BAND_TAPS = 48  # per side; stopband well below 16-bit noise for speech


def _half_band_kernel() -> np.ndarray:
    n = np.arange(-_HALF_BAND_TAPS, _HALF_BAND_TAPS + 1)
    # Ideal low-pass at half the new Nyquist, Kaiser-windowed, gain 2 to make up for zero-stuffing.
    kernel = np.sinc(n / 2.0) * np.kaiser(len(n), 8.6)
    return (kernel / kernel.sum() * 2.0).astype(np.float64)


_KERNEL = _half_band_kernel()


def upsample_2x(samples: np.ndarray) -> np.ndarray:
    """Double the rate of mono float samples (22.05 kHz -> 44.1 kHz), same length in time."""
    stuffed = np.zeros(len(samples) * 2, dtype=np.float64)
    stuffed[::2] = samples
    return np.convolve(stuffed, _KERNEL, mode="same")


def to_mix_rate(samples: np.ndarray, rate_hz: int) -> np.ndarray:
    """Mono float samples at `rate_hz` -> mono float64 at the mix rate."""
    if rate_hz == MIX_RATE_HZ:
        return samples.astype(np.float64)
    if rate_hz * 2 == MIX_RATE_HZ:
        return upsample_2x(samples)
    pcm = np.clip(samples * 32767.0, -32768, 32767).astype("<i2").tobytes()
    out = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-f",
            "s16le",
            "-ar",
            str(rate_hz),
            "-ac",
            "1",
            "-i",
            "pipe:0",
            "-f",
            "s16le",
            "-ar",
            str(MIX_RATE_HZ),
            "-ac",
            "1",
            "pipe:1",
        ],
        input=pcm,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64) / 32768.0
