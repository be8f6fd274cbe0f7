"""A live reader asks the music stream whether a block is decoded before reading it: asking
starts the decoders a block needs and never changes the samples it reads."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from voiceguide.music.stream import MusicStream
from voiceguide.music.track import Track

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


def test_asking_first_starts_each_track_and_reads_the_same_samples(tmp_path: Path) -> None:
    tracks = [
        Track(make_pink(tmp_path / "a.flac", 6, 0.3, (1, 2)), 6 * RATE, 0.0, "a"),
        Track(make_pink(tmp_path / "b.flac", 6, 0.3, (3, 4)), 6 * RATE, -6.0, "b"),
    ]
    crossfade = 2 * RATE
    plain = MusicStream(tracks, crossfade)
    asked = MusicStream(tracks, crossfade)
    try:
        second_starts = 6 * RATE - crossfade
        first_asks: dict[int, bool] = {}
        for frame in range(0, 14 * RATE, BLOCK):  # past the loop back to the first track
            first_asks[frame] = wait_ready(asked, frame, BLOCK)
            assert np.array_equal(asked.read(frame, BLOCK), plain.read(frame, BLOCK)), frame
        # Each decoder was started by the ask for its first block, not before: that block was
        # not ready at once, and the blocks after it were (ffmpeg decodes 4 s ahead).
        starts = [0, second_starts // BLOCK * BLOCK, (2 * second_starts) // BLOCK * BLOCK]
        assert [first_asks[f] for f in starts] == [False, False, False]
        assert first_asks[starts[1] + 4 * BLOCK] and first_asks[starts[0] + 4 * BLOCK]
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
