"""Which played frames the echo in each microphone chunk comes from.

A chunk read at monotonic time t holds sound that reached the microphone a little earlier;
its echo part left the loudspeaker earlier still. All of those delays add up to one figure,
the output->input latency L: the last sample of a chunk read when the player's playhead
estimate is P contains the echo of played frame P - L * 44100. The canceller needs the
reference to *lead* the echo (it models delays from 0 to 256 ms only), so the reference for
that sample is taken LEAD_SECONDS later than the estimate: played frame P - (L - lead) * 44100.

The mapping is anchored: once placed, reference frames advance exactly 441 per 160 microphone
samples, so the reference is a clean resampling of what was played (a mapping that followed
every jittery read would smear it). The anchor moves only when
- the playhead stops (pause, end): the reference is silence until it moves again;
- the estimate drifts away from the anchor by more than REANCHOR_SECONDS (device clocks);
- the measured echo delay says L was wrong (`estimate_delay`, cross-correlation of the
  microphone with the reference, run on a few seconds of sound after the start and then
  periodically): the anchor is shifted so the echo again sits LEAD_SECONDS behind.

Reads are late by a random few milliseconds, which only makes P larger, i.e. the reference
lead a little more: safe. The smallest offset over the last second is used for drift checks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from voiceguide.audioformat import MIX_RATE_HZ
from voiceguide.listen.format import LISTEN_RATE_HZ
from voiceguide.listen.reference import frames_for_samples, resample

DEFAULT_LATENCY_SECONDS = 0.04
"""Measured on the test rig (simpleaudio -> PulseAudio null sink -> loopback 40 ms -> monitor
-> parec, playhead from the clock): 29-46 ms from run to run (BENCHMARKS.md). With 40 ms the
echo lands 29-46 ms behind the reference, inside the tracker's window. Real devices differ;
DelayTracker corrects it within seconds."""
LEAD_SECONDS = 0.04
REANCHOR_SECONDS = 0.1
"""The playhead estimate may wander this far from the anchor before the anchor follows it."""
MAX_LEAD_SECONDS = 0.15
"""The echo may trail the reference by up to this much: the canceller's 256 ms tail still
holds most of the room's response. A playback underrun delays the sound behind the clock (the
echo trails more); the canceller re-adapts to such a shift faster than it would re-learn a
moved reference, so the anchor is moved only outside LEAD_SECONDS / 2 .. MAX_LEAD_SECONDS."""
STILL_SECONDS = 0.06
"""A playhead that has not advanced for this long is stopped (pause, end)."""
DELAY_SEARCH_SECONDS = 0.5
DELAY_WINDOW_SECONDS = 3.0
FIRST_CHECK_SECONDS = 1.5
"""Checks come this often until the delay is confirmed in place, then every RECHECK_SECONDS."""
RECHECK_SECONDS = 15.0
MIN_SHARPNESS = 8.0
ACTIVE_SHARE = 0.8
"""Share of 100 ms blocks of the window in which the reference must sound (silence or a
talker alone give meaningless correlation peaks)."""
AGREE_SAMPLES = 32
"""Two successive estimates must agree within 2 ms before the anchor is moved."""


def estimate_delay(mic: np.ndarray, ref: np.ndarray, max_lag: int) -> tuple[int, float] | None:
    """(lag in samples by which `mic` trails `ref`, peak sharpness), by GCC-PHAT; None if flat.

    Sharpness is the peak over the mean absolute correlation: above ~8 it is a real echo path.
    """
    n = len(mic)
    if n < 2 * max_lag or not np.any(ref):
        return None
    size = 1 << (2 * n - 1).bit_length()
    cross = np.fft.rfft(mic.astype(np.float64), size) * np.conj(
        np.fft.rfft(ref.astype(np.float64), size)
    )
    cross /= np.abs(cross) + 1e-9
    corr = np.fft.irfft(cross, size)
    window = np.concatenate([corr[-max_lag:], corr[: max_lag + 1]])
    peak = int(np.argmax(np.abs(window)))
    floor = float(np.mean(np.abs(window))) + 1e-12
    return peak - max_lag, float(np.abs(window[peak]) / floor)


class ReferenceAligner:
    """Turns (chunk length, playhead at its read) into the reference samples for that chunk."""

    def __init__(
        self,
        fetch: Callable[[int, int], np.ndarray],
        latency_seconds: float = DEFAULT_LATENCY_SECONDS,
    ) -> None:
        self._fetch = fetch
        self.latency_seconds = latency_seconds
        self._offset_frames = round((latency_seconds - LEAD_SECONDS) * MIX_RATE_HZ)
        self._sample = 0  # microphone samples seen so far
        self._anchor: tuple[int, int] | None = None  # (mic sample, played frame)
        self._last_playhead: int | None = None
        self._last_time: float | None = None
        self._changed_at: float | None = None
        self._errors: deque[float] = deque(maxlen=50)
        self.reanchors = 0

    def _frame_at(self, sample: int) -> float:
        assert self._anchor is not None
        anchor_sample, anchor_frame = self._anchor
        return anchor_frame + frames_for_samples(sample - anchor_sample)

    def reference(self, n_samples: int, playhead: int | None, read_time: float) -> np.ndarray:
        """int16 reference for the next `n_samples` microphone samples, read at `read_time`
        while the player's playhead estimate was `playhead` (None: nothing playing)."""
        first = self._sample
        self._sample += n_samples
        moving = self._moving(playhead, read_time)
        self._last_playhead, self._last_time = playhead, read_time
        if not moving or playhead is None:
            self._anchor = None
            self._errors.clear()
            return np.zeros(n_samples, dtype=np.int16)
        target = playhead - self._offset_frames  # reference frame for the chunk's last sample
        if self._anchor is None:
            self._place(self._sample - 1, target)
        else:
            self._errors.append(target - self._frame_at(self._sample - 1))
            if len(self._errors) >= 10 and abs(min(self._errors)) > REANCHOR_SECONDS * MIX_RATE_HZ:
                self._place(
                    self._sample - 1, round(self._frame_at(self._sample - 1) + min(self._errors))
                )
        assert self._anchor is not None
        anchor_sample, anchor_frame = self._anchor
        return resample(self._fetch, anchor_frame, first - anchor_sample, n_samples)

    def _place(self, sample: int, frame: int) -> None:
        self._anchor = (sample, frame)
        self._errors.clear()
        self.reanchors += 1

    def _moving(self, playhead: int | None, read_time: float) -> bool:
        """False once the playhead has not advanced for STILL_SECONDS of reads (reads come in
        bursts microseconds apart, so one pair of reads says nothing)."""
        if playhead is None:
            self._changed_at = None
            return False
        if self._last_playhead is None or playhead > self._last_playhead:
            self._changed_at = read_time
        return self._changed_at is not None and read_time - self._changed_at < STILL_SECONDS

    def correct_delay(self, measured_lag_samples: int) -> None:
        """The echo trails the reference by this much: move the anchor so it trails by the lead."""
        lead = LEAD_SECONDS * LISTEN_RATE_HZ
        shift_frames = round((lead - measured_lag_samples) * MIX_RATE_HZ / LISTEN_RATE_HZ)
        # Wanting more lead means taking reference frames from later in the programme.
        self._offset_frames -= shift_frames
        self.latency_seconds = self._offset_frames / MIX_RATE_HZ + LEAD_SECONDS
        if self._anchor is not None:
            anchor_sample, anchor_frame = self._anchor
            self._place(anchor_sample, anchor_frame + shift_frames)


