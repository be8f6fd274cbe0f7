"""The acoustic echo canceller: speexdsp's MDF filter through ctypes (Debian's libspeexdsp1, BSD).

The microphone hears the room: the user's voice plus what voiceguide plays (music, speech,
chimes) after the loudspeaker, the air and the walls. The canceller learns that path from the
played samples (the reference) and subtracts its estimate, frame by frame. It converges in
8-10 s of sound, so it runs from the first sound on, and the reference must reach it no later
than the echo does: the filter only models delays from 0 to its tail (256 ms).

The optional preprocessor removes what the linear filter leaves (residual echo suppression,
with speexdsp's own estimate of it); whether it helps the recognizer is measured in
BENCHMARKS.md ("Voice commands").
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

import numpy as np

from voiceguide.errors import VoiceguideError
from voiceguide.listen.format import FRAME_SAMPLES, LISTEN_RATE_HZ

TAIL_SAMPLES = 4096
"""256 ms at 16 kHz: the longest echo delay plus room reverberation the filter can model."""

# From speex/speex_echo.h and speex/speex_preprocess.h (libspeexdsp 1.2).
_SPEEX_ECHO_SET_SAMPLING_RATE = 24
_SPEEX_PREPROCESS_SET_DENOISE = 0
_SPEEX_PREPROCESS_SET_AGC = 2
_SPEEX_PREPROCESS_SET_ECHO_SUPPRESS = 20
_SPEEX_PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE = 22
_SPEEX_PREPROCESS_SET_ECHO_STATE = 24

_Frame = ctypes.c_int16 * FRAME_SAMPLES


class EchoCancellerError(VoiceguideError):
    """libspeexdsp is missing or refused to start."""


@cache
def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as err:
        raise EchoCancellerError(
            f"the echo canceller needs libspeexdsp1 (apt-get install libspeexdsp1): {err}"
        ) from None
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_state_destroy.restype = None
    lib.speex_echo_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_echo_cancellation.restype = None
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p, _Frame, _Frame, _Frame]
    lib.speex_echo_ctl.restype = ctypes.c_int
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    lib.speex_preprocess_state_init.restype = ctypes.c_void_p
    lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_preprocess_state_destroy.restype = None
    lib.speex_preprocess_state_destroy.argtypes = [ctypes.c_void_p]
    lib.speex_preprocess_run.restype = ctypes.c_int
    lib.speex_preprocess_run.argtypes = [ctypes.c_void_p, _Frame]
    lib.speex_preprocess_ctl.restype = ctypes.c_int
    lib.speex_preprocess_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    return lib


class EchoCanceller:
    """Cancels the echo of the reference in the microphone signal, 10 ms at a time.

    `residual_suppression` adds speexdsp's preprocessor fed by the echo state (no noise
    suppression, no gain control: the recognizer normalises levels itself).
    """

    def __init__(
        self, *, tail_samples: int = TAIL_SAMPLES, residual_suppression: bool = False
    ) -> None:
        self._lib = _library()
        self._echo = self._lib.speex_echo_state_init(FRAME_SAMPLES, tail_samples)
        if not self._echo:
            raise EchoCancellerError("speexdsp could not create an echo canceller")
        rate = ctypes.c_int(LISTEN_RATE_HZ)
        self._lib.speex_echo_ctl(self._echo, _SPEEX_ECHO_SET_SAMPLING_RATE, ctypes.byref(rate))
        self._pre: int | None = None
        if residual_suppression:
            self._pre = self._lib.speex_preprocess_state_init(FRAME_SAMPLES, LISTEN_RATE_HZ)
            off = ctypes.c_int(0)
            self._lib.speex_preprocess_ctl(
                self._pre, _SPEEX_PREPROCESS_SET_DENOISE, ctypes.byref(off)
            )
            self._lib.speex_preprocess_ctl(self._pre, _SPEEX_PREPROCESS_SET_AGC, ctypes.byref(off))
            self._lib.speex_preprocess_ctl(
                self._pre, _SPEEX_PREPROCESS_SET_ECHO_STATE, ctypes.c_void_p(self._echo)
            )
        self._mic = _Frame()
        self._ref = _Frame()
        self._out = _Frame()

    def process(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """Cleaned int16 samples for `mic` (whole frames) given the aligned reference `ref`."""
        if len(mic) != len(ref) or len(mic) % FRAME_SAMPLES:
            raise ValueError("mic and reference must be the same number of whole 10 ms frames")
        if self._echo is None:
            raise ValueError("the echo canceller is closed")
        mic16 = np.ascontiguousarray(mic, dtype=np.int16)
        ref16 = np.ascontiguousarray(ref, dtype=np.int16)
        out = np.empty_like(mic16)
        out_view = np.ctypeslib.as_array(self._out)
        mic_view = np.ctypeslib.as_array(self._mic)
        ref_view = np.ctypeslib.as_array(self._ref)
        cancel = self._lib.speex_echo_cancellation
        for start in range(0, len(mic16), FRAME_SAMPLES):
            mic_view[:] = mic16[start : start + FRAME_SAMPLES]
            ref_view[:] = ref16[start : start + FRAME_SAMPLES]
            cancel(self._echo, self._mic, self._ref, self._out)
            if self._pre is not None:
                self._lib.speex_preprocess_run(self._pre, self._out)
            out[start : start + FRAME_SAMPLES] = out_view
        return out

    def close(self) -> None:
        """Free the speexdsp states (idempotent)."""
        if self._pre is not None:
            self._lib.speex_preprocess_state_destroy(self._pre)
            self._pre = None
        if self._echo is not None:
            self._lib.speex_echo_state_destroy(self._echo)
            self._echo = None

    def __del__(self) -> None:
        self.close()
