"""One contract for every sink: written frames come out unchanged; abort leaves nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from voiceguide.errors import BadInputError
from voiceguide.output import FileSink, NullSink, make_sink
from voiceguide.output.simpleaudio import SimpleaudioSink

from audio_helpers import find_clip, read_wav
from soundserver import Recorder

RATE = 44_100


def signal_frames(seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    left = 8000 * np.sin(2 * np.pi * (200 + 300 * t) * t)
    right = 6000 * np.sin(2 * np.pi * 523.25 * t) * np.exp(-t % 0.5)
    return np.rint(np.stack([left, right], axis=1)).astype(np.int16)


def write_all(sink, frames: np.ndarray, block: int = 4410) -> None:
    sink.open(RATE, len(frames))
    for start in range(0, len(frames), block):
        sink.write(frames[start : start + block])
    sink.close()


class SinkContract:
    """Run by each sink below: `delivered()` returns what reached the far end."""

    def make(self, tmp_path: Path):
        raise NotImplementedError

    def delivered(self, sink, tmp_path: Path, run: Callable[[], None]) -> np.ndarray:
        raise NotImplementedError

    def test_written_frames_come_out_unchanged(self, tmp_path: Path) -> None:
        frames = signal_frames()
        sink = self.make(tmp_path)
        out = self.delivered(sink, tmp_path, lambda: write_all(sink, frames))
        assert np.array_equal(out, frames)

    def test_abort_leaves_no_partial_output(self, tmp_path: Path) -> None:
        sink = self.make(tmp_path)
        sink.open(RATE, RATE)
        sink.write(signal_frames(0.1))
        sink.abort()
        self.check_aborted(sink, tmp_path)

    def check_aborted(self, sink, tmp_path: Path) -> None:
        raise NotImplementedError


class TestNullSink(SinkContract):
    def make(self, tmp_path: Path) -> NullSink:
        return NullSink()

    def delivered(self, sink: NullSink, tmp_path: Path, run: Callable[[], None]) -> np.ndarray:
        run()
        frames = signal_frames()
        assert sink.digest.hexdigest() == hashlib.sha256(frames.tobytes()).hexdigest()
        assert sink.frames_written == len(frames) and sink.closed
        return frames  # the digest proved the bytes

    def check_aborted(self, sink: NullSink, tmp_path: Path) -> None:
        assert sink.closed


class TestFileSink(SinkContract):
    def make(self, tmp_path: Path) -> FileSink:
        return FileSink(tmp_path / "out.wav")

    def delivered(self, sink: FileSink, tmp_path: Path, run: Callable[[], None]) -> np.ndarray:
        run()
        frames, rate = read_wav(tmp_path / "out.wav")
        assert rate == RATE
        return frames

    def check_aborted(self, sink: FileSink, tmp_path: Path) -> None:
        assert list(tmp_path.iterdir()) == []


@pytest.mark.sound
class TestSimpleaudioSink(SinkContract):
    @pytest.fixture(autouse=True)
    def _server(self, pulse_env) -> None:
        self.server = pulse_env

    def make(self, tmp_path: Path) -> SimpleaudioSink:
        return SimpleaudioSink()

    def delivered(
        self, sink: SimpleaudioSink, tmp_path: Path, run: Callable[[], None]
    ) -> np.ndarray:
        frames = signal_frames()
        with Recorder(self.server) as recording:
            run()
        heard = recording.frames()
        onset = int(np.flatnonzero(np.abs(heard[:, 0].astype(np.int32)) > 0)[0])
        found, score = find_clip(heard[:, 0].astype(float), frames[:RATE // 2, 0].astype(float),
                                 onset, RATE // 10)  # fmt: skip
        assert score > 0.999
        return heard[found : found + len(frames)]

    def check_aborted(self, sink: SimpleaudioSink, tmp_path: Path) -> None:
        assert not sink.playing


def test_unknown_sink_lists_the_choices() -> None:
    with pytest.raises(
        BadInputError, match=r"unknown sink 'alsa' \(choices: simpleaudio, file, null\)"
    ):
        make_sink("alsa")


def test_file_sink_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"out\.aiff: unsupported output format"):
        FileSink(tmp_path / "out.aiff")
