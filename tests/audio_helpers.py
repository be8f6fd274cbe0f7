"""Measuring sound in tests: read WAV files, find clips by cross-correlation, levels in dB."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """int16 samples shaped (frames, channels) and the rate."""
    with wave.open(str(path), "rb") as wav:
        channels, rate = wav.getnchannels(), wav.getframerate()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return data.reshape(-1, channels), rate


def rms_db(samples: np.ndarray) -> float:
    values = samples.astype(np.float64) / 32768.0
    power = float(np.mean(values**2)) if values.size else 0.0
    return 10 * np.log10(power) if power > 0 else -200.0


def find_clip(
    signal: np.ndarray, clip: np.ndarray, expected: int, search: int
) -> tuple[int, float]:
    """Where `clip` best matches mono `signal` near `expected`: (frame, normalised score)."""
    start = max(0, expected - search)
    window = signal[start : expected + search + len(clip)].astype(np.float64)
    template = clip.astype(np.float64)
    n = len(window) + len(template)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(window, size) * np.conj(np.fft.rfft(template, size)), size)
    valid = corr[: len(window) - len(template) + 1]
    # Normalise by the energy under the template at each position, so a louder passage
    # cannot outscore the true match.
    energy = np.concatenate([[0.0], np.cumsum(window**2)])
    floor = 1e-3 * float(np.sum(template**2)) + 1e-12  # near-silence never wins
    local = np.sqrt(np.maximum(energy[len(template) :] - energy[: -len(template)], floor))
    normalised = valid / (local[: len(valid)] * (np.linalg.norm(template) + 1e-12))
    best = int(np.argmax(normalised))
    score = float(normalised[best])
    return start + best, score


def voiced_seconds(path: Path) -> float:
    """Seconds of voice in a WAV file, as the voice-command listener's detector (Silero VAD)
    finds it: speech scores far above music, noise and silence."""
    import soxr

    from voiceguide.listen.format import LISTEN_RATE_HZ
    from voiceguide.listen.vad import UtteranceCutter

    frames, rate = read_wav(path)
    mono = frames.astype(np.float64).mean(axis=1) / 32768.0
    at_16k = soxr.resample(mono, rate, LISTEN_RATE_HZ, "HQ")
    samples = np.round(np.clip(at_16k, -1.0, 1.0) * 32767.0).astype(np.int16)
    silence = np.zeros(LISTEN_RATE_HZ, dtype=np.int16)  # lets the last utterance end
    cutter = UtteranceCutter()
    found = cutter.feed(np.concatenate([silence, samples, silence]))
    return sum(u.end_sample - u.start_sample for u in found) / LISTEN_RATE_HZ
