"""The natural offline voice (the optional extra `voiceguide[natural]`): hibari's bundled model.

hibari-tts (Apache-2.0) is a small neural voice distilled from Kokoro-82M: an 8 MB ONNX model
run by onnxruntime, and a lexicon-based phonemizer, all inside its wheel. Only the voice its
wheel holds ("heart", American English) is offered: its other voices are downloaded on first
use, and nothing in voiceguide may download. The model is given by its path inside the
package, so hibari's downloader is never reached, whatever voice name came in.

hibari and onnxruntime are imported only by its worker process (speech/hibari_worker.py),
started when a clip is missing: `--help`, the other commands and a warm start (every clip
cached) do without them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import select
import subprocess
import sys
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from voiceguide.errors import BadInputError, VoiceError

NAME = "hibari"
DISTRIBUTION = "hibari-tts"
VOICES = {"heart": "American English, female"}
"""The voices in hibari's wheel: the only ones usable offline."""
DEFAULT_VOICE = "heart"
TEACHER_RATE_WPM = 150
"""The rate (words per minute) given as hibari's speed 1.0: its teacher's pace, close to
espeak-ng's 150 wpm on the routine's sentences."""
_MIN_SPEED, _MAX_SPEED = 0.5, 2.0
"""hibari's speed range."""
WORKER = "voiceguide.speech.hibari_worker"
LOAD_TIMEOUT_SECONDS = 60.0
"""For the worker to start and load its model (half a second to a few on a busy machine)."""
CLIP_TIMEOUT_SECONDS = 30.0
"""For one clip (a sentence takes 30-70 ms; the longest text a routine may hold, seconds)."""
INSTALL_HINT = "pip install 'voiceguide[natural]'"


def installed() -> bool:
    """Whether the extra is installed (found without importing it: that takes half a second)."""
    return all(importlib.util.find_spec(name) is not None for name in ("hibari", "onnxruntime"))


@lru_cache(maxsize=1)
def version() -> str:
    """hibari's version, for the voice cache's key ("" when it is not installed)."""
    import importlib.metadata  # here: 20-50 ms to import, and only the natural voice asks

    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return ""


def check_voice(voice: str | None) -> str:
    """The hibari voice to use for `voice` (None: the default); BadInputError for another."""
    if voice is None:
        return DEFAULT_VOICE
    if voice.lower() in VOICES:
        return voice.lower()
    raise BadInputError(
        f"unknown voice {voice!r} for the {NAME} engine (it has {', '.join(VOICES)};"
        " see `voiceguide voices`)"
    )


def speed_for(rate_wpm: int) -> float:
    """hibari's speed for a speaking rate in words per minute, within its range."""
    return min(max(rate_wpm / TEACHER_RATE_WPM, _MIN_SPEED), _MAX_SPEED)


class HibariEngine:
    """hibari in its own worker process (speech/hibari_worker.py), started at most once."""

    name = NAME

    def __init__(self, voice: str | None, rate_wpm: int) -> None:
        self.voice = check_voice(voice)
        self.speed = speed_for(rate_wpm)
        self._process: subprocess.Popen[str] | None = None
        self._ready = False
        self._next_id = 0
        self._lock = threading.Lock()

    def preload(self) -> None:
        """Start the worker loading its model, without waiting (the first clip waits)."""
        with self._lock:
            self._start()

    def _start(self) -> subprocess.Popen[str]:
        if self._process is not None:
            return self._process
        if not installed():
            raise VoiceError(f"the {NAME} voice is not installed ({INSTALL_HINT})")
        command = [sys.executable, "-m", WORKER, self.voice, repr(self.speed)]
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                bufsize=1,
                start_new_session=True,  # Ctrl-C is the session's to handle, not the worker's
            )
        except OSError as err:
            raise VoiceError(f"{NAME} could not start: {err}") from None
        return self._process

    def synthesize(self, text: str, out_wav: Path) -> Path:
        """Write `text` to `out_wav`: 16-bit mono at hibari's 24 kHz."""
        with self._lock:
            process = self._start()
            try:
                if not self._ready:
                    answer = self._answer(process, LOAD_TIMEOUT_SECONDS)
                    if not answer.get("ready"):
                        raise VoiceError(f"{NAME} could not load: {answer.get('problem')}")
                    self._ready = True
                request_id, self._next_id = self._next_id, self._next_id + 1
                assert process.stdin is not None
                request = {"id": request_id, "text": text, "wav": str(out_wav)}
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
                answer = self._answer(process, CLIP_TIMEOUT_SECONDS)
            except (OSError, ValueError) as err:  # a broken pipe, a garbled answer
                self._end()
                raise VoiceError(f"{NAME} worker failed: {err}") from None
            except VoiceError:
                self._end()
                raise
        if answer.get("id") != request_id or answer.get("problem") is not None:
            raise VoiceError(f"{NAME} failed: {answer.get('problem')}")
        return out_wav

    def _answer(self, process: subprocess.Popen[str], timeout_seconds: float) -> dict[str, Any]:
        """The worker's next answer; VoiceError if it ends or says nothing in time."""
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], timeout_seconds)
        if not ready:
            raise VoiceError(f"{NAME} did not answer in {timeout_seconds:.0f} s")
        line = process.stdout.readline()
        if not line:
            raise VoiceError(f"{NAME} worker ended (exit status {process.wait()})")
        answer = json.loads(line)
        if not isinstance(answer, dict):
            raise ValueError(f"unexpected answer {line[:80]!r}")
        return answer

    def _end(self) -> None:
        """Close the worker's input (it ends), and kill it if it has not within a second."""
        process, self._process, self._ready = self._process, None, False
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        try:
            process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        with self._lock:
            self._end()
