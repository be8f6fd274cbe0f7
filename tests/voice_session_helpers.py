"""Helpers for the end-to-end voice tests: `voiceguide start` in a subprocess, talkers in the
rig's room, and what the speaker played, found in its recording.

Test talkers are espeak-ng variants unlike the program's own voice (listen_helpers.TALKERS).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from voiceguide.listen.format import LISTEN_RATE_HZ

from audio_helpers import find_clip, read_wav
from listen_helpers import at_level, speak, write_wav
from soundserver import RATE, Recording

QUIET = 30
"""A 10 ms block of the speaker's recording below this peak is silence (the pause writes zeros)."""


class LiveCli:
    """`voiceguide start ARGS` in its own process, stdin closed (plain lines, no keys): each
    line of its output with the monotonic time it came."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voiceguide", "start", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.out: list[tuple[float, str]] = []
        self.err: list[tuple[float, str]] = []
        assert self.process.stdout is not None and self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str], lines: list[tuple[float, str]]) -> None:
        for line in stream:
            lines.append((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, text: str, timeout_seconds: float) -> float:
        """When the first stdout line containing `text` came (waiting for it if need be)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            for when, line in list(self.out):
                if text in line:
                    return when
            if time.monotonic() > deadline or self.process.poll() is not None:
                time.sleep(0.2)  # the readers may still hold the last lines
                for when, line in list(self.out):
                    if text in line:
                        return when
                raise AssertionError(f"no line with {text!r}:\n{self.transcript()}")
            time.sleep(0.02)

    def end(self, timeout_seconds: float) -> int:
        """Wait for the exit; its code (the process is killed if it overstays)."""
        try:
            code = self.process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"still running after {timeout_seconds} s:\n{self.transcript()}"
            ) from None
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    @property
    def stdout(self) -> list[str]:
        return [line for _, line in self.out]

    @property
    def stderr(self) -> list[str]:
        return [line for _, line in self.err]

    def heard(self) -> list[str]:
        """The commands of the `[m:ss] heard: NAME` lines, in order."""
        return [line.split("heard: ", 1)[1] for line in self.stdout if "] heard: " in line]

    def transcript(self) -> str:
        return "\n".join([*self.stdout, *(f"stderr: {line}" for line in self.stderr)])


@dataclass(eq=False)
class Talk:
    """One sentence a test talker says into the room: when it was played, and how long."""

    text: str
    voice: str
    path: Path
    words_end_seconds: float
    """Where the words end in the clip (it has silence around them)."""
    started: float | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def words_end(self) -> float:
        """Monotonic time by which the words were over (paplay's own start-up aside)."""
        assert self.started is not None
        return self.started + self.words_end_seconds


HEARD_SCORE = 0.5
"""Normalised match of a talker's clip in the room's recording, over the program's echo at
the same level, above which its place there is trusted."""


class Room:
    """Test talkers at a fixed level (0 dB against the program's sound), into the sink "room"."""

    def __init__(self, folder: Path, level_rms: float, env: dict[str, str]) -> None:
        self.folder = folder
        self.level_rms = level_rms
        self.env = env
        self.talks: list[Talk] = []

    def prepare(self, text: str, voice: str) -> Talk:
        """Synthesize now (espeak-ng takes a while under load), play later with `say`."""
        clip = at_level(speak(text, voice), self.level_rms)
        loud = np.flatnonzero(np.abs(clip) > 200)
        name = f"talk{len(self.talks)}.wav"
        talk = Talk(
            text,
            voice,
            write_wav(self.folder / name, clip, LISTEN_RATE_HZ),
            float(loud[-1] + 1) / LISTEN_RATE_HZ,
        )
        self.talks.append(talk)
        return talk

    def say(self, talk: Talk) -> Talk:
        """Play `talk` into the room now (in a thread); returns it, with its start time."""

        def run() -> None:
            subprocess.run(
                ["paplay", "-d", "room", str(talk.path)],
                check=True,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        talk.started = time.monotonic()
        talk.thread = threading.Thread(target=run, daemon=True)
        talk.thread.start()
        return talk

    @staticmethod
    def heard_end(talk: Talk, room: Recording) -> float | None:
        """Monotonic time at which `talk`'s words ended in the room, found in a recording of
        room's monitor (so paplay's start-up is counted as it happened); None if the match is
        poor."""
        assert talk.started is not None
        clip, rate = read_wav(talk.path)
        mono = clip[:, 0].astype(np.float64)
        at_mix_rate = np.interp(
            np.arange(round(len(mono) * RATE / rate)) * rate / RATE, np.arange(len(mono)), mono
        )
        found, score = find_sound(room.frames(), at_mix_rate, room.frame_at(talk.started), RATE)
        if score < HEARD_SCORE:
            return None
        return room.time_of(found + round(talk.words_end_seconds * RATE))

    def wait(self) -> None:
        for talk in self.talks:
            if talk.thread is not None:
                talk.thread.join(timeout=20)


def block_peaks(frames: np.ndarray) -> np.ndarray:
    """Peak of each 10 ms block of a stereo recording."""
    block = RATE // 100
    usable = len(frames) // block * block
    return np.abs(frames[:usable].astype(np.int32)).reshape(-1, block * 2).max(axis=1)


def silent_spans(frames: np.ndarray, min_seconds: float) -> list[tuple[int, int]]:
    """(first, end) frames of each run of silence of at least `min_seconds`."""
    quiet = np.concatenate([[False], block_peaks(frames) < QUIET, [False]])
    edges = np.diff(quiet.astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    block = RATE // 100
    return [
        (int(a) * block, int(b) * block)
        for a, b in zip(starts, ends, strict=True)
        if (b - a) * block >= min_seconds * RATE
    ]


def wait_for_speech_end(
    recording: Recording, after_frame: int, timeout_seconds: float, gap_seconds: float = 0.8
) -> tuple[int, int]:
    """Wait until the speaker has sounded after `after_frame` and then been silent for
    `gap_seconds`: (first, last loud frame) of that sound."""
    deadline = time.monotonic() + timeout_seconds
    block = RATE // 100
    while time.monotonic() < deadline:
        time.sleep(0.05)
        heard = recording.frames()[after_frame:]
        loud = np.flatnonzero(block_peaks(heard) >= QUIET)
        if len(loud) and len(heard) // block - loud[-1] >= gap_seconds * 100:
            return after_frame + int(loud[0]) * block, after_frame + (int(loud[-1]) + 1) * block
    raise AssertionError(f"the speaker did not speak and stop within {timeout_seconds} s")


def find_sound(
    recording: np.ndarray, clip: np.ndarray, expected: int, search: int
) -> tuple[int, float]:
    """Where a mono clip (float, int16 scale) sounds in a stereo recording near `expected`."""
    return find_clip(recording.mean(axis=1), clip, expected, search)


def pulse_env(server_env: dict[str, str], home: Path) -> dict[str, str]:
    """The environment of a child process on the rig: its server, a home of its own, and no
    device-buffer request inherited from this process (the player asks for its own)."""
    env = {**os.environ, **server_env, "VOICEGUIDE_HOME": str(home)}
    env.pop("PULSE_LATENCY_MSEC", None)
    return env