@dataclass
class DelayTracker:
    """Watches microphone and reference; says when the echo has left the place it should be
    (LEAD_SECONDS / 2 to MAX_LEAD_SECONDS behind the reference) by the lag to correct."""

    estimates: list[tuple[int, float]] = field(default_factory=list)
    _mic: deque[np.ndarray] = field(default_factory=deque)
    _ref: deque[np.ndarray] = field(default_factory=deque)
    _held: int = 0
    _since_check: int = 0
    _interval: float = FIRST_CHECK_SECONDS
    _candidate: int | None = None

    def feed(self, mic: np.ndarray, ref: np.ndarray) -> int | None:
        """The lag to hand to ReferenceAligner.correct_delay, or None (nothing to do)."""
        self._mic.append(mic)
        self._ref.append(ref)
        self._held += len(mic)
        self._since_check += len(mic)
        window = int(DELAY_WINDOW_SECONDS * LISTEN_RATE_HZ)
        while self._held - len(self._mic[0]) >= window:
            self._held -= len(self._mic.popleft())
            self._ref.popleft()
        if self._held < window or self._since_check < self._interval * LISTEN_RATE_HZ:
            return None
        self._since_check = 0
        mic_all, ref_all = np.concatenate(self._mic), np.concatenate(self._ref)
        block = LISTEN_RATE_HZ // 10
        blocks = ref_all[: len(ref_all) // block * block].astype(np.float64).reshape(-1, block)
        if np.mean(np.sqrt(np.mean(blocks**2, axis=1)) > 30) < ACTIVE_SHARE:
            return None
        found = estimate_delay(mic_all, ref_all, int(DELAY_SEARCH_SECONDS * LISTEN_RATE_HZ))
        if found is None or found[1] < MIN_SHARPNESS:
            return None
        self.estimates.append(found)
        lag, candidate = found[0], self._candidate
        self._candidate = lag
        if candidate is None or abs(lag - candidate) > AGREE_SAMPLES:
            return None
        lead = LEAD_SECONDS * LISTEN_RATE_HZ
        if lead / 2 <= lag <= MAX_LEAD_SECONDS * LISTEN_RATE_HZ:
            self._interval = RECHECK_SECONDS
            return None
        # The reference is about to move: what is held no longer matches it.
        self._mic.clear()
        self._ref.clear()
        self._held = 0
        self._candidate = None
        self._interval = FIRST_CHECK_SECONDS
        return lag
