"""The listening format: 16 kHz mono int16 in 10 ms frames (what parec delivers and
pocketsphinx and speexdsp expect)."""

from __future__ import annotations

LISTEN_RATE_HZ = 16_000
FRAME_SAMPLES = 160
"""10 ms: the echo canceller's and the voice detector's step."""
FRAME_SECONDS = FRAME_SAMPLES / LISTEN_RATE_HZ
SAMPLE_BYTES = 2
