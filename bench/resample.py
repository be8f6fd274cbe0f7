"""Speech resampling, 22.05 -> 44.1 kHz: soxr against the hand-written half-band upsampler.

voiceguide brings every spoken clip (espeak-ng writes 22.05 kHz) to the 44.1 kHz mix rate. It
used a hand-written upsampler (zero-stuffing and a Kaiser-windowed sinc half-band filter of 97
taps, np.convolve); it now uses soxr (`soxr.resample(x, 22050, 44100, "HQ")`). That old
upsampler is kept here, as it was, so the comparison can be run again.

- time: median wall and CPU time of N runs over a 6 s espeak-ng clip (float64 mono, as voice.py
  reads it), the two resamplers taking turns so that both see the same load from other
  processes.
- image: a 10 kHz tone at 22.05 kHz, upsampled; the level at 12.05 kHz (its mirror image
  about the old Nyquist, which an ideal upsampler removes) relative to the tone, in dB, from
  a Kaiser-windowed (beta 20) spectrum of the middle second, whose own sidelobes lie below
  -180 dB. Also the tone's own gain (passband at 10 kHz).

    .venv/bin/python bench/resample.py [--runs N] [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load_average, median, print_table, spread, write_result

IN_RATE = 22_050
OUT_RATE = 44_100
CLIP_SECONDS = 6.0
TONE_HZ = 10_000.0
IMAGE_HZ = IN_RATE - TONE_HZ
TEXT = (
    "Massage both breasts, in small circles, with a light touch. Now pump both breasts, "
    "until the flow slows down. Keep pumping, and massage your left breast."
)


# -- the hand-written upsampler voiceguide used before soxr (voiceguide/speech/resample.py) --
_HALF_BAND_TAPS = 48


def _half_band_kernel() -> np.ndarray:
    n = np.arange(-_HALF_BAND_TAPS, _HALF_BAND_TAPS + 1)
    kernel = np.sinc(n / 2.0) * np.kaiser(len(n), 8.6)
    return (kernel / kernel.sum() * 2.0).astype(np.float64)


_KERNEL = _half_band_kernel()


def hand_written(samples: np.ndarray) -> np.ndarray:
    stuffed = np.zeros(len(samples) * 2, dtype=np.float64)
    stuffed[::2] = samples
    return np.convolve(stuffed, _KERNEL, mode="same")


def with_soxr(samples: np.ndarray) -> np.ndarray:
    return soxr.resample(samples, IN_RATE, OUT_RATE, "HQ")


RESAMPLERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "hand-written half-band": hand_written,
    "soxr HQ": with_soxr,
}


def espeak_clip() -> np.ndarray:
    """CLIP_SECONDS of espeak-ng speech at 22.05 kHz, float64 in [-1, 1)."""
    with tempfile.TemporaryDirectory(prefix="bench-resample-") as tmp:
        path = Path(tmp) / "clip.wav"
        subprocess.run(["espeak-ng", "-w", str(path), TEXT], check=True)
        with wave.open(str(path), "rb") as wav:
            assert wav.getframerate() == IN_RATE, wav.getframerate()
            data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    frames = int(CLIP_SECONDS * IN_RATE)
    assert len(data) >= frames, f"espeak-ng said only {len(data) / IN_RATE:.1f} s"
    return data[:frames] / 32768.0


def times_ms(clip: np.ndarray, runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """(wall, CPU) milliseconds per run of each resampler, taken in turn so both see the same
    load; CPU time leaves out the time other processes had the core."""
    times: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in RESAMPLERS}
    for resample in RESAMPLERS.values():
        resample(clip)  # warm-up: first-call costs (page faults, plans) are not the steady cost
    for _ in range(runs):
        for name, resample in RESAMPLERS.items():
            wall, cpu = time.perf_counter(), time.process_time()
            out = resample(clip)
            times[name][0].append((time.perf_counter() - wall) * 1000)
            times[name][1].append((time.process_time() - cpu) * 1000)
            assert len(out) == 2 * len(clip)
    return times


def tone_levels_db(resample: Callable[[np.ndarray], np.ndarray]) -> tuple[float, float]:
    """(image level relative to the tone, tone gain), both in dB."""
    seconds = 3
    t = np.arange(seconds * IN_RATE) / IN_RATE
    amplitude = 0.5
    out = resample(amplitude * np.sin(2 * np.pi * TONE_HZ * t))
    middle = out[OUT_RATE : 2 * OUT_RATE]  # away from the filters' start and end transients
    window = np.kaiser(len(middle), 20.0)
    spectrum = np.abs(np.fft.rfft(middle * window)) / (window.sum() / 2)
    freqs = np.fft.rfftfreq(len(middle), 1 / OUT_RATE)

    def peak(hz: float) -> float:
        near = np.abs(freqs - hz) <= 20.0
        return float(spectrum[near].max())

    tone = peak(TONE_HZ)
    image = max(peak(IMAGE_HZ), 1e-300)
    return 20 * np.log10(image / tone), 20 * np.log10(tone / amplitude)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=51, help="timed runs per resampler")
    parser.add_argument("--quick", action="store_true", help="11 runs")
    args = parser.parse_args()
    runs = 11 if args.quick else args.runs
    clip = espeak_clip()
    load_before = load_average()
    times = times_ms(clip, runs)
    results: dict[str, dict[str, object]] = {}
    for name, resample in RESAMPLERS.items():
        image_db, gain_db = tone_levels_db(resample)
        wall, cpu = times[name]
        results[name] = {
            "median_ms": median(wall),
            "median_cpu_ms": median(cpu),
            "runs_ms": wall,
            "runs_cpu_ms": cpu,
            "image_db": image_db,
            "tone_gain_db": gain_db,
        }
    rows = [
        [name, r["median_ms"], spread(r["runs_ms"]), r["median_cpu_ms"], r["image_db"],
         r["tone_gain_db"]]
        for name, r in results.items()
    ]  # fmt: skip
    print_table(
        f"{CLIP_SECONDS:g} s espeak-ng clip, {IN_RATE} -> {OUT_RATE} Hz, {runs} runs"
        f" (load {load_before:.2f})",
        ["resampler", "median ms", "min-max ms", "CPU ms", "10 kHz image dB", "10 kHz gain dB"],
        rows,
    )
    old, new = results["hand-written half-band"], results["soxr HQ"]
    ratio = float(old["median_ms"]) / float(new["median_ms"])  # type: ignore[arg-type]
    cpu_ratio = float(old["median_cpu_ms"]) / float(new["median_cpu_ms"])  # type: ignore[arg-type]
    print(
        f"\nsoxr is {ratio:.1f}x faster ({cpu_ratio:.1f}x in CPU time);"
        f" image {old['image_db']:.0f} -> {new['image_db']:.0f} dB"
    )
    path = write_result(
        "resample",
        {
            "runs": runs,
            "clip_seconds": CLIP_SECONDS,
            "soxr_version": soxr.__version__,
            "load_average_before": load_before,
            "speedup": ratio,
            "speedup_cpu": cpu_ratio,
            "resamplers": results,
        },
    )
    print(f"figures: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
