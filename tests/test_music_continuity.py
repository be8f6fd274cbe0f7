"""Music across separate music steps continues where it stopped; the same plan always gives
the same music; re-reading the stream (history, or a new decoder after a seek) is exact.

The source is a pair of slow frequency sweeps (up on the left, down on the right), so every
position in it is unambiguous.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voiceguide.mix.envelope import MusicEnvelope
from voiceguide.music.playlists.resolve import resolve_tracks
from voiceguide.music.stream import MusicStream
from voiceguide.paths import Paths

from audio_helpers import find_clip
from test_music_formats import (
    decode_pcm,
    demo_session,
    expected_music,
    ffmpeg,
    full_level_mask,
    music_only,
)

RATE = 44_100
SWEEP_SECONDS = 50


def make_sweeps(path: Path, seconds: int = SWEEP_SECONDS) -> Path:
    """Left: 100 Hz rising to 3 kHz over `seconds`; right: 3 kHz falling to 100 Hz."""
    k = (3000 - 100) / (2 * seconds)
    source = (
        f"aevalsrc=0.3*sin(2*PI*(100*t+{k}*t*t))|0.3*sin(2*PI*(3000*t-{k}*t*t))"
        f":s={RATE}:d={seconds}"
    )
    ffmpeg("-f", "lavfi", "-i", source, "-y", str(path))
    return path


@pytest.fixture
def sweeps(tmp_path: Path) -> Path:
    return make_sweeps(tmp_path / "sweeps.flac")


def test_second_span_starts_where_the_first_stopped(sweeps: Path) -> None:
    session, _ = demo_session(str(sweeps))
    plan = session.plan
    first, second = plan.music_spans
    assert second.start_frame - first.end_frame > 5 * RATE  # a real break (step 3)
    stopped_at = first.music_frame + first.end_frame - first.start_frame
    (track,) = session.music.tracks
    assert stopped_at + 10 * RATE < track.duration_frames  # no loop point nearby
    music = music_only(session).render(0, plan.total_frames)
    envelope = MusicEnvelope(plan)
    session.close()
    pcm = decode_pcm(sweeps)

    # Where in the source is what plays at the start of the second span, and at the end of
    # the first? Found by correlation on the sweep (independent of any plan number).
    n = 2 * RATE
    opening = music[second.start_frame : second.start_frame + n, 0]
    found, score = find_clip(pcm[:, 0], opening, stopped_at, search=10 * RATE)
    assert found == stopped_at, (found - stopped_at) / RATE
    assert score > 0.7  # below 1 only because the fade-in from silence shapes the clip
    closing = music[first.end_frame - n : first.end_frame, 0]
    found, score = find_clip(pcm[:, 0], closing, stopped_at - n, search=10 * RATE)
    assert found == stopped_at - n, (found - stopped_at + n) / RATE
    assert score > 0.8

    # Sample by sample: with the envelope (fade, duck) divided out, the first 3 s of the second
    # span are the source from exactly the frame where the first span stopped.
    gain = 10 ** (track.gain_db / 20) * 32767 / 32768
    n = 3 * RATE
    env = envelope.gain(second.start_frame, n).astype(np.float64)
    got = music[second.start_frame : second.start_frame + n].astype(np.float64)
    want = pcm[stopped_at : stopped_at + n].astype(np.float64) * gain * env[:, None]
    assert np.abs(got - want).max() <= 1.0
    # ... and the last 2 s of the first span are the source up to that frame.
    n = 2 * RATE
    env = envelope.gain(first.end_frame - n, n).astype(np.float64)
    got = music[first.end_frame - n : first.end_frame].astype(np.float64)
    want = pcm[stopped_at - n : stopped_at].astype(np.float64) * gain * env[:, None]
    assert np.abs(got - want).max() <= 1.0
    # The comparison is not trivially met: a plain level is reached within the compared part.
    assert np.abs(got).max() > 500


def test_without_fades_the_spans_join_into_one_uninterrupted_source(sweeps: Path) -> None:
    session, _ = demo_session(str(sweeps))
    flat = replace(
        session.settings, music_fade_in_seconds=0.0, music_fade_out_seconds=0.0, duck_db=0.0
    )
    plan = session.replan(flat)
    music = music_only(session).render(0, plan.total_frames)
    (track,) = session.music.tracks
    session.close()
    joined = np.concatenate([music[s.start_frame : s.end_frame] for s in plan.music_spans])
    first = plan.music_spans[0]
    assert len(joined) > first.end_frame - first.start_frame + 10 * RATE
    pcm = decode_pcm(sweeps)
    gain = 10 ** (track.gain_db / 20) * 32767 / 32768
    want = pcm[: len(joined)].astype(np.float64) * gain
    # The music of both spans, with the break cut out, is the source played once: no frame
    # skipped, none repeated, the same at the join as anywhere else.
    assert np.abs(joined.astype(np.float64) - want).max() <= 1.0
    join = first.end_frame - first.start_frame
    assert np.abs(joined[join - 1 : join + 1] - want[join - 1 : join + 1]).max() <= 1.0


@pytest.mark.parametrize("suffix", [".flac", ".mp3"])
def test_the_same_plan_renders_the_same_music(tmp_path: Path, suffix: str) -> None:
    source = make_sweeps(tmp_path / f"sweeps{suffix}", seconds=30)
    renders = []
    for _ in range(2):
        session, _ = demo_session(str(source))
        renders.append(music_only(session).render(0, session.plan.total_frames))
        session.close()
    assert renders[0].tobytes() == renders[1].tobytes()
    assert np.abs(renders[0]).max() > 1000

    # Spans rendered on their own and in reverse order: the second span comes first, so the
    # stream starts in mid-file (a decoder started with a seek), then goes back to the start.
    session, _ = demo_session(str(source))
    renderer = music_only(session)
    for span in reversed(session.plan.music_spans):
        n = span.end_frame - span.start_frame
        alone = renderer.render(span.start_frame, n)
        assert alone.tobytes() == renders[0][span.start_frame : span.end_frame].tobytes()
    session.close()

    # Starting where the music plays at full level (as a session started part-way would):
    # the very first frames after the seek are already the right ones.
    session, _ = demo_session(str(source))
    start = int(np.flatnonzero(full_level_mask(session.plan))[-1]) - RATE
    alone = music_only(session).render(start, RATE)
    session.close()
    assert np.abs(alone).max() > 1000
    assert alone.tobytes() == renders[0][start : start + RATE].tobytes()


@pytest.mark.parametrize("suffix", [".flac", ".mp3", ".ogg", ".m4a", ".opus"])
def test_rereads_return_identical_samples(tmp_path: Path, suffix: str) -> None:
    source = make_sweeps(tmp_path / f"sweeps{suffix}", seconds=40)
    tracks, warnings = resolve_tracks(source, Paths.from_environment())
    assert warnings == [] and len(tracks) == 1
    crossfade = 3 * RATE

    reference_stream = MusicStream(tracks, crossfade)
    reference = reference_stream.read(0, 60 * RATE)  # one read, start to end: the reference
    reference_stream.close()
    # The reference is the source, looped with a crossfade at 37-40 s, at the track's gain.
    model = expected_music([decode_pcm(source)], tracks, crossfade, 0, 60 * RATE)
    assert np.abs(reference - model).max() * 32768 < 0.01

    # Bit-identical, except AAC: its float decoder may round a sample the other way after a
    # seek (at most 1 LSB of the 16-bit decode; before seeks had a pre-roll it was garbage).
    (track,) = tracks
    tolerance = 1.001 * 10 ** (track.gain_db / 20) / 32768 if suffix == ".m4a" else 0.0

    def same(stream: MusicStream, start_s: float, end_s: float, block: int) -> None:
        a, b = round(start_s * RATE), round(end_s * RATE)
        got = np.concatenate([stream.read(f, min(block, b - f)) for f in range(a, b, block)])
        assert np.abs(got - reference[a:b]).max() <= tolerance, (start_s, end_s, block)

    stream = MusicStream(tracks, crossfade)
    same(stream, 0, 48, 9973)  # ahead, in odd blocks, across the loop point
    same(stream, 20, 45, 4410)  # back, inside the last 30 s: served from the history
    same(stream, 19, 19.5, 1)  # frame by frame
    same(stream, 45, 52, 22050)  # partly held, partly new
    same(stream, 2, 8, 5000)  # older than the history: decoded again from a seek
    same(stream, 55, 60, 7000)  # far ahead of the last read: another seek
    same(stream, 30, 31, 3000)  # and back into the second play of the track
    stream.close()
