"""Write the session to a file: WAV directly, mp3/ogg/flac through an ffmpeg pipe."""

from __future__ import annotations

import contextlib
import subprocess
import wave
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from voiceguide.audioformat import CHANNELS, SAMPLE_BYTES, frames_to_seconds
from voiceguide.errors import BadInputError, OutputError, from_os_error
from voiceguide.files import SHARED_MODE, PendingFile, check_target
from voiceguide.routine.durations import format_seconds

ENCODERS = {
    ".mp3": ["-c:a", "libmp3lame", "-q:a", "2"],
    ".ogg": ["-c:a", "libvorbis", "-q:a", "5"],
    ".flac": ["-c:a", "flac"],
}
FORMATS = (".wav", *ENCODERS)
WAV_HEADER_BYTES = 44
WAV_MAX_BYTES = 2**32 - 1
"""RIFF sizes are 32-bit: a WAV file ends at 4 GiB (6 h 45 min of the mix format)."""


class FileSink:
    """Writes to a temporary file next to the target and renames it at the end.

    A failed or interrupted render never leaves a truncated file under the user's name.
    The path is checked at once (voiceguide.files.check_target): an existing file is
    replaced only with `force`, and never one of the session's inputs (`protect`).
    """

    name = "file"

    def __init__(self, path: Path, *, force: bool = False) -> None:
        self.path = path
        self.suffix = path.suffix.lower()
        if self.suffix not in FORMATS:
            raise BadInputError(
                f"{path}: unsupported output format (choose one of: {', '.join(FORMATS)})"
            )
        self.force = force
        self.inputs: tuple[Path, ...] = ()
        check_target(path, force=force)
        self._pending: PendingFile | None = None
        self._wav: wave.Wave_write | None = None
        self._ffmpeg: subprocess.Popen[bytes] | None = None

    def protect(self, inputs: Iterable[Path]) -> None:
        """Refuse now, and at the end, to write over any of `inputs` (music, routine file)."""
        self.inputs = tuple(inputs)
        check_target(self.path, force=self.force, inputs=self.inputs)

    @property
    def _tmp(self) -> Path | None:
        return self._pending.temp if self._pending is not None else None

    def check_length(self, total_frames: int, sample_rate_hz: int) -> None:
        """Refuse (BadInputError) a session too long for the output's format: a WAV file
        cannot hold more than 4 GiB, and finding out at the end would waste the render."""
        size = total_frames * CHANNELS * SAMPLE_BYTES + WAV_HEADER_BYTES
        if self.suffix != ".wav" or size <= WAV_MAX_BYTES:
            return
        length = format_seconds(frames_to_seconds(total_frames, sample_rate_hz))
        raise BadInputError(
            f"{self.path}: this session ({length}) would be {size / 2**30:.1f} GiB as WAV, over"
            f" the 4 GiB a WAV file can hold; write a .flac, .ogg or .mp3 file instead"
        )

    def open(self, sample_rate_hz: int, total_frames: int) -> None:
        self.check_length(total_frames, sample_rate_hz)
        self._pending = PendingFile(
            self.path, mode=SHARED_MODE, force=self.force, inputs=self.inputs, suffix=self.suffix
        )
        assert self._tmp is not None
        if self.suffix == ".wav":
            self._wav = wave.open(str(self._tmp), "wb")
            self._wav.setnchannels(CHANNELS)
            self._wav.setsampwidth(SAMPLE_BYTES)
            self._wav.setframerate(sample_rate_hz)
            return
        command = [
            "ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
            "-f", "s16le", "-ar", str(sample_rate_hz), "-ac", str(CHANNELS), "-i", "pipe:0",
            *ENCODERS[self.suffix], str(self._tmp),
        ]  # fmt: skip
        try:
            self._ffmpeg = subprocess.Popen(
                command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
            )
        except FileNotFoundError:
            self.abort()
            raise OutputError("ffmpeg is not installed (apt-get install ffmpeg)") from None

    def write(self, block: np.ndarray) -> None:
        data = block.astype("<i2", copy=False).tobytes()
        if self._wav is not None:
            try:
                self._wav.writeframesraw(data)
            except OSError as err:  # a full disk: nothing half-written stays behind
                self.abort()
                raise from_os_error(
                    err, self.path, doing="cannot write", error=OutputError
                ) from None
        elif self._ffmpeg is not None and self._ffmpeg.stdin is not None:
            try:
                self._ffmpeg.stdin.write(data)
            except BrokenPipeError:
                self._fail_from_ffmpeg()

    def _fail_from_ffmpeg(self) -> None:
        assert self._ffmpeg is not None
        stderr = self._ffmpeg.stderr.read().decode(errors="replace") if self._ffmpeg.stderr else ""
        self.abort()
        lines = stderr.strip().splitlines()
        reason = lines[-1] if lines else "ffmpeg stopped"
        raise OutputError(f"{self.path}: encoding failed: {reason}")

    def close(self) -> None:
        try:
            self._finish_writing()
        except OSError as err:
            self.abort()
            raise from_os_error(err, self.path, doing="cannot write", error=OutputError) from None
        except BaseException:
            self.abort()  # nothing half-written stays behind, Ctrl-C included
            raise
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.commit()

    def _finish_writing(self) -> None:
        if self._wav is not None:
            wav, self._wav = self._wav, None
            wav.close()
        if self._ffmpeg is not None:
            assert self._ffmpeg.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                self._ffmpeg.stdin.close()
            if self._ffmpeg.wait() != 0:
                self._fail_from_ffmpeg()
            if self._ffmpeg.stderr is not None:
                self._ffmpeg.stderr.close()
            self._ffmpeg = None

    def abort(self) -> None:
        if self._wav is not None:
            with contextlib.suppress(Exception):
                self._wav.close()
            self._wav = None
        if self._ffmpeg is not None:
            self._ffmpeg.kill()
            self._ffmpeg.wait()
            for stream in (self._ffmpeg.stdin, self._ffmpeg.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            self._ffmpeg = None
        if self._pending is not None:
            self._pending.discard()
            self._pending = None
