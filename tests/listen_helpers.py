"""Helpers for the voice-command tests: test talkers, a rendered session, a played stream.

Test talkers are espeak-ng variants unlike the program's own voice (the default en-us).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np

from voiceguide.listen.format import LISTEN_RATE_HZ

RATE = 44_100
TALKERS = ["en-us+f2", "en-us+klatt", "en-gb+f4", "en+m3", "en-029+f1", "en+klatt3"]


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return data.reshape(-1, w.getnchannels())


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return path


def speak(text: str, voice: str, rate_wpm: int = 150, pitch: int = 50) -> np.ndarray:
    """espeak-ng at 16 kHz (int16 mono), silence trimmed, with a little noise under it
    (a real room is never digitally silent)."""
    wav = subprocess.run(
        [
            "espeak-ng",
            "-a",
            "100",
            "-v",
            voice,
            "-s",
            str(rate_wpm),
            "-p",
            str(pitch),
            "--stdout",
            text,
        ],
        capture_output=True,
        check=True,
    ).stdout
    raw = subprocess.run(
        [
            "sox",
            "-D",  # no dither: sox's random dither made the same words differ from run to run
            "-t",
            "wav",
            "-",
            "-r",
            str(LISTEN_RATE_HZ),
            "-c",
            "1",
            "-b",
            "16",
            "-t",
            "raw",
            "-",
        ],
        input=wav,
        capture_output=True,
        check=True,
    ).stdout
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    loud = np.flatnonzero(np.abs(x) > 200)
    x = x[loud[0] : loud[-1] + 1]
    pad = np.zeros(int(0.4 * LISTEN_RATE_HZ))
    x = np.concatenate([pad, x, pad])
    x += np.random.default_rng(len(text)).normal(0, 20, len(x))
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def at_level(x: np.ndarray, target_rms: float) -> np.ndarray:
    """`x` scaled to an RMS (speech part: the padding is excluded by the 200 threshold)."""
    voiced = x[np.abs(x) > 200]
    gain = target_rms / max(rms(voiced), 1.0)
    return np.clip(np.rint(x * gain), -32768, 32767).astype(np.int16)


class ClockPlayed:
    """A session played by simpleaudio on the default sink, and the PlayedAudio the listener
    needs: the playhead estimated from the clock, as the live player does."""

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = np.ascontiguousarray(samples, dtype=np.int16)
        self._started: float | None = None
        self._play = None

    def start(self) -> None:
        import simpleaudio

        self._play = simpleaudio.play_buffer(self.samples.tobytes(), 2, 2, RATE)
        self._started = time.monotonic()

    def stop(self) -> None:
        if self._play is not None:
            self._play.stop()

    def playhead_frame(self) -> int | None:
        if self._started is None:
            return None
        frame = int((time.monotonic() - self._started) * RATE)
        return frame if frame < len(self.samples) else None

    def played(self, start_frame: int, n_frames: int) -> np.ndarray:
        out = np.zeros((n_frames, 2), dtype=np.int16)
        a, b = max(start_frame, 0), min(start_frame + n_frames, len(self.samples))
        if a < b:
            out[a - start_frame : b - start_frame] = self.samples[a:b]
        return out


def play_into_room(
    clip: np.ndarray, folder: Path, name: str, room: str = "room"
) -> threading.Thread:
    """`paplay -d room` of a 16 kHz clip, in a thread (returns it started)."""
    path = write_wav(folder / f"{name}.wav", clip, LISTEN_RATE_HZ)

    def run() -> None:
        subprocess.run(["paplay", "-d", room, str(path)], check=True, env=os.environ.copy())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def render_session(folder: Path, routine: str = "demo") -> np.ndarray:
    """`voiceguide render` of a routine (music + the program's speech), int16 stereo."""
    out = folder / f"{routine}.wav"
    if not out.is_file():
        subprocess.run(
            [sys.executable, "-m", "voiceguide", "render", "--routine", routine, "-o", str(out)],
            check=True,
            capture_output=True,
            env={**os.environ, "VOICEGUIDE_HOME": str(folder / "home")},
        )
    return read_wav(out)
