"""The microphone: `parec` from the sound server (PulseAudio or PipeWire's pulse), read by a thread.

parec converts whatever the source delivers to 16 kHz mono int16 (the server resamples), so
nothing here depends on the device. The samples go straight to a callback in memory, never
to disk. If the source vanishes mid-session (unplugged, module unloaded), the server either
ends the stream or quietly moves it to another source (PulseAudio does, and parec cannot
forbid it), so the reader also checks every WATCH_SECONDS that the source still exists. Either
way the thread reports it once through `on_lost`, ends parec and stops; the session goes on
with its keys.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable

import numpy as np

from voiceguide.errors import VoiceguideError
from voiceguide.listen.format import LISTEN_RATE_HZ, SAMPLE_BYTES

CHUNK_SECONDS = 0.02
READ_BYTES = int(CHUNK_SECONDS * LISTEN_RATE_HZ) * SAMPLE_BYTES
START_TIMEOUT_SECONDS = 3.0
WATCH_SECONDS = 2.0
NO_INPUT_HINT = "keys still work"


class NoInputError(VoiceguideError):
    """No microphone: no sound server, no source, or the named source does not exist."""


def _pactl(*args: str) -> str:
    try:
        done = subprocess.run(
            ["pactl", *args], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise NoInputError(f"listening is off: no sound server ({err}); {NO_INPUT_HINT}") from None
    if done.returncode != 0:
        problem = (done.stderr.strip().splitlines() or ["pactl failed"])[0]
        raise NoInputError(f"listening is off: no sound server ({problem}); {NO_INPUT_HINT}")
    return done.stdout


def input_sources() -> list[str]:
    """Names of the sound server's sources (inputs and monitors)."""
    return [
        line.split("\t")[1]
        for line in _pactl("list", "short", "sources").splitlines()
        if "\t" in line
    ]


def default_source() -> str | None:
    for line in _pactl("info").splitlines():
        if line.startswith("Default Source:"):
            name = line.split(":", 1)[1].strip()
            return name or None
    return None


def resolve_source(source: str | None) -> str:
    """The source to record: `source` if it exists, else the server's default; NoInputError."""
    sources = input_sources()
    if source is not None:
        if source not in sources:
            known = ", ".join(sources) if sources else "none"
            raise NoInputError(
                f"listening is off: no input named {source!r} (inputs: {known}); {NO_INPUT_HINT}"
            )
        return source
    name = default_source()
    if name is None or name not in sources:
        raise NoInputError(f"listening is off: no input found (no microphone); {NO_INPUT_HINT}")
    return name


class MicCapture:
    """parec on one source; `on_chunk(samples, read_time)` is called from the reader thread."""

    def __init__(
        self,
        on_chunk: Callable[[np.ndarray, float], None],
        on_lost: Callable[[str], None],
        source: str | None = None,
    ) -> None:
        self._on_chunk = on_chunk
        self._on_lost = on_lost
        self.requested = source
        self.source: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._first = threading.Event()

    def start(self) -> None:
        """Start recording; NoInputError if there is nothing to record from."""
        self.source = resolve_source(self.requested)
        command = [
            "parec",
            "--raw",
            "--format=s16le",
            f"--rate={LISTEN_RATE_HZ}",
            "--channels=1",
            f"--latency-msec={int(CHUNK_SECONDS * 1000)}",
            f"--device={self.source}",
            "--client-name=voiceguide",
            "--stream-name=voice commands",
        ]
        try:
            self._process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=os.environ.copy(),
                # Out of the terminal's process group: Ctrl-C is the session's to handle. It
                # reached parec first, and its end was reported as the microphone gone.
                start_new_session=True,
            )
        except OSError as err:
            raise NoInputError(
                f"listening is off: cannot run parec ({err}); {NO_INPUT_HINT}"
            ) from None
        self._thread = threading.Thread(target=self._read, name="voiceguide-mic", daemon=True)
        self._thread.start()
        if not self._first.wait(START_TIMEOUT_SECONDS):
            problem = self._stop_process()
            self._join()
            raise NoInputError(
                f"listening is off: input {self.source!r} gives no sound"
                f"{f' ({problem})' if problem else ''}; {NO_INPUT_HINT}"
            )

    def _read(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        leftover = b""
        next_watch = time.monotonic() + WATCH_SECONDS
        while True:
            try:
                data = process.stdout.read1(READ_BYTES)  # type: ignore[attr-defined]
            except (OSError, ValueError):
                data = b""
            if not data:
                break
            read_time = time.monotonic()
            data = leftover + data
            usable = len(data) // SAMPLE_BYTES * SAMPLE_BYTES
            leftover = data[usable:]
            if usable:
                self._first.set()
                self._on_chunk(np.frombuffer(data[:usable], dtype="<i2"), read_time)
            if read_time >= next_watch:
                next_watch = read_time + WATCH_SECONDS
                if not self._source_exists():
                    break
        if not self._closing.is_set() and self._first.is_set():
            problem = self._stop_process()
            self._on_lost(
                f"listening stopped: input {self.source!r} went away"
                f"{f' ({problem})' if problem else ''}; {NO_INPUT_HINT}"
            )

    def _source_exists(self) -> bool:
        try:
            return self.source in input_sources()
        except NoInputError:
            return False

    def _stop_process(self) -> str:
        """End parec if it runs; its last error line, if any."""
        process = self._process
        if process is None:
            return ""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        error = b""
        if process.stderr is not None:
            try:
                error = process.stderr.read() or b""
            except (OSError, ValueError):
                error = b""
            process.stderr.close()
        lines = error.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def _join(self) -> None:
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop parec and join the reader thread (idempotent)."""
        self._closing.set()
        self._stop_process()
        self._join()
        if self._process is not None and self._process.stdout is not None:
            self._process.stdout.close()
