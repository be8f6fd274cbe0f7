"""Speech clips reach the mix rate from any engine rate: same duration, same tone, no images."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.audioformat import MIX_RATE_HZ
from voiceguide.speech.resample import to_mix_rate

TONE_HZ = 3_000.0


def spectrum_db(samples: np.ndarray, rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and levels (dB re the strongest bin) of the middle of a signal."""
    middle = samples[len(samples) // 4 : 3 * len(samples) // 4]
    window = np.kaiser(len(middle), 20.0)
    magnitude = np.abs(np.fft.rfft(middle * window))
    levels = 20 * np.log10(np.maximum(magnitude, 1e-300) / magnitude.max())
    return np.fft.rfftfreq(len(middle), 1 / rate_hz), levels


@pytest.mark.parametrize("rate_hz", [8_000, 16_000, 22_050, 24_000, 44_100, 48_000])
def test_a_tone_keeps_its_duration_pitch_and_level(rate_hz: int) -> None:
    seconds = 2
    tone = 0.5 * np.sin(2 * np.pi * TONE_HZ * np.arange(seconds * rate_hz) / rate_hz)
    out = to_mix_rate(tone, rate_hz)
    assert out.dtype == np.float64
    assert len(out) == seconds * MIX_RATE_HZ
    freqs, levels = spectrum_db(out, MIX_RATE_HZ)
    assert abs(freqs[np.argmax(levels)] - TONE_HZ) < 2.0
    middle = out[len(out) // 4 : 3 * len(out) // 4]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)
    # Everything else (images of an upsampler, aliases of a downsampler) is inaudible.
    elsewhere = np.abs(freqs - TONE_HZ) > 50.0
    assert levels[elsewhere].max() < -100.0


def test_the_upsampled_speech_rate_has_no_image_above_the_old_nyquist() -> None:
    rate_hz = 22_050
    tone_hz = 10_000.0  # its image, 12.05 kHz, is what a poor upsampler leaves audible
    tone = 0.5 * np.sin(2 * np.pi * tone_hz * np.arange(3 * rate_hz) / rate_hz)
    freqs, levels = spectrum_db(to_mix_rate(tone, rate_hz), MIX_RATE_HZ)
    image = np.abs(freqs - (rate_hz - tone_hz)) < 20.0
    assert levels[image].max() < -120.0
