"""Decode an audio file as a stream through an ffmpeg pipe: s16le stereo at the mix rate."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import numpy as np

from voiceguide.audioformat import CHANNELS, FRAME_BYTES, MIX_RATE_HZ
from voiceguide.errors import MusicError

log = logging.getLogger(__name__)


class Decoder:
    """One ffmpeg process reading `path` from `start_frame` on; never the whole file in memory."""

    def __init__(self, path: Path, start_frame: int = 0) -> None:
        self.path = path
        self.position_frame = start_frame
        command = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error"]
        if start_frame > 0:
            # -ss before -i seeks in the input, then decodes up to the exact frame.
            command += ["-ss", f"{start_frame / MIX_RATE_HZ:.6f}"]
        command += [
            "-i", str(path), "-map", "0:a:0", "-vn",
            "-f", "s16le", "-ac", str(CHANNELS), "-ar", str(MIX_RATE_HZ), "pipe:1",
        ]  # fmt: skip
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
            )
        except FileNotFoundError:
            raise MusicError("ffmpeg is not installed (apt-get install ffmpeg)") from None
        self.exhausted = False

    def read(self, n_frames: int) -> np.ndarray:
        """Up to `n_frames` int16 frames, shape (k, 2); fewer only at the end of the file."""
        if self.exhausted or self._process is None or self._process.stdout is None:
            return np.zeros((0, CHANNELS), dtype=np.int16)
        data = self._process.stdout.read(n_frames * FRAME_BYTES)
        frames = len(data) // FRAME_BYTES
        if frames < n_frames:
            self.exhausted = True
            self.close()
        self.position_frame += frames
        return np.frombuffer(data[: frames * FRAME_BYTES], dtype="<i2").reshape(-1, CHANNELS)

    def skip(self, n_frames: int) -> None:
        """Decode and discard (cheaper than a new process for short distances)."""
        chunk = MIX_RATE_HZ
        while n_frames > 0 and not self.exhausted:
            got = len(self.read(min(chunk, n_frames)))
            n_frames -= got

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        if process.stdout is not None:
            process.stdout.close()
        process.wait()
