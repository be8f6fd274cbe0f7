"""Live output: one simpleaudio play object over a session-long buffer filled just ahead.

simpleaudio cannot stream, pause or report a position, and chaining play objects leaves gaps
of 11-53 ms (measured), so timing is never built on several play objects. It does read the
caller's buffer lazily, while playing. So the whole session is one anonymous private mmap:
the writer fills it a few seconds ahead of the playhead, pages
behind the playhead are given back with MADV_DONTNEED, and playback is one play object from
a start frame. Pausing stops that object after silence was written; resuming starts a new one
at the exact frame where the sound stopped.

simpleaudio asks ALSA for a fixed 100 ms of buffer, which the PulseAudio plugin passes on to
the server. Under CPU load the writer thread was measured late by more than that (with two
busy processes on two cores: silence of 27-215 ms inserted, and a few frames lost when ALSA
reopened the stream), so the sink asks libpulse for DEVICE_BUFFER_MS instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import mmap
import os
import threading
import time
from typing import Any

import numpy as np

from voiceguide.audioformat import CHANNELS, FRAME_BYTES, MIX_RATE_HZ, SAMPLE_BYTES
from voiceguide.clock import Clock, SystemClock
from voiceguide.errors import AudioOutputError

log = logging.getLogger(__name__)

HEADROOM_FRAMES = 90 * 60 * MIX_RATE_HZ  # room for extensions; virtual memory only
MAX_BUFFER_BYTES = 2**31 - 1  # simpleaudio keeps lengths in C ints
PRIME_FRAMES = MIX_RATE_HZ // 2  # written before playback starts (about 5 ms of work)
PREROLL_FRAMES = MIX_RATE_HZ // 20
"""Silence played first by every new play object: a new stream loses its first few ms."""
RELEASE_BEHIND_FRAMES = 5 * MIX_RATE_HZ
DEVICE_BUFFER_MS = 300
"""Sound the server holds for us, asked through PULSE_LATENCY_MSEC (read by libpulse, PulseAudio's
and PipeWire's alike, whenever ALSA's pulse plugin opens a stream). A writer late by up to about
this much is not heard. The device then reads the buffer up to this much (plus one 20 ms request)
ahead of the playhead, so the live player's edit margin is derived from it. Set for this process,
over any value of the user's: the margin relies on it."""
DEVICE_BUFFER_FRAMES = DEVICE_BUFFER_MS * MIX_RATE_HZ // 1000
STOP_WAIT_SECONDS = 5.0
"""How long a stopped play object's thread is waited for before the buffer is closed: it
drains the device's buffer first (DEVICE_BUFFER_MS of sound, in real time), later under load."""


def _still_playing(play: Any) -> bool:
    try:
        return bool(play.is_playing())
    except Exception:  # simpleaudio's own error type
        return False


def no_output_message(detail: str) -> str:
    return (
        f"no audio output could be opened (ALSA: {detail}). Check that a sound server"
        " (PulseAudio or PipeWire) is running and an output device is connected, or write the"
        " session to a file instead: voiceguide render -o session.wav"
    )


_ALSA_QUIET: list[object] = []  # the installed handler, kept alive


def ask_for_device_buffer() -> None:
    """Make the next stream ALSA's pulse plugin opens (and its reopenings) hold DEVICE_BUFFER_MS."""
    value = str(DEVICE_BUFFER_MS)
    if os.environ.get("PULSE_LATENCY_MSEC") != value:
        os.environ["PULSE_LATENCY_MSEC"] = value


def quiet_alsa() -> None:
    """Keep libasound's own error lines off the terminal; we report failures in one line."""
    if _ALSA_QUIET:
        return
    try:
        library = ctypes.CDLL(ctypes.util.find_library("asound") or "libasound.so.2")
    except OSError:
        return
    handler_type = ctypes.CFUNCTYPE(
        None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
    )
    handler = handler_type(lambda *args: None)
    library.snd_lib_error_set_handler(handler)
    _ALSA_QUIET.append(handler)


