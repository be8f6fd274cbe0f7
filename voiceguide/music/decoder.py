"""Decode an audio file as a stream through an ffmpeg pipe: s16le stereo at the mix rate."""

from __future__ import annotations

import logging
import queue
import subprocess
import threading
from pathlib import Path

import numpy as np

from voiceguide.audioformat import CHANNELS, FRAME_BYTES, MIX_RATE_HZ
from voiceguide.errors import MusicError
from voiceguide.priority import lower_process, lower_this_thread

log = logging.getLogger(__name__)

CHUNK_FRAMES = MIX_RATE_HZ // 4
READ_AHEAD_CHUNKS = 16  # 4 s decoded ahead: ffmpeg works while the mixer does
_EOF = b""


class Decoder:
    """One ffmpeg process reading `path` from `start_frame` on; never the whole file in memory.

    A thread keeps a few seconds decoded ahead, so decoding (in ffmpeg) and mixing (here)
    overlap instead of taking turns through the 64 KiB pipe.
    """

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
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                # Out of the terminal's process group, as parec is: Ctrl-C is the session's to
                # handle, which closes its decoders (ffmpeg ended by it first looks like a file
                # that cannot be decoded).
                start_new_session=True,
            )
        except FileNotFoundError:
            raise MusicError("ffmpeg is not installed (apt-get install ffmpeg)") from None
        lower_process(self._process.pid)  # it decodes ahead at full speed: after the audio
        self.exhausted = False
        self._closed = threading.Event()
        self._chunks: queue.Queue[bytes] = queue.Queue(maxsize=READ_AHEAD_CHUNKS)
        self._pending = bytearray()
        self._source_done = False
        self._pump = threading.Thread(
            target=self._read_ahead, name="voiceguide-decode", daemon=True
        )
        self._pump.start()

    def _read_ahead(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        stdout = process.stdout
        lower_this_thread()
        while not self._closed.is_set():
            try:
                data = stdout.read(CHUNK_FRAMES * FRAME_BYTES)
            except (OSError, ValueError):
                data = _EOF
            self._put(data or _EOF)
            if len(data) < CHUNK_FRAMES * FRAME_BYTES:
                if data:
                    self._put(_EOF)
                return

    def _put(self, chunk: bytes) -> None:
        """Queue a chunk, waiting for room as long as the decoder is open: a chunk dropped,
        the end marker above all, would leave `read` waiting for ever (it was once given up
        after 1 s, which a pause at the end of a track outlasts)."""
        while not self._closed.is_set():
            try:
                self._chunks.put(chunk, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self, n_frames: int) -> np.ndarray:
        """Up to `n_frames` int16 frames, shape (k, 2); fewer only at the end of the file."""
        wanted = n_frames * FRAME_BYTES
        while len(self._pending) < wanted and not self._source_done:
            data = self._chunks.get()
            if not data:
                self._source_done = True
                break
            self._pending += data
        frames = min(n_frames, len(self._pending) // FRAME_BYTES)
        data = bytes(self._pending[: frames * FRAME_BYTES])
        del self._pending[: frames * FRAME_BYTES]
        if frames < n_frames:
            self.exhausted = True
            self.close()
        self.position_frame += frames
        return np.frombuffer(data, dtype="<i2").reshape(-1, CHANNELS)

    def can_read(self, n_frames: int) -> bool:
        """True when `read(n_frames)` would not wait for ffmpeg (decoded already, or the end)."""
        if self._source_done:
            return True
        # Queued chunks are whole ones but for the last, and the end marker always follows it.
        queued_frames = self._chunks.qsize() * CHUNK_FRAMES
        return len(self._pending) // FRAME_BYTES + queued_frames >= n_frames

    def skip(self, n_frames: int) -> None:
        """Decode and discard (cheaper than a new process for short distances)."""
        while n_frames > 0 and not self.exhausted:
            got = len(self.read(min(MIX_RATE_HZ, n_frames)))
            n_frames -= got

    def close(self) -> None:
        self._closed.set()
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        if threading.current_thread() is not self._pump:
            self._pump.join(timeout=2.0)
        if process.stdout is not None:
            process.stdout.close()
