"""The live player: a producer thread keeps the output's buffer filled from the timeline.

Everything here works in output frames. Edits (cut, pause, resume) take effect a fixed
margin ahead of the estimated playhead: far enough that the device has not read that part
of the buffer yet, near enough that the listener hears the change within half a second.

Threads: the player owns one lock (`lock`, re-entrant). The producer thread renders under it;
every edit of the timeline and every read of it (the conductor's events and state) holds it,
so nobody sees a timeline half-cut. Nothing slow (speech synthesis, file access) may run
while it is held: a render block is ~1 ms, an edit well under that. `close()` joins the
producer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from voiceguide.audioformat import CHANNELS, MIX_RATE_HZ
from voiceguide.mix.renderer import Renderer
from voiceguide.mix.timeline import Timeline
from voiceguide.output.base import LiveOutput
from voiceguide.priority import lower_this_thread

log = logging.getLogger(__name__)

EDIT_SPARE_FRAMES = int(0.05 * MIX_RATE_HZ)
"""The edit margin is the output's device buffer plus this: one request (20 ms) and 30 ms spare."""
CLOCK_DRIFT_ALLOWANCE = 150e-6
"""The playhead is estimated from the system clock, and a sound device's clock runs apart from
it: 120 ppm fast was measured on PulseAudio's null sink. The edit margin grows by this much per
frame played, so after a long stretch without a pause an edit still lands ahead of what the
device has taken (a pause restarts the estimate)."""
PAUSE_FADE_FRAMES = int(0.08 * MIX_RATE_HZ)
RESUME_FADE_FRAMES = int(0.03 * MIX_RATE_HZ)
BLOCK_FRAMES = 4096
MUSIC_WAIT_SPARE_FRAMES = MIX_RATE_HZ // 2
"""The producer renders up to 3 s ahead, but a block whose music ffmpeg has not decoded yet
(a track's first seconds) is left for a later round until it comes within the edit margin and
this much of the playhead: ffmpeg starts in tens of ms on an idle machine but took 2.2 s on a
loaded one, and waiting for it holds the lock that every control takes."""
TAIL_FRAMES = MIX_RATE_HZ // 2  # silence written after the end before stopping


