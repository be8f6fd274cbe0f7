"""A private PulseAudio with a null sink, and a recorder of its monitor: real sound, no card.

The server gets its own runtime dir and socket; it is stopped by PID. A silent keep-alive
stream keeps the null sink running, so the monitor delivers frames continuously and the
recording's clock follows the wall clock (an idle null sink delivers nothing). The server logs
at debug level to pulseaudio.log in its folder: that is where an underrun of a stream shows.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 44_100
SINK = "voiceguide_test"


class PulseServer:
    """modules: what the server loads (default: the one null sink); keepalive_sink: where the
    silent stream plays."""

    def __init__(
        self, folder: Path, modules: list[str] | None = None, keepalive_sink: str = SINK
    ) -> None:
        self.folder = folder
        self.modules = modules or [
            f"module-null-sink sink_name={SINK} rate={RATE} channels=2",
            "module-always-sink",
        ]
        self.keepalive_sink = keepalive_sink
        self.socket = folder / "native"
        self.server = f"unix:{self.socket}"
        self.process: subprocess.Popen[bytes] | None = None
        self.keepalive: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            "PULSE_SERVER": self.server,
            "PULSE_RUNTIME_PATH": str(self.folder),
            "XDG_RUNTIME_DIR": str(self.folder),
        }

    @property
    def log_path(self) -> Path:
        return self.folder / "pulseaudio.log"

    def log_size(self) -> int:
        """Where the log ends now: pass it to `underruns` to see only what came after."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def underruns(self, since: int = 0, stream: str = "ALSA Playback") -> list[str]:
        """The server's log lines about an underrun of `stream` (ALSA's, i.e. simpleaudio's)."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        return [line for line in text.splitlines() if f"nderrun of '{stream}'" in line]

    def _tool_env(self) -> dict[str, str]:
        """For pacat and parec: their own --latency-msec, never a PULSE_LATENCY_MSEC set for
        the player (which libpulse would apply to every stream of the process)."""
        env = {**os.environ, **self.env}
        env.pop("PULSE_LATENCY_MSEC", None)
        return env

    def start(self) -> None:
        if shutil.which("pulseaudio") is None:
            raise RuntimeError("pulseaudio is not installed (make deps)")
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "pulseaudio.log").open("wb")
        env = {**os.environ, **self.env, "HOME": str(self.folder)}
        self.process = subprocess.Popen(
            [
                "pulseaudio",
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--disallow-exit=yes",
                "--log-target=stderr",
                "--log-level=debug",
                "--log-time=yes",
                "-L",
                f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
                *[arg for module in self.modules for arg in ("-L", module)],
            ],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ok = (
                subprocess.run(
                    ["pactl", "info"],
                    env={**os.environ, **self.env},
                    capture_output=True,
                    check=False,
                ).returncode
                == 0
            )
            if ok:
                break
            if self.process.poll() is not None:
                raise RuntimeError((self.folder / "pulseaudio.log").read_text(errors="replace"))
            time.sleep(0.05)
        else:
            raise RuntimeError("pulseaudio did not start")
        self.keepalive = subprocess.Popen(
            [
                "pacat",
                "--raw",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=2",
                "--latency-msec=50",
                f"--device={self.keepalive_sink}",
            ],
            stdin=subprocess.PIPE,
            env=self._tool_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._feed = threading.Thread(target=self._feed_silence, daemon=True)
        self._feed.start()
        time.sleep(0.3)

    def pactl(self, *args: str) -> str:
        """Run pactl against this server; its output."""
        done = subprocess.run(
            ["pactl", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    def _feed_silence(self) -> None:
        chunk = bytes(RATE // 10 * 4)
        assert self.keepalive is not None and self.keepalive.stdin is not None
        try:
            while self.keepalive.poll() is None:
                self.keepalive.stdin.write(chunk)
                self.keepalive.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            return

    def stop(self) -> None:
        for process in (self.keepalive, self.process):
            if process is not None and process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@dataclass
class Recording:
    """What the monitor delivered: frames and, per chunk, when it arrived (monotonic)."""

    chunks: list[bytes] = field(default_factory=list)
    arrivals: list[tuple[float, int]] = field(default_factory=list)  # (time, frames so far)

    def frames(self) -> np.ndarray:
        data = b"".join(self.chunks)
        usable = len(data) // 4 * 4
        return np.frombuffer(data[:usable], dtype="<i2").reshape(-1, 2)

    def time_of(self, frame: int) -> float:
        """Monotonic time at which the server delivered recorded `frame`.

        The monitor delivers frames at a steady rate, but parec and the reading thread can be
        late under load (chunks 0.3 s late were seen), so a chunk's arrival is only an upper
        bound on when its first frame was there. The delivery clock is the lower envelope of
        those bounds, over the chunks within 5 s of `frame` (the server's clock drifts ~1e-4).
        Taking each chunk's first frame, not its last, keeps the estimate from being early.
        """
        arrivals = list(self.arrivals)  # one snapshot: the reader may append meanwhile
        times = np.array([arrived for arrived, _ in arrivals])
        ends = np.array([count for _, count in arrivals])
        firsts = np.concatenate([[0], ends[:-1]])
        near = np.abs(firsts - frame) <= 5 * RATE
        if not near.any():
            near[np.argmin(np.abs(firsts - frame))] = True
        return float(np.min(times[near] - (firsts[near] - frame) / RATE))

    def frame_at(self, when: float) -> int:
        """The recorded frame the server delivered at monotonic time `when` (time_of inverted)."""
        guess = round((when - self.arrivals[0][0]) * RATE)
        for _ in range(3):  # time_of is linear near a frame: converges at once
            guess += round((when - self.time_of(guess)) * RATE)
        return guess


class Recorder:
    """`parec` on the null sink's monitor (or another source), read by a thread."""

    def __init__(self, server: PulseServer, device: str = f"{SINK}.monitor") -> None:
        self.server = server
        self.device = device
        self.recording = Recording()
        self.process: subprocess.Popen[bytes] | None = None
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Recording:
        self.process = subprocess.Popen(
            [
                "parec",
                "--raw",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=2",
                "--latency-msec=10",
                f"--device={self.device}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.server._tool_env(),
        )
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 5
        while not self.recording.arrivals and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.recording

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        total = 0
        while True:
            data = self.process.stdout.read1(4096)  # type: ignore[attr-defined]
            if not data:
                return
            total += len(data)
            self.recording.chunks.append(data)
            self.recording.arrivals.append((time.monotonic(), total // 4))

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=5)
        if self.thread is not None:
            self.thread.join(timeout=5)


ROOM_LATENCY_MSEC = 40


def rig_server(folder: Path) -> PulseServer:
    """The voice-command rig: voiceguide plays into the default sink "speaker"; a loopback
    carries it into the sink "room" (the echo path, 40 ms); the default source is the room's
    monitor (the microphone). Test talkers play into "room" with `paplay -d room`."""
    server = PulseServer(
        folder,
        modules=[
            f"module-null-sink sink_name=speaker rate={RATE} channels=2",
            f"module-null-sink sink_name=room rate={RATE} channels=2",
            f"module-loopback source=speaker.monitor sink=room latency_msec={ROOM_LATENCY_MSEC}",
        ],
        keepalive_sink="speaker",
    )
    server.start()
    server.pactl("set-default-sink", "speaker")
    server.pactl("set-default-source", "room.monitor")
    return server
