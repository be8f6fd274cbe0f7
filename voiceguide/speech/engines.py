"""Text-to-speech engines by name: pyttsx3 (in a spawn worker) and the espeak-ng command."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from voiceguide.errors import BadInputError, VoiceError

if TYPE_CHECKING:
    import multiprocessing.connection
    import multiprocessing.process

log = logging.getLogger(__name__)

_WRITE_TIMEOUT_SECONDS = 20.0


class SpeechEngine(Protocol):
    """Writes one utterance to a mono 16-bit WAV file (any sample rate)."""

    name: str

    def synthesize(self, text: str, out_wav: Path) -> None: ...

    def close(self) -> None: ...


def wav_frames(path: Path) -> int:
    """Frames in a WAV file, 0 if it is missing or not (yet) a complete WAV."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes()
    except (OSError, EOFError, wave.Error):
        return 0


class EspeakEngine:
    """The `espeak-ng` command: deterministic, and the fallback when pyttsx3 fails."""

    name = "espeak-ng"

    def __init__(self, voice: str | None, rate_wpm: int) -> None:
        self.voice = voice
        self.rate_wpm = rate_wpm

    def synthesize(self, text: str, out_wav: Path) -> None:
        command = ["espeak-ng", "-s", str(self.rate_wpm), "-w", str(out_wav), "--stdin"]
        if self.voice:
            command[1:1] = ["-v", self.voice]
        try:
            result = subprocess.run(
                command, input=text.encode(), capture_output=True, timeout=30, check=False
            )
        except FileNotFoundError:
            raise VoiceError("espeak-ng is not installed (apt-get install espeak-ng)") from None
        if result.returncode != 0 or wav_frames(out_wav) == 0:
            detail = result.stderr.decode(errors="replace").strip().splitlines()
            raise VoiceError(f"espeak-ng failed: {detail[-1] if detail else 'empty output'}")

    def close(self) -> None:
        return None


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


def _pyttsx3_worker(
    conn: multiprocessing.connection.Connection, voice: str | None, rate: int
) -> None:
    """Runs in a spawned process: one engine, one thread, one save per run.

    Ctrl-C at the terminal reaches the whole process group: the worker ignores it (it is
    started with SIGINT ignored, and keeps it so) and is ended by its parent.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pyttsx3 prints "Audio saved to ..." on stdout
    import pyttsx3

    engine = pyttsx3.init("espeak")
    if voice:
        engine.setProperty("voice", voice)
    engine.setProperty("rate", rate)
    engine.runAndWait()  # apply the properties before any utterance: they race otherwise
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        text, out_path = request
        try:
            engine.save_to_file(text, out_path)
            engine.runAndWait()
            # runAndWait can return before the file is written: wait for a non-empty WAV.
            deadline = time.monotonic() + _WRITE_TIMEOUT_SECONDS
            while wav_frames(Path(out_path)) == 0:
                if time.monotonic() > deadline:
                    raise TimeoutError("pyttsx3 wrote no audio")
                time.sleep(0.005)
            conn.send(None)
        except Exception as err:  # reported to the parent, which falls back
            conn.send(f"{type(err).__name__}: {err}")


class Pyttsx3Engine:
    """pyttsx3 on espeak-ng, kept in its own spawned process (never forked, never shared)."""

    name = "pyttsx3"

    def __init__(self, voice: str | None, rate_wpm: int) -> None:
        self.voice = voice
        self.rate_wpm = rate_wpm
        self._lock = threading.Lock()
        self._conn: multiprocessing.connection.Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def _start(self) -> multiprocessing.connection.Connection:
        import multiprocessing  # here, not at the top: a warm start never synthesizes

        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_pyttsx3_worker, args=(child, self.voice, self.rate_wpm), daemon=True
        )
        try:
            with _sigint_ignored():
                process.start()
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
        self._conn, self._process = parent, process
        return parent

    def synthesize(self, text: str, out_wav: Path) -> None:
        with self._lock:
            try:
                conn = self._conn or self._start()
                conn.send((text, str(out_wav)))
                if not conn.poll(_WRITE_TIMEOUT_SECONDS + 5):
                    self.close()  # so its late answer is never taken for the next request's
                    raise VoiceError("pyttsx3 did not answer")
                problem = conn.recv()
            except (OSError, EOFError) as err:
                self.close()
                raise VoiceError(f"pyttsx3 worker failed: {err}") from None
            if problem:
                raise VoiceError(f"pyttsx3 failed: {problem}")

    def close(self) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.send(None)
            conn.close()
        if process is not None:
            process.join(timeout=1.0)
            if process.is_alive():
                process.kill()


ENGINES: dict[str, type[Pyttsx3Engine] | type[EspeakEngine]] = {
    "pyttsx3": Pyttsx3Engine,
    "espeak-ng": EspeakEngine,
}


def make_engine(name: str, voice: str | None, rate_wpm: int) -> SpeechEngine:
    try:
        engine_class = ENGINES[name]
    except KeyError:
        raise BadInputError(
            f"unknown speech engine {name!r} (choices: {', '.join(ENGINES)})"
        ) from None
    return engine_class(voice, rate_wpm)


DEFAULT_VOICE_FILE = "gmw/en"
"""The voice espeak-ng (and pyttsx3 on it) speaks with when none is chosen."""


def check_voice(voice: str) -> str | None:
    """The language of `voice` (e.g. "en-us"); BadInputError unless espeak-ng knows it (a
    language, a file or a name). None when espeak-ng cannot list its voices."""
    table = _voice_table()
    if not table:
        return None  # cannot list them: let the engine decide
    wanted = voice.split("+", 1)[0].lower()
    for language, name, file in table:
        if wanted in {
            language.lower(),
            name.lower(),
            file.lower(),
            file.rsplit("/", 1)[-1].lower(),
        }:
            return language
    raise BadInputError(f"unknown voice {voice!r} (see `voiceguide voices` for the choices)")


def list_voices() -> list[tuple[str, str, bool]]:
    """(what to give --voice, name, is the default) for each espeak-ng voice.

    A language that several voices share (yue) is given by the voice's file instead, so
    every row names one voice.
    """
    table = _voice_table()
    languages = [language for language, _, _ in table]
    return [
        (language if languages.count(language) == 1 else file, name, file == DEFAULT_VOICE_FILE)
        for language, name, file in table
    ]


def _voice_table() -> list[tuple[str, str, str]]:
    """(language, name, file) rows of `espeak-ng --voices`."""
    try:
        out = subprocess.run(
            ["espeak-ng", "--voices"], capture_output=True, text=True, check=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 5:
            rows.append((parts[1], parts[3].replace("_", " "), parts[4]))
    return rows