class LivePlayer:
    """Plays a Timeline through a LiveOutput; thread-safe controls on output frames."""

    def __init__(self, timeline: Timeline, sink: LiveOutput) -> None:
        self.timeline = timeline
        self.sink = sink
        self.edit_margin_frames = sink.device_buffer_frames + EDIT_SPARE_FRAMES
        """Edits land this far ahead of the playhead: beyond what the device may have read."""
        self.lock = threading.RLock()
        """The one lock over the timeline and the buffer (see the module docstring)."""
        self._wake = threading.Event()
        self._write_frame = 0
        self._paused_at: int | None = None
        self._halt_after: int | None = None
        self._fade_in_at: int | None = None
        self._stop = False
        self._finished = threading.Event()
        self._error: BaseException | None = None
        self._lost = False
        self.music_waits = 0
        """Producer rounds ended early at a block whose music was still being decoded."""
        self._thread = threading.Thread(
            target=self._produce, name="voiceguide-producer", daemon=True
        )

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Prime the buffer, start playback and the producer."""
        self.sink.open(MIX_RATE_HZ, self.timeline.end_frame)
        with self.lock:
            self._fill(min(self.sink.prime_frames, self.timeline.end_frame + TAIL_FRAMES))
        self.sink.start(0)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the session has played to its end (or stopped)."""
        return self._finished.wait(timeout)

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def error(self) -> BaseException | None:
        return self._error

    @property
    def output_lost(self) -> bool:
        """True when the output stopped by itself (the sound server or device went away)."""
        return self._lost

    def stop(self) -> None:
        """Silence now (Ctrl-C, q): the sound ends within the device's buffer, ~0.2 s."""
        with self.lock:
            self._stop = True
            self._wake.set()
        self.sink.release()
        self._finished.set()
        self.close()

    def close(self) -> None:
        """Wait for the producer thread to end (it ends at the end, on stop, or on a fault)."""
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            with self.lock:
                self._stop = True
                self._wake.set()
            self._thread.join(timeout=2.0)

    def reopen(self) -> None:
        """After the output was lost: start a new stream where the sound was interrupted.

        The playhead estimate at the loss is where the listener stopped hearing; playing
        resumes from there (raises AudioOutputError while no output can be opened).
        """
        with self.lock:
            at = min(self.sink.halt(), self.timeline.end_frame)
            self._lost = False
            self._finished.clear()
            self._stop = False
            self._paused_at = at
            self._halt_after = None
        self.resume()
        if not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._produce, name="voiceguide-producer", daemon=True
            )
            self._thread.start()

    # -- position ---------------------------------------------------------------------------
    def playhead_frame(self) -> int:
        return min(self.sink.playhead_frame(), self.timeline.end_frame)

    def buffered_until(self) -> int:
        """The output frame up to which the buffer has been written."""
        with self.lock:
            return self._write_frame

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def edit_frame(self) -> int:
        """The first output frame an edit can still change."""
        with self.lock:
            if self._paused_at is not None:
                return self._paused_at
            return min(self.sink.playhead_frame() + self._margin_frames(), self._write_frame)

    def _margin_frames(self) -> int:
        """The edit margin now, grown by the clock drift allowed since the stream started."""
        drift = int(self.sink.frames_since_start() * CLOCK_DRIFT_ALLOWANCE)
        return self.edit_margin_frames + drift

    # -- controls -------------------------------------------------------------------------
    @contextmanager
    def editing(self) -> Iterator[int]:
        """Hold the producer still; yields the first output frame an edit can change."""
        with self.lock:
            yield self.edit_frame()

    @contextmanager
    def reading(self) -> Iterator[int]:
        """Hold the timeline still for a consistent read; yields the playhead frame."""
        with self.lock:
            yield self.playhead_frame()

    def cut(
        self,
        renderer: Renderer,
        plan_frame: int,
        at_frame: int | None = None,
        crossfade: bool = True,
    ) -> int:
        """From the edit frame on, play `renderer`'s plan from `plan_frame`; returns that frame."""
        with self.lock:
            at = self.edit_frame() if at_frame is None else at_frame
            self.timeline.cut(at, renderer, plan_frame, crossfade)
            self._write_frame = min(self._write_frame, at)
            if self._paused_at is not None:
                self._paused_at = at
            self._wake.set()
            return at

    def overlay(self, samples: np.ndarray) -> int:
        """Lay `samples` (int16 stereo) over the output from the edit frame on; returns it."""
        with self.lock:
            at = self.edit_frame()
            self.timeline.overlay(at, samples)
            self._write_frame = min(self._write_frame, at)
            self._wake.set()
            return at

    def pause(self) -> int:
        """Fade out just ahead of the playhead, then stop; returns the frame to resume at."""
        with self.lock:
            if self._paused_at is not None:
                return self._paused_at
            at = self.edit_frame()
            start = max(at - PAUSE_FADE_FRAMES, 0)
            block = self.timeline.render(start, at - start).astype(np.float32)
            ramp = np.linspace(1.0, 0.0, len(block), dtype=np.float32)
            self.sink.write_at(start, np.rint(block * ramp[:, None]).astype(np.int16))
            # Silence over all that was rendered ahead: the device reads on until the producer
            # halts it, which a loaded machine can delay.
            silent_until = max(self._write_frame, at + 2 * self.edit_margin_frames)
            self.sink.write_at(at, np.zeros((silent_until - at, CHANNELS), dtype=np.int16))
            self._paused_at = at
            self._halt_after = at + MIX_RATE_HZ // 10
            self._write_frame = at
            self._wake.set()
            return at

    def resume(self) -> int:
        """Continue at exactly the frame where the sound stopped, with a short fade-in."""
        with self.lock:
            at = self._paused_at
            if at is None:
                return self.playhead_frame()
            self._paused_at = None
            self._halt_after = None
            self._write_frame = at
            self._fade_in_at = at
            self._fill(at + self.sink.prime_frames)
            # A new stream loses its first few ms: start it on silence just before `at`.
            preroll = min(self.sink.preroll_frames, at)
            self.sink.write_at(at - preroll, np.zeros((preroll, CHANNELS), dtype=np.int16))
            self.sink.start(at - preroll)
            self._wake.set()
            return at

    # -- producer -------------------------------------------------------------------------
    def _fill(self, until_frame: int, wait_from_frame: int | None = None) -> None:
        """Render [write_frame, until_frame) into the sink buffer (lock held).

        From `wait_from_frame` on (None: nowhere), a block whose music is still being decoded
        ends this round: the producer comes back for it instead of waiting under the lock.
        """
        limit = min(until_frame, self.timeline.end_frame + TAIL_FRAMES, self.sink.capacity_frames)
        while self._write_frame < limit:
            n = min(BLOCK_FRAMES, limit - self._write_frame)
            if (
                wait_from_frame is not None
                and self._write_frame >= wait_from_frame
                and not self.timeline.music_ready(self._write_frame, n)
            ):
                self.music_waits += 1
                return
            block = self.timeline.render(self._write_frame, n)
            if self._fade_in_at is not None:
                block = self._apply_fade_in(self._write_frame, block)
            self.sink.write_at(self._write_frame, block)
            self._write_frame += n

    def _apply_fade_in(self, frame: int, block: np.ndarray) -> np.ndarray:
        assert self._fade_in_at is not None
        offset = frame - self._fade_in_at
        if offset >= RESUME_FADE_FRAMES:
            self._fade_in_at = None
            return block
        n = min(RESUME_FADE_FRAMES - offset, len(block))
        ramp = (np.arange(offset, offset + n, dtype=np.float32) + 0.5) / RESUME_FADE_FRAMES
        faded = block.astype(np.float32)
        faded[:n] *= ramp[:, None]
        return np.rint(faded).astype(np.int16)

    def _produce(self) -> None:
        lower_this_thread()  # its catch-up bursts must not delay the output's writer
        try:
            while not self._stop:
                with self.lock:
                    if self._stop:
                        break
                    playhead = self.sink.playhead_frame()
                    if self._paused_at is not None:
                        if self._halt_after is not None and playhead >= self._halt_after:
                            self.sink.halt()
                            self._halt_after = None
                    else:
                        wait_from = playhead + self._margin_frames() + MUSIC_WAIT_SPARE_FRAMES
                        self._fill(playhead + self.sink.ahead_frames, wait_from)
                        if playhead >= self.timeline.end_frame + TAIL_FRAMES // 2:
                            self.sink.halt()
                            self._finished.set()
                            return
                        if self.sink.lost():
                            log.debug("output lost at frame %d", playhead)
                            self._lost = True
                            self._finished.set()
                            return
                    self.sink.release_played()
                self._wake.wait(0.02)
                self._wake.clear()
        except BaseException as err:  # surfaced to the main thread, which ends the session
            log.debug("producer failed", exc_info=True)
            self._error = err
            self._finished.set()
