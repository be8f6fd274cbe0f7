"""The two output protocols: a file-like Sink that takes blocks in order, and a LiveOutput.

A Sink (file, null) receives the whole session once, block after block. A LiveOutput is a
device that plays one buffer addressed by output frame: the live player writes a few seconds
ahead of the playhead, rewrites the part after an edit, and starts or halts playback at any
frame. Nothing outside voiceguide/output/ knows which library plays the sound.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Sink(Protocol):
    """Receives int16 stereo blocks in order; `close()` finishes the output."""

    name: str

    def open(self, sample_rate_hz: int, total_frames: int) -> None: ...

    def write(self, block: np.ndarray) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None:
        """Stop at once and discard what is unfinished (Ctrl-C)."""
        ...


class LiveOutput(Protocol):
    """A sound device playing one session-long buffer of int16 stereo frames.

    The caller keeps `write_at` ahead of `playhead_frame()`; a new stream loses its first
    milliseconds, so every `start` should begin on `preroll_frames` of silence.
    """

    prime_frames: int
    """Frames to write before the first `start` (so the device never starves at once)."""
    preroll_frames: int
    """Silence a new stream should start on."""
    ahead_frames: int
    """How far ahead of the playhead the buffer should be kept filled."""
    device_buffer_frames: int
    """How far ahead of the sound heard the device may already have read the buffer."""

    @property
    def capacity_frames(self) -> int:
        """The buffer's size: frames past it are never played."""
        ...

    def open(self, sample_rate_hz: int, total_frames: int) -> None:
        """Make the buffer for a session of `total_frames` (plus room for extensions)."""
        ...

    def write_at(self, frame: int, block: np.ndarray) -> None:
        """Put frames into the buffer at `frame`."""
        ...

    def start(self, frame: int) -> None:
        """Play from `frame` on (raises AudioOutputError if no device can be opened)."""
        ...

    def halt(self) -> int:
        """Stop playing now; returns the frame where the playhead stopped."""
        ...

    @property
    def playing(self) -> bool:
        """Started and not halted since."""
        ...

    def playhead_frame(self) -> int:
        """The frame being heard now (estimated)."""
        ...

    def frames_since_start(self) -> int:
        """Frames played since the last `start` (0 while halted)."""
        ...

    def played(self, start_frame: int, n_frames: int) -> np.ndarray:
        """What the buffer holds for [start_frame, start_frame + n): the reference of the sound
        that was (or is about to be) heard there; silence where nothing is held any more."""
        ...

    def release_played(self) -> None:
        """Give back memory well behind the playhead."""
        ...

    def lost(self) -> bool:
        """True when playback ended by itself while it should be playing (device gone)."""
        ...

    def release(self) -> None:
        """Silence at once and free the buffer (the end of a session, Ctrl-C)."""
        ...
