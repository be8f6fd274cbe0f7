"""The reference: what was played (44.1 kHz stereo int16) turned into the listening format.

Output sample j of a stretch lies at played frame `anchor_frame + j * 441 / 160`; a
Kaiser-windowed sinc in 160 polyphase phases (one per position between two played frames)
low-passes at 7.2 kHz and takes the value there. The echo canceller learns any fixed filter
between this and the echo, so what matters is that the same played frames always give the
same reference samples: the phase follows from the integer anchor, never from a clock.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voiceguide.audioformat import MIX_RATE_HZ
from voiceguide.listen.format import LISTEN_RATE_HZ

_UP = 160  # LISTEN_RATE_HZ / gcd
_DOWN = 441  # MIX_RATE_HZ / gcd
assert MIX_RATE_HZ * _UP == LISTEN_RATE_HZ * _DOWN
TAPS = 128
"""Played frames under one output sample: a ~1 kHz transition band, below 8 kHz."""
CUTOFF_HZ = 7_200.0

FetchPlayed = Callable[[int, int], np.ndarray]
"""(start_frame, n_frames) -> int16 stereo at 44.1 kHz; silence where nothing was played."""


def _phase_table() -> np.ndarray:
    """(160, TAPS) float32: weights of played frames floor(pos) - TAPS/2 + 1 + m."""
    half = TAPS // 2
    m = np.arange(-half + 1, half + 1, dtype=np.float64)
    fractions = np.arange(_UP) / _UP  # position = whole frame + phase / 160
    t = m[None, :] - fractions[:, None]  # distance from the output position, in played frames
    cutoff = CUTOFF_HZ / MIX_RATE_HZ
    window = np.kaiser(2 * half + 1, 8.0)
    # Evaluate the window at the fractional distance by linear interpolation of a fine grid.
    grid = np.linspace(-half, half, 2 * half + 1)
    weights = 2 * cutoff * np.sinc(2 * cutoff * t) * np.interp(t, grid, window)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights.astype(np.float32)


_TABLE = _phase_table()
_HALF = TAPS // 2


def frames_for_samples(n_samples: int) -> float:
    """Played frames spanned by `n_samples` at the listening rate."""
    return n_samples * _DOWN / _UP


def resample(
    fetch: FetchPlayed, anchor_frame: int, first_sample: int, n_samples: int
) -> np.ndarray:
    """int16 mono reference samples first_sample .. first_sample + n_samples - 1 of the stretch
    that starts at played frame `anchor_frame`."""
    index = np.arange(first_sample, first_sample + n_samples, dtype=np.int64)
    whole = index * _DOWN // _UP  # played frame at or before each position (from the anchor)
    phase = index * _DOWN % _UP
    lo = int(whole[0]) - _HALF + 1
    hi = int(whole[-1]) + _HALF + 1
    block = fetch(anchor_frame + lo, hi - lo)
    mono = block.astype(np.float32).sum(axis=1) * np.float32(0.5)
    offsets = (whole - whole[0])[:, None] + np.arange(TAPS)[None, :]
    values = np.einsum("ij,ij->i", mono[offsets], _TABLE[phase])
    return np.clip(np.rint(values), -32768, 32767).astype(np.int16)


def array_fetcher(played: np.ndarray) -> FetchPlayed:
    """A FetchPlayed over a whole int16 stereo array (silence outside it): offline use."""
    total = len(played)

    def fetch(start: int, count: int) -> np.ndarray:
        out = np.zeros((count, 2), dtype=np.int16)
        a, b = max(start, 0), min(start + count, total)
        if a < b:
            out[a - start : b - start] = played[a:b]
        return out

    return fetch
