"""A live reader asks the music stream whether a block is decoded before reading it: asking
starts the decoders a block needs, never waits, and never changes the samples it reads. And
a decoder's reader never waits in vain, whatever the pauses between reads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voiceguide.music.decoder import CHUNK_FRAMES, Decoder
from voiceguide.music.stream import MusicStream
from voiceguide.music.track import Track

from slow_ffmpeg import slow_ffmpeg_path
from test_music_formats import make_pink

RATE = 44_100
BLOCK = 4096


def wait_ready(stream: MusicStream, music_frame: int, n_frames: int) -> bool:
    """Whether the block was ready at the first ask; waits (10 s at most) until it is."""
    first = stream.ready(music_frame, n_frames)
    deadline = time.monotonic() + 10
    while not stream.ready(music_frame, n_frames):
        assert time.monotonic() < deadline, music_frame
        time.sleep(0.01)
    return first


def test_asking_first_starts_the_decoders_and_reads_the_same_samples(tmp_path: Path) -> None:
    tracks = [
        Track(make_pink(tmp_path / "a.flac", 6, 0.3, (1, 2)), 6 * RATE, 0.0, "a"),
        Track(make_pink(tmp_path / "b.flac", 6, 0.3, (3, 4)), 6 * RATE, -6.0, "b"),
    ]
    crossfade = 2 * RATE
    plain = MusicStream(tracks, crossfade)
    asked = MusicStream(tracks, crossfade)
    try:
        first_asks: dict[int, bool] = {}
        for frame in range(0, 14 * RATE, BLOCK):  # past the loop back to the first track
            first_asks[frame] = wait_ready(asked, frame, BLOCK)
            assert np.array_equal(asked.read(frame, BLOCK), plain.read(frame, BLOCK)), frame
        # The first decoder was started by the first ask, so that block was not ready at once,
        # and the blocks after it were (ffmpeg decodes 4 s ahead).
        assert not first_asks[0] and first_asks[4 * BLOCK]
        # A re-read after a pause is served from what was kept: ready at once.
        assert asked.ready(5 * RATE, BLOCK)
    finally:
        plain.close()
        asked.close()


def test_prefetch_starts_decoding_before_anything_is_read(tmp_path: Path) -> None:
    track = Track(make_pink(tmp_path / "a.flac", 8, 0.3, (5, 6)), 8 * RATE, 0.0, "a")
    stream = MusicStream([track], 0)
    fresh = MusicStream([track], 0)
    try:
        stream.prefetch(2 * RATE)
        time.sleep(3.0)  # ffmpeg's start took 2.2 s at worst, on a loaded machine at nice 10
        assert stream.ready(2 * RATE, BLOCK)  # at the first ask: it had been decoding
        assert np.array_equal(stream.read(2 * RATE, BLOCK), fresh.read(2 * RATE, BLOCK))
    finally:
        stream.close()
        fresh.close()


def test_the_next_track_starts_decoding_before_it_is_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracks = [
        Track(make_pink(tmp_path / f"{name}.flac", 6, 0.3, seeds), 6 * RATE, 0.0, name)
        for name, seeds in (("a", (11, 12)), ("b", (13, 14)))
    ]
    monkeypatch.setenv("PATH", slow_ffmpeg_path(tmp_path / "bin", 1.0))
    stream = MusicStream(tracks, 2 * RATE)  # the second track comes in at 4 s
    try:
        wait_ready(stream, 0, BLOCK)
        stream.read(0, BLOCK)
        time.sleep(3.0)  # while the first track plays (and ffmpeg takes 1 s to start)
        assert stream.ready(4 * RATE, BLOCK)  # at the first ask
    finally:
        stream.close()


def test_asking_never_waits_for_ffmpeg_even_mid_track(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    track = Track(make_pink(tmp_path / "a.flac", 8, 0.3, (9, 10)), 8 * RATE, 0.0, "a")
    monkeypatch.setenv("PATH", slow_ffmpeg_path(tmp_path / "bin", 2.0))
    stream = MusicStream([track], 0)
    try:
        for frame in (0, 100, 3 * RATE):  # a decoder started mid-track skips a lead-in
            stream.close()
            asked = time.monotonic()
            assert not stream.ready(frame, BLOCK)
            assert time.monotonic() - asked < 1.0, frame
    finally:
        stream.close()


def test_the_end_of_a_file_survives_a_long_wait_with_the_queue_full(tmp_path: Path) -> None:
    # 4.4 s: 17 whole chunks and a short one, one more than the queue holds. Reads paced so
    # that the end marker meets a full queue and waits there longer than a second (a pause).
    frames = round(4.4 * RATE)
    decoder = Decoder(make_pink(tmp_path / "short.flac", 4.4, 0.3, (7, 8)))
    got: list[int] = []
    try:
        time.sleep(0.5)  # 16 chunks queued; the reader waits to put the 17th
        decoder.read(CHUNK_FRAMES)
        time.sleep(0.3)  # the 17th went in; the short last chunk waits for room
        decoder.read(CHUNK_FRAMES)  # it goes in, and the end marker finds the queue full
        time.sleep(1.5)
        reader = threading.Thread(
            target=lambda: got.append(len(decoder.read(100 * CHUNK_FRAMES))), daemon=True
        )
        reader.start()
        reader.join(10)
        assert got == [frames - 2 * CHUNK_FRAMES]  # the rest, then the end: no wait for ever
    finally:
        decoder.close()
