"""The mixer: render(start_frame, n_frames) -> int16 stereo; the same bytes for any block size."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from voiceguide.audioformat import CHANNELS, INT16_FULL_SCALE, db_to_gain
from voiceguide.mix.envelope import MusicEnvelope
from voiceguide.mix.plan import Cue, Plan
from voiceguide.music.stream import MusicStream
from voiceguide.routine.load import Line

# Soft limiter: linear up to the knee, then a rational curve that approaches the ceiling.
# Only + * / (exactly rounded), so results never depend on where blocks start.
LIMIT_KNEE = np.float32(0.80)
LIMIT_CEILING = np.float32(0.97)


@dataclass(frozen=True)
class MixLevels:
    """Levels of the layers, in dB relative to their own normalised level."""

    speech_db: float = 0.0
    music_db: float = 0.0
    chime_db: float = -4.0


def soft_limit(mix: np.ndarray) -> np.ndarray:
    """Keep every sample below LIMIT_CEILING (about -0.26 dBFS); transparent below the knee."""
    magnitude = np.abs(mix)
    over = magnitude > LIMIT_KNEE
    if not over.any():
        return mix
    room = LIMIT_CEILING - LIMIT_KNEE
    excess = (magnitude[over] - LIMIT_KNEE) / room
    limited = LIMIT_KNEE + room * (excess / (np.float32(1.0) + excess))
    out = mix.copy()
    out[over] = np.sign(mix[over]) * limited
    return out


class Renderer:
    """Music x envelope + speech + chimes, placed by the plan, then limited."""

    def __init__(
        self,
        plan: Plan,
        clip: Callable[[Line], np.ndarray],
        chime: np.ndarray,
        end_chime: np.ndarray,
        music: MusicStream | None,
        levels: MixLevels | None = None,
        layers: frozenset[str] = frozenset({"speech", "music", "chimes"}),
    ) -> None:
        """`clip(line)` gives int16 speech, mono (synthesized) or stereo (a recording); chimes
        are int16 stereo; all at the mix rate."""
        self.plan = plan
        self.clip = clip
        self.music = music
        self.layers = layers
        levels = levels or MixLevels()
        self._speech_gain = np.float32(db_to_gain(levels.speech_db) / 32768.0)
        self._music_gain = np.float32(db_to_gain(levels.music_db))
        chime_gain = np.float32(db_to_gain(levels.chime_db) / 32768.0)
        self._chimes = {
            "chime": chime.astype(np.float32) * chime_gain,
            "end-chime": end_chime.astype(np.float32) * chime_gain,
        }
        self._envelope = MusicEnvelope(plan)

    def render(self, start_frame: int, n_frames: int, music_shift_frames: int = 0) -> np.ndarray:
        """The mixed block [start_frame, start_frame + n_frames) as int16, shape (n, 2).

        `music_shift_frames` moves the music against the plan (live edits keep it flowing).
        """
        mix = np.zeros((n_frames, CHANNELS), dtype=np.float32)
        end = start_frame + n_frames
        if self.music is not None and "music" in self.layers:
            self._add_music(mix, start_frame, end, music_shift_frames)
        for cue in self.plan.cues_sounding(start_frame, end):
            self._add_cue(mix, cue, start_frame, end)
        limited = soft_limit(mix)
        scaled = limited * np.float32(INT16_FULL_SCALE)
        return np.rint(scaled, out=scaled).astype(np.int16)

    def music_ready(self, start_frame: int, n_frames: int, music_shift_frames: int = 0) -> bool:
        """True when rendering this block would not wait for the music's decoder (which, if it
        would, starts decoding now)."""
        if self.music is None or "music" not in self.layers:
            return True
        reads = self._music_reads(start_frame, start_frame + n_frames, music_shift_frames)
        # Every read is asked (no short cut): each decoder that is needed starts now.
        ready = [self.music.ready(music_frame, b - a) for a, b, music_frame in reads]
        return all(ready)

    def _music_reads(self, start: int, end: int, shift: int) -> Iterator[tuple[int, int, int]]:
        """(a, b, music_frame): plan frames [a, b) of [start, end) play music from music_frame."""
        for span in self.plan.music_spans_in(start, end):
            a, b = max(start, span.start_frame), min(end, span.end_frame)
            if a < b:
                yield a, b, span.music_frame + (a - span.start_frame) + shift

    def _add_music(self, mix: np.ndarray, start: int, end: int, shift: int) -> None:
        assert self.music is not None
        for a, b, music_frame in self._music_reads(start, end, shift):
            block = self.music.read(music_frame, b - a)
            gain = self._envelope.gain(a, b - a)
            gain *= self._music_gain
            # Per channel: numpy's (n, 2) x (n, 1) broadcast is 3x slower than two columns.
            block[:, 0] *= gain
            block[:, 1] *= gain
            mix[a - start : b - start] += block

    def _add_cue(self, mix: np.ndarray, cue: Cue, start: int, end: int) -> None:
        a, b = max(start, cue.start_frame), min(end, cue.end_frame)
        if cue.spoken:
            if "speech" not in self.layers:
                return
            samples = self.clip(cue.text)
            part = samples[a - cue.start_frame : b - cue.start_frame].astype(np.float32)
            part *= self._speech_gain
            target = mix[a - start : a - start + len(part)]
            if part.ndim == 2:
                target += part
            else:
                target[:, 0] += part
                target[:, 1] += part
        else:
            if "chimes" not in self.layers:
                return
            chime = self._chimes[cue.kind][a - cue.start_frame : b - cue.start_frame]
            mix[a - start : a - start + len(chime)] += chime
