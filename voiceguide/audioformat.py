"""The one mix format every part agrees on: 44.1 kHz, stereo, int16 at the edges."""

from __future__ import annotations

MIX_RATE_HZ = 44_100
CHANNELS = 2
SAMPLE_BYTES = 2
FRAME_BYTES = CHANNELS * SAMPLE_BYTES
INT16_FULL_SCALE = 32_767


def seconds_to_frames(seconds: float, rate_hz: int = MIX_RATE_HZ) -> int:
    """Round a duration in seconds to whole frames."""
    return round(seconds * rate_hz)


def frames_to_seconds(frames: int, rate_hz: int = MIX_RATE_HZ) -> float:
    return frames / rate_hz


def db_to_gain(db: float) -> float:
    """Amplitude ratio for a level change in decibels."""
    return float(10.0 ** (db / 20.0))
