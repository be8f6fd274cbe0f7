"""The listening chain on two aligned streams: microphone + reference -> heard sentences.

echo canceller (speexdsp) -> utterance cutter (Endpointer) -> recognizer (grammar).
Commands are acted on only once the canceller has had WARMUP_SECONDS of sound to learn the
room (it converges in 8-10 s; before that the program's own speech leaks through and the
grammar can hear commands in it), or when nothing was playing during the utterance. The
live listener restarts the warm-up whenever it moves the reference (`restart_warmup`).

The same object serves the live listener (blocks of a few 10 ms frames) and the offline
benchmark (whole files, block by block), so what is measured is what runs. It never raises
into its caller for a failure of its parts: the first failure of each kind goes to `warn`
and that part is bypassed (no canceller: the raw microphone) or listening stops (no
recognizer).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voiceguide.listen.aec import EchoCanceller
from voiceguide.listen.format import FRAME_SAMPLES, LISTEN_RATE_HZ
from voiceguide.listen.recognizer import Recognition, Recognizer
from voiceguide.listen.vad import UtteranceCutter

WARMUP_SECONDS = 8.0
QUIET_RMS = 30.0
"""A reference 10 ms frame below this RMS (of 32768) counts as nothing playing."""
_ACTIVITY_SECONDS = 10.0


@dataclass(frozen=True)
class Heard:
    """One utterance and what the grammar made of it."""

    recognition: Recognition
    mode: str
    start_sample: int
    end_sample: int
    cut_sample: int
    decode_seconds: float
    echo_ready: bool = True
    """The canceller had learned the room, or nothing played during the utterance."""

    @property
    def accepted(self) -> bool:
        return self.echo_ready and self.recognition.accepted


class Pipeline:
    def __init__(
        self,
        warn: Callable[[str], None],
        *,
        wake_phrase: str = "voice guide",
        echo_cancelling: bool = True,
        residual_suppression: bool = False,
        hangover_seconds: float | None = None,
    ) -> None:
        self._warn = warn
        self.recognizer = Recognizer(wake_phrase)
        self._aec: EchoCanceller | None = (
            EchoCanceller(residual_suppression=residual_suppression) if echo_cancelling else None
        )
        self._cutter = (
            UtteranceCutter()
            if hangover_seconds is None
            else UtteranceCutter(hangover_seconds=hangover_seconds)
        )
        self._failed = False
        self.samples_in = 0
        self._warm_frames = 0
        frames = int(_ACTIVITY_SECONDS * LISTEN_RATE_HZ) // FRAME_SAMPLES
        self._activity = np.zeros(frames, dtype=bool)  # ring: reference sounding, per frame

    def restart_warmup(self) -> None:
        """The reference moved: the canceller must learn the room again."""
        self._warm_frames = 0

    def _note_reference(self, ref: np.ndarray) -> None:
        frames = ref.reshape(-1, FRAME_SAMPLES).astype(np.float64)
        active = np.sqrt(np.mean(frames**2, axis=1)) > QUIET_RMS
        first = (self.samples_in // FRAME_SAMPLES) % len(self._activity)
        index = (first + np.arange(len(active))) % len(self._activity)
        self._activity[index] = active
        self._warm_frames += int(np.count_nonzero(active))

    def _echo_ready(self, start_sample: int, end_sample: int) -> bool:
        if self._warm_frames * FRAME_SAMPLES >= WARMUP_SECONDS * LISTEN_RATE_HZ:
            return True
        size = len(self._activity)
        a = max(start_sample // FRAME_SAMPLES, (self.samples_in // FRAME_SAMPLES) - size)
        b = end_sample // FRAME_SAMPLES + 1
        return not bool(np.any(self._activity[np.arange(a, b) % size]))

    def feed(self, mic: np.ndarray, ref: np.ndarray) -> list[Heard]:
        """Whole 10 ms frames of microphone and aligned reference (int16 mono, 16 kHz)."""
        if self._failed:
            return []
        assert len(mic) == len(ref) and len(mic) % FRAME_SAMPLES == 0
        self._note_reference(ref)
        self.samples_in += len(mic)
        clean = mic
        if self._aec is not None:
            try:
                clean = self._aec.process(mic, ref)
            except Exception as err:
                self._warn(f"echo cancelling failed ({err}); listening goes on without it")
                self._aec.close()
                self._aec = None
        heard: list[Heard] = []
        try:
            for utterance in self._cutter.feed(clean):
                started = time.perf_counter()
                recognition = self.recognizer.recognize(utterance.samples)
                heard.append(
                    Heard(
                        recognition,
                        self.recognizer.mode,
                        utterance.start_sample,
                        utterance.end_sample,
                        utterance.cut_sample,
                        time.perf_counter() - started,
                        self._echo_ready(utterance.start_sample, utterance.end_sample),
                    )
                )
        except Exception as err:
            self._warn(f"speech recognition failed ({err}); listening is off, keys still work")
            self._failed = True
        return heard

    @property
    def seconds_in(self) -> float:
        return self.samples_in / LISTEN_RATE_HZ

    def close(self) -> None:
        if self._aec is not None:
            self._aec.close()
