"""The espeak-ng command: synthesis to a WAV file, and the voices it knows."""

from __future__ import annotations

import os
import re
import subprocess
from functools import lru_cache
from pathlib import Path

from voiceguide.errors import BadInputError, VoiceError
from voiceguide.speech.wavfile import wav_frames

NO_SOUND_SERVER = "unix:/dev/null/none"
"""A PulseAudio server that cannot exist (/dev/null is no folder). espeak-ng opens the
sound server as it starts, even to write a file; pointed here, it fails at once, and
libpulse makes no `pulse-*` folder in /tmp and nothing in ~/.config/pulse."""

_TIMEOUT_SECONDS = 30.0
DEFAULT_VOICE_FILE = "gmw/en"
"""The voice espeak-ng (and pyttsx3 on it) speaks with when none is chosen."""


def quiet_environment() -> dict[str, str]:
    """This process's environment for an espeak-ng that makes no sound: no sound server."""
    return {**os.environ, "PULSE_SERVER": NO_SOUND_SERVER}


def _ask(option: str) -> str:
    """What `espeak-ng OPTION` prints ("" when it cannot be run)."""
    try:
        return subprocess.run(
            ["espeak-ng", option],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
            env=quiet_environment(),
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


@lru_cache(maxsize=1)
def version() -> str:
    """espeak-ng's version ("1.51"), for the voice cache's key: its clips change with it, and
    pyttsx3 speaks through the same library. "" when it cannot be run (synthesis then says why).
    12 ms, once per process."""
    out = _ask("--version")
    found = re.search(r"text-to-speech:\s*(\S+)", out)
    return found.group(1) if found else out.strip()


class EspeakEngine:
    """The `espeak-ng` command: deterministic, and the same voice as pyttsx3 on it.

    `start` and `finish` let a caller run it alongside something else (see Pyttsx3Engine).
    """

    name = "espeak-ng"

    def __init__(self, voice: str | None, rate_wpm: int) -> None:
        self.voice = voice
        self.rate_wpm = rate_wpm

    def start(self, text: str, out_wav: Path) -> subprocess.Popen[bytes]:
        """Start writing `text` to `out_wav`; `finish` waits for it."""
        command = ["espeak-ng", "-s", str(self.rate_wpm), "-w", str(out_wav), "--stdin"]
        if self.voice:
            command[1:1] = ["-v", self.voice]
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=quiet_environment(),
            )
        except FileNotFoundError:
            raise VoiceError("espeak-ng is not installed (apt-get install espeak-ng)") from None
        assert process.stdin is not None
        try:
            process.stdin.write(text.encode())
            process.stdin.close()
        except BrokenPipeError:
            pass  # it stopped already: finish() reports why
        return process

    def finish(self, process: subprocess.Popen[bytes], out_wav: Path) -> None:
        """Wait for `process` (from `start`); VoiceError unless it wrote some sound."""
        try:
            process.wait(timeout=_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.stop(process)
            raise VoiceError(f"espeak-ng did not finish in {_TIMEOUT_SECONDS:.0f} s") from None
        stderr = process.stderr.read() if process.stderr is not None else b""
        if process.stderr is not None:
            process.stderr.close()
        if process.returncode != 0 or not wav_frames(out_wav):
            detail = stderr.decode(errors="replace").strip().splitlines()
            raise VoiceError(f"espeak-ng failed: {detail[-1] if detail else 'empty output'}")

    @staticmethod
    def stop(process: subprocess.Popen[bytes]) -> None:
        """End a `start`ed process whose output is no longer wanted."""
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()

    def synthesize(self, text: str, out_wav: Path) -> Path:
        self.finish(self.start(text, out_wav), out_wav)
        return out_wav

    def close(self) -> None:
        return None


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
    out = _ask("--voices")
    rows = []
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 5:
            rows.append((parts[1], parts[3].replace("_", " "), parts[4]))
    return rows
