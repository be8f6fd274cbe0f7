"""Music gain over time: fades at music spans and ducking under speech, from lookup tables.

Every gain is read from a table computed once, never from a transcendental function of the
block's frames, so a block gives the same bytes wherever the block boundaries fall.
"""

from __future__ import annotations

import numpy as np

from voiceguide.audioformat import db_to_gain
from voiceguide.mix.plan import Plan


def _db_ramp(frames: int, from_db: float, to_db: float) -> np.ndarray:
    """Gains moving linearly in dB (what the ear hears as a smooth change), frames long."""
    if frames <= 0:
        return np.ones(0, dtype=np.float32)
    x = (np.arange(frames, dtype=np.float64) + 0.5) / frames
    return (10.0 ** ((from_db + (to_db - from_db) * x) / 20.0)).astype(np.float32)


def _cosine_ramp(frames: int) -> np.ndarray:
    """0 -> 1 raised-cosine fade."""
    if frames <= 0:
        return np.ones(0, dtype=np.float32)
    x = (np.arange(frames, dtype=np.float64) + 0.5) / frames
    return (0.5 - 0.5 * np.cos(np.pi * x)).astype(np.float32)


class MusicEnvelope:
    """gain(start, n) -> float32 (n,): span fades x duck; zero where no music plays."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._duck_low = np.float32(db_to_gain(plan.duck_db))
        self._tables: dict[tuple[str, int], np.ndarray] = {}

    def _table(self, kind: str, frames: int) -> np.ndarray:
        key = (kind, frames)
        table = self._tables.get(key)
        if table is None:
            if kind == "down":
                table = _db_ramp(frames, 0.0, self.plan.duck_db)
            elif kind == "up":
                table = _db_ramp(frames, self.plan.duck_db, 0.0)
            else:
                table = _cosine_ramp(frames)
            self._tables[key] = table
        return table

    def gain(self, start_frame: int, n_frames: int) -> np.ndarray:
        gain = np.zeros(n_frames, dtype=np.float32)
        end = start_frame + n_frames
        for span in self.plan.music_spans_in(start_frame, end):
            a, b = max(start_frame, span.start_frame), min(end, span.end_frame)
            if a >= b:
                continue
            gain[a - start_frame : b - start_frame] = 1.0
            length = span.end_frame - span.start_frame
            fade_in = min(self.plan.music_fade_in_frames, length // 2)
            fade_out = min(self.plan.music_fade_out_frames, length // 2)
            self._apply(gain, start_frame, span.start_frame, "fade", fade_in, reverse=False)
            fade_out_at = span.end_frame - fade_out
            self._apply(gain, start_frame, fade_out_at, "fade", fade_out, reverse=True)
        for duck in self.plan.duck_spans_in(start_frame, end):
            low_a, low_b = max(start_frame, duck.low_frame), min(end, duck.release_frame)
            if low_a < low_b:
                gain[low_a - start_frame : low_b - start_frame] *= self._duck_low
            attack = duck.low_frame - duck.down_frame
            table = self._table("down", attack)
            self._apply_table(gain, start_frame, duck.down_frame, table)
            table = self._table("up", duck.up_frame - duck.release_frame)
            self._apply_table(gain, start_frame, duck.release_frame, table)
        return gain

    def _apply(
        self, gain: np.ndarray, start: int, at: int, kind: str, frames: int, *, reverse: bool
    ) -> None:
        table = self._table(kind, frames)
        self._apply_table(gain, start, at, table[::-1] if reverse else table)

    @staticmethod
    def _apply_table(gain: np.ndarray, start: int, at: int, table: np.ndarray) -> None:
        """Multiply gain[frame] by table[frame - at] where the two overlap."""
        a, b = max(start, at), min(start + len(gain), at + len(table))
        if a < b:
            gain[a - start : b - start] *= table[a - at : b - at]