class Playhead:
    """Where playback is, from the clock: frames since the play object started."""

    def __init__(self, clock: Clock, rate_hz: int = MIX_RATE_HZ) -> None:
        self.clock = clock
        self.rate_hz = rate_hz
        self._start_frame = 0
        self._started_at = 0.0
        self._stopped_frame: int | None = 0  # not playing: the playhead rests here

    @property
    def running(self) -> bool:
        return self._stopped_frame is None

    def start(self, frame: int, at: float | None = None) -> None:
        """Playing `frame` from now on, or from `at` (a monotonic time taken earlier)."""
        self._start_frame = frame
        self._started_at = self.clock.monotonic() if at is None else at
        self._stopped_frame = None

    def stop(self) -> int:
        frame = self.frame()
        self._stopped_frame = frame
        return frame

    def frames_since_start(self) -> int:
        """Frames played by the current play object (0 while stopped)."""
        if self._stopped_frame is not None:
            return 0
        return int((self.clock.monotonic() - self._started_at) * self.rate_hz)

    def frame(self) -> int:
        if self._stopped_frame is not None:
            return self._stopped_frame
        elapsed = self.clock.monotonic() - self._started_at
        return self._start_frame + int(elapsed * self.rate_hz)


class SimpleaudioSink:
    """The LiveOutput on simpleaudio; also usable as a plain Sink (write blocks, close drains).

    Threads: simpleaudio plays from its own thread, reading the buffer; `start`, `halt` and
    `release` are serialized by a lock, and the caller (the live player) owns every write.
    """

    name = "simpleaudio"
    prime_frames = PRIME_FRAMES
    preroll_frames = PREROLL_FRAMES
    device_buffer_frames = DEVICE_BUFFER_FRAMES

    def __init__(self, clock: Clock | None = None, ahead_frames: int = 3 * MIX_RATE_HZ) -> None:
        self.clock = clock or SystemClock()
        self.ahead_frames = ahead_frames
        self.sample_rate_hz = MIX_RATE_HZ
        self._buffer: mmap.mmap | None = None
        self._frames: np.ndarray | None = None
        self._capacity = 0
        self._play: Any = None
        self._stopped_plays: list[Any] = []
        """Play objects stopped but maybe not ended: each one's thread drains the device's
        buffer, then calls into Python to release its view of ours."""
        self._playhead = Playhead(self.clock)
        self._released_bytes = 0
        self._write_frame = 0
        self._lock = threading.Lock()

    # -- buffer -------------------------------------------------------------------------
    def open(self, sample_rate_hz: int, total_frames: int) -> None:
        if sample_rate_hz != MIX_RATE_HZ:
            raise AudioOutputError(f"live output runs at {MIX_RATE_HZ} Hz")
        capacity = min(total_frames + HEADROOM_FRAMES, MAX_BUFFER_BYTES // FRAME_BYTES)
        self._buffer = mmap.mmap(-1, capacity * FRAME_BYTES, flags=mmap.MAP_PRIVATE)
        self._frames = np.frombuffer(self._buffer, dtype=np.int16).reshape(-1, CHANNELS)
        self._capacity = capacity
        self._write_frame = PREROLL_FRAMES

    @property
    def capacity_frames(self) -> int:
        return self._capacity

    def write_at(self, frame: int, block: np.ndarray) -> None:
        """Put frames into the buffer (the caller keeps ahead of what has been played)."""
        assert self._frames is not None
        end = min(frame + len(block), self._capacity)
        if end > frame:
            self._frames[frame:end] = block[: end - frame]

    def release_played(self) -> None:
        """Give the pages well behind the playhead back to the system: memory stays flat."""
        if self._buffer is None:
            return
        behind = self.playhead_frame() - RELEASE_BEHIND_FRAMES
        upto = (behind * FRAME_BYTES // mmap.PAGESIZE) * mmap.PAGESIZE
        start = self._released_bytes
        if upto > start:
            self._buffer.madvise(mmap.MADV_DONTNEED, start, upto - start)
            self._released_bytes = upto

    # -- playback -----------------------------------------------------------------------
    def start(self, frame: int) -> None:
        """Play from `frame` on (a new play object; any previous one is stopped first)."""
        import simpleaudio

        quiet_alsa()
        ask_for_device_buffer()
        assert self._buffer is not None
        with self._lock:
            self._stop_play_object()
            view = memoryview(self._buffer)[frame * FRAME_BYTES : self._capacity * FRAME_BYTES]
            # Timed before the call: the device may start reading before it returns, and a
            # playhead estimate ahead of the sound keeps edits ahead of what was read.
            called_at = self.clock.monotonic()
            try:
                self._play = simpleaudio.play_buffer(view, CHANNELS, SAMPLE_BYTES, MIX_RATE_HZ)
            except Exception as err:  # simpleaudio raises its own unnamed error type
                raise AudioOutputError(no_output_message(str(err).split(" -- MSG: ")[-1])) from None
            self._playhead.start(frame, at=called_at)

    def halt(self) -> int:
        """Stop the play object now; returns the estimated frame where it stopped."""
        with self._lock:
            self._stop_play_object()
            return self._playhead.stop()

    def _stop_play_object(self) -> None:
        if self._play is not None:
            self._stopped_plays = [p for p in self._stopped_plays if _still_playing(p)]
            self._stopped_plays.append(self._play)
            with contextlib.suppress(Exception):
                self._play.stop()
            self._play = None

    @property
    def playing(self) -> bool:
        return self._playhead.running

    def playhead_frame(self) -> int:
        """Estimated frame being heard now (simpleaudio has no position query)."""
        return self._playhead.frame()

    def frames_since_start(self) -> int:
        return self._playhead.frames_since_start()

    def lost(self) -> bool:
        """True once simpleaudio's own thread has ended while it should be playing.

        It ends early when ALSA reports an error: the sound server died or its sink went away.
        """
        with self._lock:
            return self._play is not None and self.playing and not self._play.is_playing()

    def played(self, start_frame: int, n_frames: int) -> np.ndarray:
        out = np.zeros((n_frames, CHANNELS), dtype=np.int16)
        frames = self._frames
        if frames is None:
            return out
        released = self._released_bytes // FRAME_BYTES
        a, b = max(start_frame, released, 0), min(start_frame + n_frames, self._capacity)
        if a < b:
            out[a - start_frame : b - start_frame] = frames[a:b]
        return out

    # -- the plain Sink protocol ----------------------------------------------------------
    def write(self, block: np.ndarray) -> None:
        self.write_at(self._write_frame, block)
        self._write_frame += len(block)
        if not self.playing and self._write_frame >= PRIME_FRAMES + PREROLL_FRAMES:
            self.start(0)
        while self.playing and self._write_frame - self.playhead_frame() > self.ahead_frames:
            self.clock.sleep(0.02)
        self.release_played()

    def close(self) -> None:
        """Play out what was written, then stop."""
        if not self.playing and self._write_frame > PREROLL_FRAMES:
            self.start(0)
        while self.playing and self.playhead_frame() < self._write_frame:
            self.clock.sleep(0.02)
        self.clock.sleep(DEVICE_BUFFER_MS / 1000)  # what the server still holds
        self.halt()
        self._close_buffer()

    def abort(self) -> None:
        """Silence at once (the plain Sink's name for `release`)."""
        self.release()

    def release(self) -> None:
        """Silence at once: blank what lies ahead of the playhead, then stop."""
        if self._frames is not None and self.playing:
            start = self.playhead_frame()
            self._frames[start : start + 2 * self.ahead_frames] = 0
        self.halt()
        self._close_buffer()

    def _close_buffer(self) -> None:
        # simpleaudio's own thread reads the buffer for a moment after stop(), drains the
        # device's buffer, then takes the GIL to release its view: unmapping the buffer before
        # that, or the interpreter ending before it, is a segfault (seen at the end of
        # sessions under load). Wait until every such thread has ended.
        self._play = None
        deadline = self.clock.monotonic() + STOP_WAIT_SECONDS
        while self._stopped_plays and self.clock.monotonic() < deadline:
            self._stopped_plays = [p for p in self._stopped_plays if _still_playing(p)]
            time.sleep(0.005)
        self._frames = None
        self._capacity = 0
        if self._buffer is not None:
            with contextlib.suppress(BufferError):
                self._buffer.close()  # fails while simpleaudio still holds a view: then GC
            self._buffer = None
