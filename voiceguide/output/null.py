"""A sink that only counts: for tests and benchmarks."""

from __future__ import annotations

import hashlib

import numpy as np


class NullSink:
    name = "null"

    def __init__(self) -> None:
        self.frames_written = 0
        self.digest = hashlib.sha256()
        self.closed = False

    def open(self, sample_rate_hz: int, total_frames: int) -> None:
        self.frames_written = 0

    def write(self, block: np.ndarray) -> None:
        self.frames_written += len(block)
        self.digest.update(block.tobytes())

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True
