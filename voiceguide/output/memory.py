"""A LiveOutput without a device: it "plays" at the pace of a clock and keeps what it played.

For tests and benchmarks of the live path that need no sound server: with a FakeClock the
listener's time is moved by hand, and `heard()` is exactly what a device would have read.
The device reads the buffer lazily, like simpleaudio: whatever lies behind the playhead at
any call has been heard.
"""

from __future__ import annotations

import threading

import numpy as np

from voiceguide.audioformat import CHANNELS, MIX_RATE_HZ
from voiceguide.clock import Clock
from voiceguide.output.simpleaudio import Playhead


class MemoryOutput:
    """LiveOutput in memory, paced by `clock`."""

    name = "memory"
    prime_frames = MIX_RATE_HZ // 2
    preroll_frames = 0
    ahead_frames = 3 * MIX_RATE_HZ
    device_buffer_frames = 3 * MIX_RATE_HZ // 10
    """As a sound server would hold: edits land where they would on a real device."""

    def __init__(self, clock: Clock) -> None:
        self._playhead = Playhead(clock)
        self._buffer = np.zeros((0, CHANNELS), dtype=np.int16)
        self._heard: list[np.ndarray] = []
        self._read_frame = 0
        self._lock = threading.Lock()
        self.starts: list[int] = []
        self.unplugged = False
        """Set by a test to make the device vanish (`lost()` then says so)."""

    @property
    def capacity_frames(self) -> int:
        return len(self._buffer)

    def open(self, sample_rate_hz: int, total_frames: int) -> None:
        self._buffer = np.zeros((total_frames + 600 * MIX_RATE_HZ, CHANNELS), dtype=np.int16)

    def _consume(self) -> int:
        """Move what lies behind the playhead into what was heard; returns the playhead."""
        with self._lock:
            frame = min(self._playhead.frame(), len(self._buffer))
            if self._playhead.running and frame > self._read_frame:
                self._heard.append(self._buffer[self._read_frame : frame].copy())
            self._read_frame = max(self._read_frame, frame) if self._playhead.running else frame
            return frame

    def write_at(self, frame: int, block: np.ndarray) -> None:
        self._consume()
        end = min(frame + len(block), len(self._buffer))
        if end > frame:
            self._buffer[frame:end] = block[: end - frame]

    def start(self, frame: int) -> None:
        self._consume()
        with self._lock:
            self._playhead.start(frame)
            self._read_frame = frame
            self.starts.append(frame)

    def halt(self) -> int:
        frame = self._consume()
        with self._lock:
            return self._playhead.stop() if self._playhead.running else frame

    def playhead_frame(self) -> int:
        return self._consume()

    @property
    def playing(self) -> bool:
        return self._playhead.running

    def frames_since_start(self) -> int:
        return self._playhead.frames_since_start()

    def played(self, start_frame: int, n_frames: int) -> np.ndarray:
        out = np.zeros((n_frames, CHANNELS), dtype=np.int16)
        a, b = max(start_frame, 0), min(start_frame + n_frames, len(self._buffer))
        if a < b:
            out[a - start_frame : b - start_frame] = self._buffer[a:b]
        return out

    def release_played(self) -> None:
        self._consume()

    def lost(self) -> bool:
        return self.unplugged and self._playhead.running

    def release(self) -> None:
        self.halt()

    def heard(self) -> np.ndarray:
        """Everything the device has read, in order (pauses are simply absent)."""
        self._consume()
        with self._lock:
            if not self._heard:
                return np.zeros((0, CHANNELS), dtype=np.int16)
            return np.concatenate(self._heard)
