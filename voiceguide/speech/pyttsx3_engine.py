"""pyttsx3 in a spawned worker, raced by the espeak-ng command when it is slow to answer.

pyttsx3 drives the same libespeak-ng as the `espeak-ng` command, with the same voice and
rate, and the two write the same samples. So when the worker has not answered within a
short head start (proportional to the text's length), the command is started as well and
whichever finishes first gives the clip: a worker that stalls costs a fraction of a
second, not the twenty it used to. A worker still busy with a request the command
answered gets no new one until it has answered; one that has not answered for
WRITE_TIMEOUT_SECONDS is killed, and the engine fails (the caller then keeps to the
espeak-ng command for the rest of the session).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import multiprocessing.connection
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from voiceguide.errors import VoiceError
from voiceguide.speech.espeak import EspeakEngine
from voiceguide.speech.pyttsx3_worker import READY, WRITE_TIMEOUT_SECONDS, run_worker

log = logging.getLogger(__name__)

HEAD_START_SECONDS = 0.25
"""How long pyttsx3 has alone before the espeak-ng command joins in: it answers a sentence
in 20-70 ms (on a busy machine too)."""
HEAD_START_SECONDS_PER_CHAR = 0.0005
"""And per character of text: 1,000 characters take pyttsx3 about 0.4 s, as the command."""
MAX_HEAD_START_SECONDS = 1.0
"""pyttsx3 slows down with the square of the length (5,000 characters: 4.8 s, the command
1.0 s); past this, racing costs less than waiting."""
_POLL_SECONDS = 0.003


def head_start_seconds(text: str) -> float:
    """How long the worker has alone for `text` before the command is started too."""
    return min(HEAD_START_SECONDS + HEAD_START_SECONDS_PER_CHAR * len(text), MAX_HEAD_START_SECONDS)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while a worker starts: a spawned child inherits SIG_IGN across exec, so
    Python never installs its KeyboardInterrupt handler there (only the main thread can)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Pyttsx3Engine:
    """pyttsx3 on espeak-ng, in its own spawned process (never forked, never shared)."""

    name = "pyttsx3"

    def __init__(self, voice: str | None, rate_wpm: int) -> None:
        self.voice = voice
        self.rate_wpm = rate_wpm
        self.espeak = EspeakEngine(voice, rate_wpm)
        self._lock = threading.Lock()
        self._conn: multiprocessing.connection.Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._ready = False
        self._next_id = 0
        self._owed: dict[int, tuple[Path, float]] = {}
        """Requests the command answered first: the worker's file and when it was asked."""
        self.answered_by: list[str] = []
        """Which of the two made each clip ("pyttsx3" or "espeak-ng"), in order."""

    def _start(self) -> multiprocessing.connection.Connection:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=run_worker, args=(child, self.voice, self.rate_wpm), daemon=True
        )
        try:
            with _sigint_ignored():
                process.start()
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        self._conn, self._process, self._ready = parent, process, False
        return parent

    def synthesize(self, text: str, out_wav: Path) -> Path:
        """Write `text`: by the worker to `out_wav`, or by the command to a file beside it if
        that finishes first; the file written is returned."""
        with self._lock:
            try:
                self._collect()
                if self._owed:
                    self._give_up_if_stuck()
                    return self._by_command(text, out_wav)  # the worker is on an older one
                return self._race(text, out_wav)
            except (OSError, EOFError) as err:
                self._end_worker()
                raise VoiceError(f"pyttsx3 worker failed: {err}") from None

    def _by_command(self, text: str, out_wav: Path) -> Path:
        self.answered_by.append(self.espeak.name)
        return self.espeak.synthesize(text, out_wav)

    def _race(self, text: str, out_wav: Path) -> Path:
        conn = self._conn or self._start()
        request_id, self._next_id = self._next_id, self._next_id + 1
        # Each writes its own file: a late answer of the worker's never touches the command's.
        own, by_command = out_wav, out_wav.with_name(f"{out_wav.stem}.espeak-ng{out_wav.suffix}")
        conn.send((request_id, text, str(own)))
        asked = time.monotonic()
        # A worker still starting has no head start: the command gives the first clip at once.
        command_at = asked + (head_start_seconds(text) if self._ready else 0.0)
        command: subprocess.Popen[bytes] | None = None
        try:
            while True:
                wait = _POLL_SECONDS if command else max(0.0, command_at - time.monotonic())
                if conn.poll(wait):
                    message = conn.recv()
                    if message == READY:
                        self._ready = True
                        continue
                    answered, problem = message
                    if answered != request_id:
                        self._settle(answered)
                        continue
                    if problem is None:
                        self.answered_by.append(self.name)
                        return own
                    log.debug("pyttsx3: %s; the espeak-ng command says it", problem)
                    own.unlink(missing_ok=True)
                    if command is None:
                        command = self.espeak.start(text, by_command)
                    process, command = command, None
                    self.espeak.finish(process, by_command)
                    self.answered_by.append(self.espeak.name)
                    return by_command
                if command is None and time.monotonic() >= command_at:
                    log.debug("pyttsx3 has not answered; starting the espeak-ng command too")
                    command = self.espeak.start(text, by_command)
                if command is not None and command.poll() is not None:
                    process, command = command, None
                    self._owed[request_id] = (own, asked)
                    self.espeak.finish(process, by_command)
                    self.answered_by.append(self.espeak.name)
                    return by_command
        finally:
            if command is not None:  # the worker won, or something failed
                self.espeak.stop(command)
                by_command.unlink(missing_ok=True)

    def _collect(self) -> None:
        """Take in the answers that arrived meanwhile (late ones, READY), without waiting."""
        conn = self._conn
        while conn is not None and conn.poll(0):
            message = conn.recv()
            if message == READY:
                self._ready = True
            else:
                self._settle(message[0])

    def _settle(self, request_id: int) -> None:
        """A late answer: its clip was made by the command; the worker's file goes."""
        own, _ = self._owed.pop(request_id, (None, 0.0))
        if own is not None:
            own.unlink(missing_ok=True)

    def _give_up_if_stuck(self) -> None:
        oldest = min(asked for _, asked in self._owed.values())
        waited = time.monotonic() - oldest
        if waited > WRITE_TIMEOUT_SECONDS:
            self._end_worker()
            raise VoiceError(f"pyttsx3 did not answer in {waited:.0f} s")

    def _end_worker(self) -> None:
        """Kill the worker at once (it may be stuck in espeak-ng's callback) and forget it."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        self._ready = False
        if conn is not None:
            conn.close()
        if process is not None:
            process.kill()
            process.join(timeout=5.0)
        for own, _ in self._owed.values():
            own.unlink(missing_ok=True)
        self._owed.clear()

    def close(self) -> None:
        """Ask the worker to end; kill it if it does not within a second."""
        with self._lock:
            conn, process = self._conn, self._process
            if conn is not None and process is not None and not self._owed:
                with contextlib.suppress(OSError):
                    conn.send(None)
                process.join(timeout=1.0)
            self._end_worker()
