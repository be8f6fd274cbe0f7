"""Track changes: two tracks 12 dB apart play at one loudness through a 3 s equal-power
crossfade (BS.1770 short-term loudness by ffmpeg's ebur128), and a crossfade of 0 is a hard
cut with no gap."""

from __future__ import annotations

import re
import subprocess
import wave
from pathlib import Path

import numpy as np

from voiceguide.config import Config

from test_music_formats import (
    decode_pcm,
    demo_session,
    expected_music,
    full_level_mask,
    integrated_lufs,
    make_pink,
    make_stereo,
    music_only,
)

RATE = 44_100
TARGET_LUFS = Config().music_loudness_lufs
_FRAME_LOG = re.compile(r"\bt:\s*([0-9.]+)\s.*?\bS:\s*(-?[0-9.]+)")


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(samples.astype("<i2").tobytes())
    return path


def short_term_loudness(path: Path) -> list[tuple[float, float]]:
    """(t, S) every 100 ms: ffmpeg's BS.1770 short-term loudness of the 3 s ending at t."""
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-v", "verbose", "-i", str(path),
         "-af", "ebur128=framelog=verbose", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    values = [(float(t), float(s)) for t, s in _FRAME_LOG.findall(done.stderr)]
    assert len(values) > 100, done.stderr[-2000:]
    return values


def test_loudness_stays_on_target_through_a_crossfade_between_tracks_12_db_apart(
    tmp_path: Path,
) -> None:
    loud = make_pink(tmp_path / "loud.flac", 28, 0.5, (1, 2))
    quiet = make_pink(tmp_path / "quiet.flac", 30, 0.125, (3, 4))
    difference = integrated_lufs(loud) - integrated_lufs(quiet)
    assert 11.0 < difference < 13.0, difference  # the files really are 12 dB apart
    playlist = tmp_path / "mix.m3u8"
    playlist.write_text("#EXTM3U\nloud.flac\nquiet.flac\n", encoding="utf-8")

    # No ducking, so that only span fades and the track change move the level.
    session, warnings = demo_session(str(playlist), Config(duck_db=0.0))
    assert warnings == []
    plan, stream = session.plan, session.music
    assert stream.crossfade_frames == 3 * RATE
    assert [t.path.name for t in stream.tracks] == ["loud.flac", "quiet.flac"]
    first_track = stream.tracks[0]
    music = music_only(session).render(0, plan.total_frames)
    session.close()

    # The change (music 25-28 s) falls well inside the second span.
    span = plan.music_spans[1]
    change_start = span.start_frame + first_track.duration_frames - 3 * RATE - span.music_frame
    change_end = change_start + 3 * RATE
    full_from = span.start_frame + plan.music_fade_in_frames
    full_to = span.end_frame - plan.music_fade_out_frames
    assert full_from + 3 * RATE < change_start and change_end + 3 * RATE < full_to

    # Sample by sample, the change is the equal-power crossfade of the two gained tracks.
    sources = [decode_pcm(loud), decode_pcm(quiet)]
    model = expected_music(
        sources, stream.tracks, 3 * RATE, span.music_frame, span.end_frame - span.start_frame
    )
    keep = full_level_mask(plan)[span.start_frame : span.end_frame]
    got = music[span.start_frame : span.end_frame][keep].astype(np.float64)
    assert np.abs(got - model[keep] * 32767).max() <= 1.0

    # Short-term loudness (3 s windows) of every window inside a span's full-level part.
    measured = short_term_loudness(write_wav(tmp_path / "music.wav", music))
    inside = []
    for s in plan.music_spans:
        a = (s.start_frame + plan.music_fade_in_frames) / RATE
        b = (s.end_frame - plan.music_fade_out_frames) / RATE
        inside += [(t, value) for t, value in measured if a + 0.1 <= t - 3 and t <= b - 0.1]
    times = [t for t, _ in inside]
    # Windows before, across and after the whole crossfade are among them.
    assert min(times) < change_start / RATE and max(times) > change_end / RATE + 3
    across = [v for t, v in inside if change_start / RATE < t < change_end / RATE + 3]
    assert len(across) >= 55  # every window that holds any of the crossfade (6 s of them)
    deviation = max(abs(value - TARGET_LUFS) for _, value in inside)
    deviation_across = max(abs(value - TARGET_LUFS) for value in across)
    print(
        f"short-term loudness: {len(inside)} windows, max deviation {deviation:.1f} LU"
        f" ({deviation_across:.1f} LU in the {len(across)} windows across the change)"
    )
    assert deviation <= 2.0, inside
    before = [v for t, v in inside if change_start / RATE - 6 <= t <= change_start / RATE]
    after = [v for t, v in inside if change_end / RATE + 3 <= t <= change_end / RATE + 6]
    assert abs(np.mean(before) - np.mean(after)) < 1.0, (before, after)


