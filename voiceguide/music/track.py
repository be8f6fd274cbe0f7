"""A playable music track: what the playlist layer hands to the music stream."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Track:
    """One decodable audio file, already checked, with its loudness-matching gain."""

    path: Path
    duration_frames: int
    """Length at the mix rate (44.1 kHz)."""
    gain_db: float = 0.0
    """Gain that brings the track to the music loudness target (peak-guarded)."""
    title: str | None = None
    artist: str | None = None