def test_a_crossfade_of_zero_is_a_hard_cut_without_a_gap(tmp_path: Path) -> None:
    first = make_stereo(tmp_path / "one.flac", seconds=7)
    second = make_pink(tmp_path / "two.flac", 6, 0.3, (5, 6))
    playlist = tmp_path / "cut.m3u8"
    playlist.write_text("one.flac\ntwo.flac\n", encoding="utf-8")
    session, warnings = demo_session(str(playlist), Config(crossfade_seconds=0.0))
    assert warnings == []
    stream = session.music
    assert stream.crossfade_frames == 0
    one, two = stream.tracks
    assert one.duration_frames == 7 * RATE and two.duration_frames == 6 * RATE

    # Read like a session does, across both changes: one -> two, and two -> one (the loop).
    total = one.duration_frames + two.duration_frames + RATE
    block = 4096
    got = np.concatenate([stream.read(f, min(block, total - f)) for f in range(0, total, block)])
    session.close()
    pcm_one, pcm_two = decode_pcm(first), decode_pcm(second)
    gain_one = 10 ** (one.gain_db / 20) / 32768
    gain_two = 10 ** (two.gain_db / 20) / 32768
    want = np.concatenate([pcm_one * gain_one, pcm_two * gain_two, pcm_one[:RATE] * gain_one])
    assert np.abs(got - want).max() < 1e-6
    cut = one.duration_frames
    # The frame after track one's last is track two's first; nothing silent in between.
    assert np.abs(got[cut - 1] - pcm_one[-1] * gain_one).max() < 1e-6
    assert np.abs(got[cut] - pcm_two[0] * gain_two).max() < 1e-6
    loop = cut + two.duration_frames
    assert np.abs(got[loop] - pcm_one[0] * gain_one).max() < 1e-6
    silent = np.all(got[cut - RATE // 10 : cut + RATE // 10] == 0, axis=1)
    assert not silent.any()


def test_a_hard_cut_between_mp3_tracks_has_no_gap(tmp_path: Path) -> None:
    first = make_stereo(tmp_path / "one.mp3", seconds=7)
    make_pink(tmp_path / "two.mp3", 6, 0.3, (5, 6))
    playlist = tmp_path / "cut.m3u8"
    playlist.write_text("one.mp3\ntwo.mp3\n", encoding="utf-8")
    session, _ = demo_session(str(playlist), Config(crossfade_seconds=0.0))
    stream = session.music
    one = stream.tracks[0]
    decoded = len(decode_pcm(first))
    got = stream.read(0, one.duration_frames + RATE)
    session.close()
    around = got[decoded - RATE // 10 : decoded + RATE // 10]
    gap = int(np.all(around == 0, axis=1).sum())
    assert gap == 0, f"{gap} silent frames ({gap / RATE * 1000:.0f} ms) at the cut"
    assert one.duration_frames == decoded, (one.duration_frames, decoded)
